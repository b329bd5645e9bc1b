from datetime import UTC, datetime

from teleplex.center.hours import is_open

WEEK = [{"day": d, "open": "09:00", "close": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")]


def test_open_inside_local_hours():
    # 14:00 UTC is 09:00 in Guayaquil (UTC-5), a Monday
    assert is_open("America/Guayaquil", WEEK, [], datetime(2026, 1, 5, 14, 0, tzinfo=UTC))


def test_closed_before_local_opening():
    assert not is_open("America/Guayaquil", WEEK, [], datetime(2026, 1, 5, 13, 59, tzinfo=UTC))


def test_close_time_is_exclusive():
    assert not is_open("America/Guayaquil", WEEK, [], datetime(2026, 1, 5, 22, 0, tzinfo=UTC))


def test_closed_on_weekend():
    assert not is_open("America/Guayaquil", WEEK, [], datetime(2026, 1, 10, 15, 0, tzinfo=UTC))


def test_closed_on_holiday_in_local_date():
    holidays = [{"date": "2026-01-05", "name": "x"}]
    assert not is_open("America/Guayaquil", WEEK, holidays, datetime(2026, 1, 5, 15, 0, tzinfo=UTC))


def test_until_midnight_span():
    week = [{"day": "mon", "open": "20:00", "close": "24:00"}]
    assert is_open("UTC", week, [], datetime(2026, 1, 5, 23, 59, tzinfo=UTC))
    assert not is_open("UTC", week, [], datetime(2026, 1, 6, 0, 0, tzinfo=UTC))
