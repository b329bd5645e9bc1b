"""Calling windows in the lead's own local time: pure, so the dialer, the progress figures and tests agree.

Rule (see docs/campaigns.md): a lead may be called when its local time lies in one of the campaign's
windows and, unless the administrator set `allow_outside_legal_hours`, also between 08:00 and 21:00 local
(the US TSR hours, which also fit Ofcom's guidance). A lead with several candidate zones (a number that does
not pin one down) is called only when every candidate zone is inside: the caller never guesses in its favour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LEGAL_FROM = time(8, 0)
LEGAL_UNTIL = time(21, 0)
DEFAULT_WINDOWS: list[dict[str, Any]] = [{"days": list(DAYS), "start": "09:00", "end": "21:00"}]


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time  # exclusive; time(0, 0) with start > end is not allowed: windows do not cross midnight


def parse_clock(text: str) -> time:
    return time(0, 0) if text == "24:00" else time.fromisoformat(text)


def windows_from(spec: Iterable[Mapping[str, Any]]) -> list[Window]:
    """The stored JSON shape ([{"days": ["mon"], "start": "09:00", "end": "21:00"}]) as Window objects."""
    out = []
    for w in spec:
        end = time(23, 59, 59, 999999) if w["end"] == "24:00" else parse_clock(w["end"])
        out.append(Window(frozenset(DAYS.index(d) for d in w["days"]), parse_clock(w["start"]), end))
    return out


def outside_legal_hours(spec: Iterable[Mapping[str, Any]]) -> list[str]:
    """Human descriptions of the windows that reach before 08:00 or after 21:00."""
    bad = []
    for w in spec:
        if parse_clock(w["start"]) < LEGAL_FROM or w["end"] == "24:00" or parse_clock(w["end"]) > LEGAL_UNTIL:
            bad.append(f"{w['start']}-{w['end']}")
    return bad


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def open_in_zone(at: datetime, zone: str, windows: Sequence[Window], allow_outside_legal: bool = False) -> bool:
    """True when the wall clock in `zone` at the instant `at` is inside a window (DST handled by zoneinfo)."""
    local = at.astimezone(_zone(zone))
    clock = local.time().replace(tzinfo=None)
    if not allow_outside_legal and not (LEGAL_FROM <= clock < LEGAL_UNTIL):
        return False
    return any(local.weekday() in w.days and w.start <= clock < w.end for w in windows)


def callable_now(at: datetime, zones: Sequence[str], fallback_zone: str, windows: Sequence[Window],
                 allow_outside_legal: bool = False) -> bool:
    """Whether a lead whose number lies in `zones` (empty: unknown, use the campaign's zone) may be called."""
    candidates = zones or (fallback_zone,)
    return all(open_in_zone(at, z, windows, allow_outside_legal) for z in candidates)
