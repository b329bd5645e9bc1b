"""A call answered and ended by an agent, so the agent is in wrap-up, without Asterisk: the facts the voice
channel would give the router (queued, offered, answered, ended) and the record it would write."""

from __future__ import annotations

from typing import Any

from teleplex.campaigns.models import Attempt
from teleplex.engine.engine import Engine
from teleplex.interactions import service as interactions
from teleplex.interactions.models import Interaction
from teleplex.routing import WorkItem


class SilentVoice:
    """The voice channel as the router sees it: offers are accepted by the test, not rung on a phone."""

    link_up = True

    async def offer(self, decision: Any) -> None:
        return None

    async def offer_withdrawn(self, item_id: str, agent_id: str, reason: str) -> None:
        return None

    async def overflow(self, decision: Any) -> None:
        return None


async def call_in_wrapup(engine: Engine, queue_id: int, agent_id: int, caller: str = "+34600111222",
                         campaign_id: int | None = None) -> int:  # fmt: skip
    """The interaction id of a call the agent answered and the customer ended; the agent is in wrap-up. With a
    campaign, the call is that campaign's (its attempt is written as the dialer would, before it connects)."""
    engine.handlers.setdefault("voice", SilentVoice())  # type: ignore[arg-type]
    now = engine.clock.now()
    async with engine.db.session() as session:
        call = await interactions.open_interaction(session, now, channel="voice", caller_id=caller)
        call.queue_id, call.state = queue_id, "queued"
        await session.commit()
        call_id = call.id
    item = str(call_id)
    engine.item_channel[item] = "voice"
    async with engine.serial():
        await engine.refresh_queue(queue_id)
        await engine.decide(lambda: engine.router.enqueue(WorkItem(item, str(queue_id), "voice", arrived_at=now)))
        await engine.decide(lambda: engine.router.offer_accepted(item, str(agent_id)))
    await _store(engine, call_id, agent_id=agent_id, state="connected", answered_at=now)
    if campaign_id is not None:
        async with engine.db.session() as session:
            session.add(Attempt(campaign_id=campaign_id, number=caller, dialed_at=now, answered_at=now,
                                interaction_id=call_id, agent_id=agent_id))  # fmt: skip
            await session.commit()
    _publish(engine, "interaction.connected", call_id, queue_id, agent_id)
    await _store(engine, call_id, state="ended", ended_at=engine.clock.now())
    async with engine.serial():
        await engine.decide(lambda: engine.router.interaction_ended(item))
    await engine.settle()
    _publish(engine, "interaction.ended", call_id, queue_id, agent_id)
    return call_id


async def _store(engine: Engine, call_id: int, **values: Any) -> None:
    async with engine.db.session() as session:
        row = await session.get(Interaction, call_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        await session.commit()


def _publish(engine: Engine, kind: str, call_id: int, queue_id: int, agent_id: int) -> None:
    data = {"interaction_id": call_id, "channel": "voice", "queue_id": queue_id, "agent_id": agent_id}
    engine.publish(kind, engine.clock.now(), data, queue_id=queue_id, agent_id=agent_id)
