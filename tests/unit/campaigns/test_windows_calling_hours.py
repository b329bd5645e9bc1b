"""Calling windows in the lead's local time, across time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, strategies as st

from teleplex.campaigns.windows import DEFAULT_WINDOWS, callable_now, open_in_zone, outside_legal_hours, windows_from

DEFAULT = windows_from(DEFAULT_WINDOWS)
WEEKDAYS = windows_from([{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "10:00", "end": "13:00"},
                         {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "14:00", "end": "20:00"}])  # fmt: skip


def test_the_same_instant_is_callable_in_one_zone_and_not_another():
    at = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)  # 09:30 New York, 06:30 Los Angeles
    assert open_in_zone(at, "America/New_York", DEFAULT)
    assert not open_in_zone(at, "America/Los_Angeles", DEFAULT)


def test_windows_follow_daylight_saving_time():
    # New York: 13:00 UTC is 08:00 in winter (EST) and 09:00 in summer (EDT).
    winter = datetime(2026, 3, 6, 13, 0, tzinfo=UTC)
    summer = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # after the switch on 8 March 2026
    assert not open_in_zone(winter, "America/New_York", DEFAULT)
    assert open_in_zone(summer, "America/New_York", DEFAULT)


def test_the_weekday_is_the_local_one():
    # Friday 23:30 UTC is Saturday 08:30 in Sydney: closed by a weekday-only window.
    at = datetime(2026, 1, 9, 23, 30, tzinfo=UTC)
    assert not open_in_zone(at, "Australia/Sydney", WEEKDAYS)
    assert open_in_zone(datetime(2026, 1, 8, 23, 30, tzinfo=UTC), "Australia/Sydney", WEEKDAYS)  # Fri 10:30


def test_a_lunch_gap_between_two_windows_is_closed():
    at = datetime(2026, 1, 5, 13, 30, tzinfo=UTC)
    assert not open_in_zone(at, "UTC", WEEKDAYS)
    assert open_in_zone(at + timedelta(hours=1), "UTC", WEEKDAYS)


def test_legal_hours_cap_every_window_unless_explicitly_allowed():
    wide = windows_from([{"days": ["mon"], "start": "06:00", "end": "23:00"}])
    at = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    assert not open_in_zone(at, "UTC", wide)
    assert open_in_zone(at, "UTC", wide, allow_outside_legal=True)
    assert outside_legal_hours([{"days": ["mon"], "start": "06:00", "end": "23:00"}]) == ["06:00-23:00"]
    assert outside_legal_hours(DEFAULT_WINDOWS) == []


def test_several_candidate_zones_must_all_be_open():
    at = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    assert not callable_now(at, ["America/New_York", "America/Los_Angeles"], "UTC", DEFAULT)
    assert callable_now(at + timedelta(hours=3), ["America/New_York", "America/Los_Angeles"], "UTC", DEFAULT)


def test_an_unknown_zone_falls_back_to_the_campaigns():
    at = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    assert callable_now(at, [], "America/New_York", DEFAULT)
    assert not callable_now(at, [], "America/Los_Angeles", DEFAULT)


ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Australia/Sydney", "Asia/Kolkata",
         "America/Guayaquil", "Pacific/Chatham", "Europe/Madrid"]  # fmt: skip


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(ZONES),
)
def test_never_callable_before_eight_or_after_nine_local(at, zone):
    from zoneinfo import ZoneInfo

    every_hour = windows_from([{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                "start": "00:00", "end": "24:00"}])  # fmt: skip
    local = at.astimezone(ZoneInfo(zone))
    if open_in_zone(at, zone, every_hour):
        assert 8 <= local.hour < 21
