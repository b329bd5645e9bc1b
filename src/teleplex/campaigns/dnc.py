"""Do-not-call matching, pure: which stored entries block a number for a campaign."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from teleplex.contacts.identities import normalise_phone


@dataclass(frozen=True)
class Entry:
    number: str  # E.164
    campaign_id: int | None  # None: the global list, which blocks every campaign


def normalise(raw: str, region: str) -> str | None:
    """E.164 for any possible number, as profiles store them. Looser than lead import on purpose: blocking
    too much is safe."""
    return normalise_phone(raw, region)


def scope_key(campaign_id: int | None) -> str:
    """A non-null key for uniqueness: SQL treats NULLs as distinct, so (number, NULL) could repeat."""
    return "global" if campaign_id is None else f"campaign:{campaign_id}"


def blocking(entries: Iterable[Entry], number: str, campaign_id: int | None) -> list[Entry]:
    """The entries that forbid calling `number` in `campaign_id`: the global ones and the campaign's own."""
    return [e for e in entries if e.number == number and (e.campaign_id is None or e.campaign_id == campaign_id)]
