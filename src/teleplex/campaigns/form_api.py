"""HTTP routes for the campaign's script and form on a call: read them with the answers so far, save answers.

The answers are kept with the attempt (campaign_attempts.form_answers), so the call's lead, outcome,
disposition and what the customer said stay together; a call's tab finds its attempt by the interaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import Field
from sqlalchemy import select

from teleplex.campaigns import service
from teleplex.campaigns.api import Reader
from teleplex.campaigns.form_answers import validate
from teleplex.campaigns.models import Attempt, Campaign, Lead
from teleplex.core.crud import get_or_404
from teleplex.core.deps import SessionDep
from teleplex.core.errors import InvalidInput, NotFound, PermissionDenied
from teleplex.core.schemas import MAX_ID, ApiInput, ApiOutput

router = APIRouter(prefix="/api/v1", tags=["dialing"])
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]


class FormAnswersIn(ApiInput):
    answers: Annotated[dict[str, Any], Field(max_length=50)]


class FormLead(ApiOutput):
    """What the script's placeholders are filled with."""

    first_name: str | None
    last_name: str | None
    phone: str
    attributes: dict[str, Any]


class CampaignFormOut(ApiOutput):
    attempt_id: int
    campaign_id: int
    campaign_name: str
    interaction_id: int | None
    lead: FormLead | None
    script: str | None
    form_fields: list[dict[str, Any]]
    answers: dict[str, Any]


async def _out(session: SessionDep, attempt: Attempt, campaign: Campaign) -> dict[str, Any]:
    lead = await session.get(Lead, attempt.lead_id) if attempt.lead_id else None
    return {"attempt_id": attempt.id, "campaign_id": campaign.id, "campaign_name": campaign.name,
            "interaction_id": attempt.interaction_id, "lead": lead, "script": campaign.script,
            "form_fields": campaign.form_fields or [], "answers": attempt.form_answers or {}}  # fmt: skip


async def _attempt(session: SessionDep, principal: Reader, attempt_id: int) -> tuple[Attempt, Campaign]:
    attempt = await get_or_404(session, Attempt, attempt_id, "attempt")
    return attempt, await service.get_visible(session, principal, attempt.campaign_id)


@router.get("/campaign-attempts/{attempt_id}/form", response_model=CampaignFormOut,
            summary="The campaign's script and form for this call, with the answers so far")  # fmt: skip
async def get_form(attempt_id: IdPath, session: SessionDep, principal: Reader) -> dict:
    return await _out(session, *await _attempt(session, principal, attempt_id))


@router.get("/interactions/{interaction_id}/campaign-form", response_model=CampaignFormOut,
            summary="The same, found from the call (404 when it is not a campaign call)")  # fmt: skip
async def get_form_of_interaction(interaction_id: IdPath, session: SessionDep, principal: Reader) -> dict:
    stmt = select(Attempt).where(Attempt.interaction_id == interaction_id)
    stmt = stmt.order_by(Attempt.id.desc()).limit(1)
    attempt = (await session.execute(stmt)).scalar()
    if attempt is None:
        raise NotFound(f"interaction {interaction_id} is not a campaign call",
                       {"interaction_id": interaction_id})  # fmt: skip
    return await _out(session, attempt, await service.get_visible(session, principal, attempt.campaign_id))


@router.put("/campaign-attempts/{attempt_id}/form", response_model=CampaignFormOut,
            summary="Save the answers to the campaign's form; each problem names its field")  # fmt: skip
async def save_form(attempt_id: IdPath, body: FormAnswersIn, session: SessionDep, principal: Reader) -> dict:
    """The agent who made the call, or whoever controls the campaign (its queue's supervisors, admins)."""
    attempt, campaign = await _attempt(session, principal, attempt_id)
    if attempt.agent_id is None or attempt.agent_id != principal.agent_id:
        try:
            service.check_control(principal, campaign)
        except PermissionDenied:
            raise PermissionDenied(f"attempt {attempt_id} is another agent's call",
                                   {"attempt_id": attempt_id}) from None  # fmt: skip
    clean, problems = validate(campaign.form_fields or [], body.answers)
    if problems:
        details = [{"field": f"answers.{p.field}", "type": p.type, "message": p.message, "ctx": p.ctx}
                   for p in problems]
        first = problems[0]
        raise InvalidInput(f"answers.{first.field}: {first.message}", details, reason="form_invalid")
    attempt.form_answers = clean
    await session.commit()
    return await _out(session, attempt, campaign)
