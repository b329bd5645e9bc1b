"""Turning stored configuration into the router's specs: the one place the two vocabularies meet."""

from __future__ import annotations

from teleplex.center.models import Agent, Queue
from teleplex.routing import AgentSpec, QueueSpec, Strategy

# The API offers voice and four text channels; the router counts text channels against "chat" capacity.
CHANNELS = frozenset({"voice", "webchat", "whatsapp", "telegram", "sms"})


def queue_spec(queue: Queue) -> QueueSpec:
    return QueueSpec(
        id=str(queue.id),
        channels=frozenset(queue.channels),
        strategy=Strategy(queue.strategy),
        required_skills=dict(queue.required_skills),
        priority=queue.priority,
        offer_timeout_s=float(queue.ring_timeout_seconds),
        wrapup_s=float(queue.wrapup_seconds),
        max_wait_s=float(queue.max_wait_seconds) if queue.max_wait_seconds else None,
        overflow_target=queue.overflow,
        offer_chats_during_call=queue.chats_during_call,
    )


def agent_spec(agent: Agent, device: str | None = None) -> AgentSpec:
    return AgentSpec(
        id=str(agent.id),
        skills=dict(agent.skills),
        capacity=dict(agent.capacity),
        queues={str(m.queue_id): m.penalty for m in agent.memberships},
        device=device or agent.device,
    )
