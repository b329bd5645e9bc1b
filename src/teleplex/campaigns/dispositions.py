"""An agent's disposition on a campaign call decides what becomes of its lead (call back, done, do-not-call).

The call's end records `answered`; the disposition, set during or after the call, replaces that outcome with
the one its category means, and the campaign's retry rules run again on it. The attempt is counted once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.campaigns.models import Attempt, Campaign, Lead
from teleplex.campaigns.rules import Outcome
from teleplex.campaigns.service import reclassify
from teleplex.center.models import Disposition

BY_CATEGORY = {
    "success": Outcome.SUCCESS,
    "callback": Outcome.CALLBACK,
    "not_interested": Outcome.NOT_INTERESTED,
    "wrong_number": Outcome.WRONG_NUMBER,
    "do_not_call": Outcome.DO_NOT_CALL,
    "unreachable": Outcome.FAILED,
}  # "other" leaves the call's own outcome


def outcome_of(disposition: Disposition | None, outcome: Outcome) -> Outcome:
    """The attempt's outcome once the agent's disposition is known (only answered calls are reclassified)."""
    if disposition is None or outcome is not Outcome.ANSWERED:
        return outcome
    return BY_CATEGORY.get(disposition.category, outcome)


async def disposition_set(session: AsyncSession, interaction_id: int, disposition_id: int | None,
                          now: datetime) -> None:  # fmt: skip
    """Called when an interaction's disposition changes: apply it to the campaign attempt behind the call."""
    attempt = (await session.execute(select(Attempt).where(Attempt.interaction_id == interaction_id))).scalar()
    if attempt is None:
        return
    attempt.disposition_id = disposition_id
    if attempt.outcome is None:
        return  # the call is still on: its end applies the disposition
    disposition = await session.get(Disposition, disposition_id) if disposition_id else None
    campaign = await session.get(Campaign, attempt.campaign_id)
    lead = await session.get(Lead, attempt.lead_id) if attempt.lead_id else None
    new = outcome_of(disposition, Outcome.ANSWERED)  # an attempt with a call was answered by a person
    if new.value == attempt.outcome or campaign is None:
        return
    if lead is None:
        attempt.outcome = new.value
        return
    await reclassify(session, campaign, lead, attempt, new, now)
