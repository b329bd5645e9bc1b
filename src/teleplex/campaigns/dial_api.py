"""HTTP routes for dialing by the agent's hand (preview, dial, skip, manual dial) and a campaign's attempts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from sqlalchemy import select

from teleplex.campaigns import agent_dialing as dialing
from teleplex.campaigns import service
from teleplex.campaigns.api import Params, Reader
from teleplex.campaigns.models import Attempt
from teleplex.campaigns.rules import Outcome
from teleplex.campaigns.schemas import AttemptOut, ManualDial, PreviewOut, SkipBody
from teleplex.center.service import list_page
from teleplex.core.deps import ClockDep, SessionDep, SettingsDep
from teleplex.core.schemas import MAX_ID, Page

router = APIRouter(prefix="/api/v1", tags=["dialing"])
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]


@router.post("/campaigns/{campaign_id}/preview", response_model=PreviewOut,
             summary="Hold the next lead of a preview campaign for me, with its history")  # fmt: skip
async def preview(campaign_id: IdPath, request: Request, session: SessionDep, clock: ClockDep,
                  principal: Reader) -> dict:  # fmt: skip
    agent_id = dialing.agent_of(principal)
    campaign = await service.get_visible(session, principal, campaign_id)
    dialer = dialing.check_ready(request.app.state.dialer, agent_id)
    lead, history = await dialing.preview(session, dialer, campaign, agent_id, clock.now())
    await session.commit()
    return {"lead": lead, "history": [dialing.attempt_out(a) for a in history], "script": campaign.script,
            "form_fields": campaign.form_fields}  # fmt: skip


@router.post("/campaigns/{campaign_id}/leads/{lead_id}/dial", response_model=AttemptOut, status_code=202,
             summary="Dial the lead I am previewing; the person who answers is put through to me")  # fmt: skip
async def dial_lead(campaign_id: IdPath, lead_id: IdPath, request: Request, session: SessionDep, clock: ClockDep,
                    principal: Reader) -> dict:  # fmt: skip
    agent_id = dialing.agent_of(principal)
    campaign = await service.get_visible(session, principal, campaign_id)
    dialer = dialing.check_ready(request.app.state.dialer, agent_id)
    attempt = await dialing.dial_previewed(session, dialer, campaign, lead_id, agent_id, clock.now())
    return dialing.attempt_out(attempt)


@router.post("/campaigns/{campaign_id}/leads/{lead_id}/skip", status_code=204,
             summary="Pass on the lead I am previewing, with a reason")  # fmt: skip
async def skip_lead(campaign_id: IdPath, lead_id: IdPath, body: SkipBody, request: Request, session: SessionDep,
                    clock: ClockDep, principal: Reader) -> None:  # fmt: skip
    agent_id = dialing.agent_of(principal)
    campaign = await service.get_visible(session, principal, campaign_id)
    dialer = request.app.state.dialer
    if dialer is None:
        dialing.check_ready(dialer, agent_id)  # says why: voice is off
    await dialing.skip_previewed(session, dialer, principal, campaign, lead_id, agent_id, body.reason, clock.now())


@router.post("/campaigns/{campaign_id}/dial", response_model=AttemptOut, status_code=202,
             summary="Dial a number by hand on the campaign's trunk; it is put through to me")  # fmt: skip
async def manual_dial(campaign_id: IdPath, body: ManualDial, request: Request, session: SessionDep,
                      clock: ClockDep, settings: SettingsDep, principal: Reader) -> dict:  # fmt: skip
    agent_id = dialing.agent_of(principal)
    campaign = await service.get_visible(session, principal, campaign_id)
    dialer = dialing.check_ready(request.app.state.dialer, agent_id)
    attempt = await dialing.manual_dial(session, dialer, campaign, body.number, agent_id, settings.phone_region,
                                        clock.now())  # fmt: skip
    return dialing.attempt_out(attempt)


@router.get("/campaigns/{campaign_id}/attempts", response_model=Page[AttemptOut], summary="A campaign's dials")
async def list_attempts(
    campaign_id: IdPath,
    params: Params,
    session: SessionDep,
    principal: Reader,
    outcome: Annotated[Outcome | None, Query(description="only this outcome")] = None,
) -> dict:
    await service.get_visible(session, principal, campaign_id)
    stmt = select(Attempt).where(Attempt.campaign_id == campaign_id)
    if outcome is not None:
        stmt = stmt.where(Attempt.outcome == outcome.value)
    order = {"id": Attempt.id, "dialed_at": Attempt.dialed_at}
    return await list_page(session, stmt, params, [Attempt.number], order)
