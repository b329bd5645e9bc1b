"""GET /interactions/{id}/screen-pop: the CRM page the console opens when an agent takes an interaction,
from its campaign's template (a campaign call) or else its queue's, filled with this interaction's data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from sqlalchemy import select

from teleplex.auth.deps import PrincipalDep
from teleplex.campaigns.models import Attempt, Campaign
from teleplex.center.models import Queue
from teleplex.center.screen_pop import fill
from teleplex.contacts.models import Contact
from teleplex.core.deps import SessionDep
from teleplex.core.schemas import MAX_ID, ApiOutput
from teleplex.interactions.api import _visible

router = APIRouter(prefix="/api/v1", tags=["interactions"])
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]


class ScreenPopOut(ApiOutput):
    url: str | None  # null: no template configured, nothing to open
    mode: str | None  # "tab" | "embed"
    source: str | None  # "campaign" | "queue"


@router.get("/interactions/{interaction_id}/screen-pop", response_model=ScreenPopOut,
            summary="The CRM URL to open for this interaction (its campaign's or queue's template, filled)")  # fmt: skip
async def screen_pop(interaction_id: IdPath, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    principal.require_any("interactions.read", "interactions.read.own")
    interaction = await _visible(session, principal, interaction_id)
    attempt = (await session.execute(select(Attempt).where(Attempt.interaction_id == interaction_id)
                                     .order_by(Attempt.id.desc()).limit(1))).scalar()  # fmt: skip
    campaign = await session.get(Campaign, attempt.campaign_id) if attempt is not None else None
    queue = await session.get(Queue, interaction.queue_id) if interaction.queue_id is not None else None
    contact = await session.get(Contact, interaction.contact_id) if interaction.contact_id is not None else None
    source = next((s for s in (campaign, queue) if s is not None and s.crm_url_template), None)
    if source is None:
        return {"url": None, "mode": None, "source": None}
    values = {
        "caller": interaction.caller_id or (attempt.number if attempt is not None else None),
        "contact_id": interaction.contact_id,
        "contact_name": (contact.display_name if contact is not None else None) or interaction.caller_name,
        "queue": queue.name if queue is not None else None,
        "campaign": campaign.name if campaign is not None else None,
        "lead_id": attempt.lead_id if attempt is not None else None,
        "interaction": interaction.id,
    }
    assert source.crm_url_template is not None
    return {"url": fill(source.crm_url_template, values), "mode": source.screen_pop_mode,
            "source": "campaign" if source is campaign else "queue"}
