"""Whether a schedule is open at an instant: pure, so the voice engine and tests ask the same question."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_open(
    timezone: str, weekly: Iterable[Mapping[str, Any]], holidays: Iterable[Mapping[str, Any]], at: datetime
) -> bool:
    """True when `at` (aware) falls in an opening span of its local weekday and is not a holiday."""
    local = at.astimezone(ZoneInfo(timezone))
    if any(str(h["date"]) == local.date().isoformat() for h in holidays):
        return False
    day, hhmm = DAYS[local.weekday()], local.strftime("%H:%M")
    return any(span["day"] == day and span["open"] <= hhmm < span["close"] for span in weekly)
