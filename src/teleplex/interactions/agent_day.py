"""An agent's figures for their day so far ("my day"), computed from the stored records.

Pure: it is given the records and the time, and does no I/O, so the sums are tested without a database.
The day starts at local midnight in the agent's time zone; a state begun before midnight counts from then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

# Offers that went away for a reason that is not the agent's: not counted as missed.
NOT_MISSED = frozenset({"logout", "pause", "transferred", "abandoned", "restart", "too_late"})


@dataclass(frozen=True)
class HandledRecord:
    """An interaction the agent answered and finished (a call ended, a conversation resolved)."""

    channel: str
    direction: str
    outcome: str | None
    ended_at: datetime
    talk_seconds: float | None
    hold_seconds: float | None
    wrapup_seconds: float | None


@dataclass(frozen=True)
class StateRecord:
    """One presence change of the agent (agent_state_changes)."""

    at: datetime
    state: str
    reason: str | None


@dataclass(frozen=True)
class OfferFailure:
    """An offer that did not become the agent's (interaction event `offer_failed`)."""

    at: datetime
    reason: str | None


def day_start(now: datetime, timezone: str) -> datetime:
    """Local midnight of `now`'s day in `timezone` (an unknown zone counts as UTC), as an aware datetime."""
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def _state_durations(
    states: Iterable[StateRecord], start: datetime, now: datetime
) -> dict[tuple[str, str | None], float]:
    """Seconds in each (state, pause reason) from start to now; the last change before start sets the first
    state."""
    ordered = sorted(states, key=lambda s: s.at)
    totals: dict[tuple[str, str | None], float] = {}
    for i, change in enumerate(ordered):
        until = ordered[i + 1].at if i + 1 < len(ordered) else now
        begin, end = max(change.at, start), min(until, now)
        if end <= begin:
            continue
        key = (change.state, change.reason if change.state == "paused" else None)
        totals[key] = totals.get(key, 0.0) + (end - begin).total_seconds()
    return totals


def _average(total: float, count: int) -> float | None:
    return round(total / count, 1) if count else None


def figures(
    *,
    now: datetime,
    timezone: str,
    handled: Iterable[HandledRecord],
    states: Iterable[StateRecord],
    offer_failures: Iterable[OfferFailure],
) -> dict[str, Any]:
    """The day's figures; records from before the day's start (but the state then in force) are ignored."""
    start = day_start(now, timezone)
    today = [h for h in handled if start <= h.ended_at <= now]
    by_channel: dict[str, int] = {}
    talk = handle = 0.0
    for h in today:
        by_channel[h.channel] = by_channel.get(h.channel, 0) + 1
        spoken = h.talk_seconds or 0.0
        talk += spoken
        handle += spoken + (h.hold_seconds or 0.0) + (h.wrapup_seconds or 0.0)
    durations = _state_durations(states, start, now)
    pauses: dict[str, float] = {}
    for (state, reason), seconds in durations.items():
        if state == "paused":
            name = reason or ""
            pauses[name] = pauses.get(name, 0.0) + seconds
    logged_in = sum(s for (state, _), s in durations.items() if state != "logged_out")
    missed = sum(1 for f in offer_failures if start <= f.at <= now and (f.reason or "") not in NOT_MISSED)
    return {
        "since": start,
        "timezone": str(start.tzinfo),
        "handled_total": len(today),
        "handled_by_channel": dict(sorted(by_channel.items())),
        "talk_seconds": round(talk, 1),
        "average_talk_seconds": _average(talk, len(today)),
        "handle_seconds": round(handle, 1),
        "average_handle_seconds": _average(handle, len(today)),
        "ready_seconds": round(durations.get(("ready", None), 0.0), 1),
        "pause_seconds": round(sum(pauses.values()), 1),
        "pause_by_reason": [{"reason": r, "seconds": round(s, 1)} for r, s in sorted(pauses.items())],
        "logged_in_seconds": round(logged_in, 1),
        "missed_offers": missed,
    }
