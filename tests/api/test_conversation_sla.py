"""The first-response service level of conversations, in virtual time: a customer waiting past the queue's
target raises one event on the stream (in the queue's scope), the queue's overdue count shows in /live, and
the agent's first reply (or a resolution) clears it."""

from __future__ import annotations

from typing import Any

from test_conversations import Center, _conversation, _setup, center  # noqa: F401 - fixture

from fakes.harness import fixture_bytes, graph, graph_server  # noqa: F401 - fixtures
from teleplex.engine.first_response import FirstResponseWatch

OVERDUE = "conversation.first_response_overdue"
CLEARED = "conversation.first_response_overdue_cleared"


def _subscribe(c: Center) -> Any:
    return c.app.state.bus.subscribe(lambda e: e.type in (OVERDUE, CLEARED))


def _events(sub: Any) -> list[Any]:
    out = []
    while not sub.queue.empty():
        out.append(sub.queue.get_nowait())
    return out


async def _tick(c: Center) -> None:
    """What the engine's timer loop does when a deadline comes (the fake clock does not wake it)."""
    engine = c.app.state.engine
    async with engine.serial():
        await engine.tick()


async def _overdue(c: Center, queue_id: int, headers: dict[str, str] | None = None) -> int:
    live = (await c.get("live", headers)).json()
    return next(q["first_response_overdue"] for q in live["queues"] if q["queue_id"] == queue_id)


async def _waiting_conversation(c: Center, channel_id: int, state: str = "offered") -> dict:
    assert (await c.whatsapp(channel_id, fixture_bytes("whatsapp", "text"))).status_code == 200
    conversation = await c.until(lambda: _conversation(c, state), f"the conversation to be {state}")

    async def watched() -> bool:
        return c.app.state.chat.first_response.next_deadline() is not None

    await c.until(watched, "the first-response clock to run")
    return conversation


async def test_a_customer_waiting_past_the_target_raises_one_alarm_until_the_agent_answers(center: Center,
                                                                                         clock) -> None:  # fmt: skip
    q, agent, me, channel = await _setup(center, service_level_seconds=30)
    sup = await center.user("sup", "supervisor", supervised_queue_ids=[q["id"]])
    sub = _subscribe(center)
    conversation = await _waiting_conversation(center, channel["id"])

    clock.advance(29)
    await _tick(center)
    assert _events(sub) == [] and await _overdue(center, q["id"]) == 0

    clock.advance(2)
    await _tick(center)
    (alarm,) = _events(sub)
    assert alarm.type == OVERDUE and alarm.queue_id == q["id"]  # the queue's supervisors see it
    assert alarm.data["interaction_id"] == conversation["id"] and alarm.data["target_s"] == 30
    assert alarm.data["overdue_s"] == 1.0 and alarm.data["channel"] == "whatsapp"
    assert await _overdue(center, q["id"], sup) == 1

    clock.advance(600)
    await _tick(center)
    assert _events(sub) == []  # once per conversation
    assert await _overdue(center, q["id"]) == 1

    assert (await center.post(f"conversations/{conversation['id']}/accept", None, me)).status_code == 204
    assert await _overdue(center, q["id"]) == 1  # accepting is not answering
    r = await center.post(f"conversations/{conversation['id']}/reply", {"text": "Sorry for the wait!"}, me)
    assert r.status_code == 201, r.text
    (cleared,) = _events(sub)
    assert cleared.type == CLEARED and cleared.data["reason"] == "replied" and cleared.agent_id == agent["id"]
    assert await _overdue(center, q["id"]) == 0
    timeline = (await center.get(f"interactions/{conversation['id']}")).json()["timeline"]
    assert [e["kind"] for e in timeline].count("first_response_overdue") == 1


async def test_an_answer_within_the_target_raises_nothing(center: Center, clock) -> None:
    q, agent, me, channel = await _setup(center, service_level_seconds=60, chat_auto_assign=True)
    sub = _subscribe(center)
    conversation = await _waiting_conversation(center, channel["id"], "connected")
    clock.advance(59)
    await _tick(center)
    r = await center.post(f"conversations/{conversation['id']}/reply", {"text": "Hello!"}, me)
    assert r.status_code == 201, r.text
    clock.advance(3600)
    await _tick(center)
    assert _events(sub) == [] and await _overdue(center, q["id"]) == 0


async def test_resolving_an_overdue_conversation_clears_it(center: Center, clock) -> None:
    q, agent, me, channel = await _setup(center, service_level_seconds=30, chat_auto_assign=True)
    sub = _subscribe(center)
    conversation = await _waiting_conversation(center, channel["id"], "connected")
    clock.advance(45)
    await _tick(center)
    (alarm,) = _events(sub)
    assert alarm.agent_id == agent["id"]  # assigned: the agent holding it sees it too
    assert await _overdue(center, q["id"]) == 1
    assert (await center.post(f"conversations/{conversation['id']}/resolve", {}, me)).status_code == 204
    (cleared,) = _events(sub)
    assert cleared.data["reason"] == "resolved"
    assert await _overdue(center, q["id"]) == 0


def test_the_watch_reports_each_conversation_once_and_follows_transfers() -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    watch = FirstResponseWatch()
    watch.arm(1, 10, t0 + timedelta(seconds=30))
    watch.arm(2, 10, t0 + timedelta(seconds=20))
    watch.arm(2, 10, t0 + timedelta(seconds=99))  # already watched: keeps its deadline
    assert watch.next_deadline() == t0 + timedelta(seconds=20)
    assert [o.interaction_id for o in watch.due(t0 + timedelta(seconds=25))] == [2]
    assert watch.due(t0 + timedelta(seconds=25)) == []
    watch.move(2, 11)
    assert watch.overdue_by_queue() == {11: 1}
    assert watch.clear(1) is None and watch.next_deadline() is None
    assert watch.clear(2) == 11 and watch.overdue_by_queue() == {}


async def test_after_a_restart_an_overdue_conversation_counts_without_a_second_alarm(center: Center, clock) -> None:
    from teleplex.interactions import conversations

    q, agent, me, channel = await _setup(center, service_level_seconds=30, chat_auto_assign=True)
    sub = _subscribe(center)
    await _waiting_conversation(center, channel["id"], "connected")
    clock.advance(31)
    await _tick(center)
    assert len(_events(sub)) == 1
    chat, engine = center.app.state.chat, center.app.state.engine
    await engine.settle()  # the timeline event is stored
    chat.first_response = FirstResponseWatch()  # what a restarted engine starts with
    async with engine.db.session() as session:
        rows = await conversations.open_conversations(session)
    await chat._restore_watch(rows)  # the part of ChatChannel.restore that rebuilds the watch
    assert await _overdue(center, q["id"]) == 1
    clock.advance(600)
    await _tick(center)
    assert _events(sub) == []
