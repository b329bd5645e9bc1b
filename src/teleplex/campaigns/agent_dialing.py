"""Dialing by the agent's hand: preview a lead then dial or skip it, and dial a number manually.

A previewed lead is held for its agent (status `dialing`, so no pacer or other agent takes it) until they
dial or skip it; a process restart releases it like any lead left dialing. The call is placed by the live
dialer with the agent reserved: the person who answers is offered to that agent only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit import service as audit
from teleplex.audit.service import Actor
from teleplex.auth.principal import Principal
from teleplex.campaigns import dnc_service
from teleplex.campaigns.live import CampaignDialer
from teleplex.campaigns.models import Attempt, Campaign, Lead
from teleplex.campaigns.service import begin_attempt, next_leads
from teleplex.campaigns.states import CampaignState, DialMode, LeadStatus
from teleplex.contacts.identities import normalise_phone
from teleplex.core.errors import Conflict, InvalidInput, PermissionDenied, ServiceUnavailable
from teleplex.routing.model import VOICE, Presence


def agent_of(principal: Principal) -> int:
    if principal.agent_id is None:
        raise PermissionDenied("only agents dial: this user has no agent profile")
    return principal.agent_id


def check_ready(dialer: CampaignDialer | None, agent_id: int) -> CampaignDialer:
    """The agent must be free for a call now, or the person they dial would be dropped after 2 seconds."""
    if dialer is None:
        raise ServiceUnavailable("voice is off on this node: no calls can be placed")
    agent = dialer.engine.router.find_agent(str(agent_id))
    if agent is None or agent.state is not Presence.READY or agent.load.get(VOICE):
        raise Conflict(f"agent {agent_id} must be logged in, ready and off calls to dial",
                       {"agent_id": agent_id},
                       reason="agent_not_ready_to_dial")  # fmt: skip
    if dialer.voice.dialing_for(agent_id):
        raise Conflict(f"agent {agent_id} is already dialing a number", {"agent_id": agent_id},
                       reason="agent_already_dialing")  # fmt: skip
    return dialer


def check_running(campaign: Campaign) -> None:
    if campaign.state != CampaignState.RUNNING.value:
        raise Conflict(f"campaign {campaign.id} is {campaign.state}, not running",
                       {"campaign_id": campaign.id, "state": campaign.state},
                       reason="campaign_not_running")  # fmt: skip
    if campaign.queue_id is None:
        raise Conflict(f"campaign {campaign.id} needs a queue to place calls", {"campaign_id": campaign.id},
                       reason="campaign_needs_queue")  # fmt: skip


async def preview(session: AsyncSession, dialer: CampaignDialer, campaign: Campaign, agent_id: int,
                  now: datetime) -> tuple[Lead, list[Attempt]]:  # fmt: skip
    """Hold the campaign's next lead for the agent and return it with its history."""
    check_running(campaign)
    if DialMode(campaign.dial_mode) is not DialMode.PREVIEW:
        raise Conflict(f"campaign {campaign.id} dials {campaign.dial_mode}, not preview",
                       {"campaign_id": campaign.id, "dial_mode": campaign.dial_mode},
                       reason="campaign_not_preview")  # fmt: skip
    held = dialer.previews_of(agent_id, campaign.id)
    lead = await session.get(Lead, held) if held is not None else None
    if lead is None or lead.status != LeadStatus.DIALING.value:
        found = await next_leads(session, campaign, now, 1)
        if not found:
            raise Conflict(f"campaign {campaign.id} has no lead to dial now", {"campaign_id": campaign.id},
                           reason="no_lead_now")  # fmt: skip
        lead = found[0]
        lead.status, lead.last_attempt_at, lead.updated_at = LeadStatus.DIALING.value, now, now
        dialer.hold_preview(agent_id, campaign.id, lead.id)
    history = list((await session.execute(
        select(Attempt).where(Attempt.lead_id == lead.id).order_by(Attempt.id.desc()).limit(20)
    )).scalars())  # fmt: skip
    return lead, history


def _held(dialer: CampaignDialer, agent_id: int, campaign_id: int, lead_id: int) -> None:
    if dialer.previews_of(agent_id, campaign_id) != lead_id:
        raise Conflict(f"lead {lead_id} is not held for you: preview it first", {"lead_id": lead_id},
                       reason="lead_not_held")  # fmt: skip


async def dial_previewed(session: AsyncSession, dialer: CampaignDialer, campaign: Campaign, lead_id: int,
                         agent_id: int, now: datetime) -> Attempt:  # fmt: skip
    check_running(campaign)
    _held(dialer, agent_id, campaign.id, lead_id)
    lead = await session.get(Lead, lead_id)
    assert lead is not None
    if await dnc_service.is_blocked(session, lead.phone, campaign.id):  # checked at dial time, not only at import
        raise Conflict(f"{lead.phone} is on a do-not-call list",
                       {"lead_id": lead_id, "number": lead.phone}, reason="number_on_dnc")  # fmt: skip
    attempt = await begin_attempt(session, lead, now)
    attempt.agent_id = agent_id
    await session.commit()
    dialer.release_preview(agent_id, campaign.id)
    await dialer.dial_now(campaign.id, attempt, agent_id)
    return attempt


async def skip_previewed(session: AsyncSession, dialer: CampaignDialer, actor: Actor, campaign: Campaign,
                         lead_id: int, agent_id: int, reason: str, now: datetime) -> None:  # fmt: skip
    """The agent passes on the lead: back to the end of the line without an attempt; the reason is audited."""
    _held(dialer, agent_id, campaign.id, lead_id)
    lead = await session.get(Lead, lead_id)
    assert lead is not None
    lead.status, lead.updated_at = LeadStatus.PENDING.value, now
    lead.next_attempt_at = now  # due again, but behind the leads that were waiting before it
    await audit.record(session, dialer.engine.clock, actor, "skip", "lead", lead.id, None, {"reason": reason,
                       "agent_id": agent_id, "campaign_id": campaign.id})  # fmt: skip
    await session.commit()
    dialer.release_preview(agent_id, campaign.id)


async def manual_dial(session: AsyncSession, dialer: CampaignDialer, campaign: Campaign, number: str,
                      agent_id: int, region: str, now: datetime) -> Attempt:  # fmt: skip
    """A number the agent types, placed on the campaign's trunk (its caller id, recording and records)."""
    check_running(campaign)
    e164 = normalise_phone(number, region)
    if e164 is None:
        raise InvalidInput(f"{number!r} is not a telephone number",
                           {"number": "not a telephone number", "value": number},
                           reason="not_a_phone_number")  # fmt: skip
    if await dnc_service.is_blocked(session, e164, campaign.id):
        raise Conflict(f"{e164} is on a do-not-call list", {"number": e164}, reason="number_on_dnc")
    attempt = Attempt(campaign_id=campaign.id, number=e164, dialed_at=now, agent_id=agent_id)
    session.add(attempt)
    await session.commit()
    await dialer.dial_now(campaign.id, attempt, agent_id)
    return attempt


def attempt_out(a: Attempt) -> dict[str, Any]:
    return {k: getattr(a, k) for k in ("id", "campaign_id", "lead_id", "callback_id", "number", "dialed_at",
                                        "ringing_at", "answered_at", "ended_at", "outcome", "amd_result", "agent_id",
                                        "interaction_id")}  # fmt: skip
