"""The "my day" figures: counted from local midnight in the agent's zone, from the records alone."""

from datetime import UTC, datetime, timedelta

from teleplex.interactions.agent_day import HandledRecord, OfferFailure, StateRecord, day_start, figures

# 15:00 UTC on 5 January is 10:00 in Guayaquil (UTC-5): the local day began at 05:00 UTC.
NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
ZONE = "America/Guayaquil"
MIDNIGHT = datetime(2026, 1, 5, 5, 0, tzinfo=UTC)


def at(hour: float) -> datetime:
    return MIDNIGHT + timedelta(hours=hour)


def handled(channel: str, ended: datetime, talk: float, hold: float = 0.0,
            wrapup: float | None = None) -> HandledRecord:  # fmt: skip
    outcome = "answered" if channel == "voice" else "resolved"
    return HandledRecord(channel, "inbound", outcome, ended, talk, hold, wrapup)


def day(**records: list) -> dict:
    return figures(now=NOW, timezone=ZONE, handled=records.get("handled", []), states=records.get("states", []),
                   offer_failures=records.get("offers", []))  # fmt: skip


def test_day_starts_at_local_midnight():
    assert day_start(NOW, ZONE) == MIDNIGHT
    assert day_start(datetime(2026, 1, 5, 4, 59, tzinfo=UTC), ZONE) == MIDNIGHT - timedelta(days=1)


def test_unknown_zone_counts_as_utc():
    assert day_start(NOW, "Nowhere/Atlantis") == datetime(2026, 1, 5, tzinfo=UTC)


def test_counts_by_channel_and_ignores_yesterday():
    result = day(handled=[
        handled("voice", at(1), 100, hold=20, wrapup=30),
        handled("voice", at(2), 200),
        handled("webchat", at(3), 60),
        handled("voice", at(-1), 999),  # ended before local midnight
    ])  # fmt: skip
    assert result["handled_total"] == 3
    assert result["handled_by_channel"] == {"voice": 2, "webchat": 1}
    assert result["talk_seconds"] == 360
    assert result["average_talk_seconds"] == 120
    assert result["handle_seconds"] == 410  # talk + hold + wrap-up
    assert result["average_handle_seconds"] == round(410 / 3, 1)


def test_nothing_handled_has_no_average():
    result = day()
    assert result["handled_total"] == 0 and result["average_talk_seconds"] is None


def test_time_in_states_clipped_to_midnight_and_now():
    result = day(states=[
        StateRecord(at(-2), "ready", None),  # ready since before midnight: counts from midnight
        StateRecord(at(1), "paused", "Lunch"),
        StateRecord(at(1.5), "ready", None),
        StateRecord(at(2), "paused", "Break"),
        StateRecord(at(2.25), "on_call", None),
        StateRecord(at(3), "paused", "Lunch"),
    ])  # fmt: skip
    assert result["ready_seconds"] == 1.5 * 3600
    assert result["pause_by_reason"] == [
        {"reason": "Break", "seconds": 900.0}, {"reason": "Lunch", "seconds": 1800 + 7 * 3600}]
    assert result["pause_seconds"] == 900 + 1800 + 7 * 3600
    assert result["logged_in_seconds"] == 10 * 3600


def test_logged_out_time_is_not_logged_in():
    result = day(states=[StateRecord(at(8), "ready", None), StateRecord(at(9), "logged_out", None)])
    assert result["logged_in_seconds"] == 3600 and result["ready_seconds"] == 3600


def test_missed_offers_only_the_agents_own():
    result = day(offers=[
        OfferFailure(at(1), "no_answer"),
        OfferFailure(at(2), "declined"),
        OfferFailure(at(3), "abandoned"),  # the caller hung up: not the agent's miss
        OfferFailure(at(4), "pause"),
        OfferFailure(at(-1), "no_answer"),  # yesterday
    ])  # fmt: skip
    assert result["missed_offers"] == 2
