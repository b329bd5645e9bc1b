"""What a call needs before its wrap-up may end: the queue's or campaign's `wrapup_requires`.

"disposition": one chosen and saved (only when there are dispositions to choose: the queue's or campaign's own
list, or, when it lists none, any disposition of the center); "notes": not blank; "form" (campaigns): the
campaign's form saved, with every required field answered. A campaign call follows its campaign's rule,
any other call its queue's. The agent's "end wrap-up" is refused while something is missing (presence.py);
when the wrap-up ends without the agent (the queue's wrap-up timer, a logout, a forced pause) it still ends,
so the agent is never stuck out of work, and the call's timeline records `wrapup_incomplete` with what was
missing, for supervisors and reports.

A chat takes its disposition when the agent resolves it, so its queue's rule (disposition, notes) is checked
then: the agent's resolve is refused with the same `wrapup_incomplete` answer (`check_can_resolve`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.campaigns.form_answers import validate
from teleplex.campaigns.models import Attempt, Campaign
from teleplex.center.models import Disposition, Queue
from teleplex.core.errors import Conflict
from teleplex.interactions.models import Interaction, InteractionEvent

ORDER = ("disposition", "notes", "form")


@dataclass(frozen=True)
class Missing:
    """What one interaction lacks; `fields` names the required form fields still unanswered."""

    interaction_id: int
    missing: list[str]
    fields: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"interaction_id": self.interaction_id, "missing": self.missing, "fields": self.fields}


def missing(
    requires: Iterable[str],
    *,
    dispositions_offered: bool,
    disposition_id: int | None,
    notes: str | None,
    form_fields: list[dict[str, Any]],
    answers: dict[str, Any] | None,
) -> tuple[list[str], list[str]]:
    """The requirements not met (in a stable order) and the required form fields unanswered. Pure."""
    wanted = set(requires)
    out: list[str] = []
    unanswered: list[str] = []
    if "disposition" in wanted and dispositions_offered and disposition_id is None:
        out.append("disposition")
    if "notes" in wanted and not (notes or "").strip():
        out.append("notes")
    if "form" in wanted and form_fields:
        _, problems = validate(form_fields, answers or {})
        unanswered = [p.field for p in problems]
        if answers is None or unanswered:
            out.append("form")
    return out, unanswered


async def _dispositions_offered(session: AsyncSession, own: list[int]) -> bool:
    return bool(own) or (await session.execute(select(Disposition.id).limit(1))).first() is not None


async def missing_for(session: AsyncSession, interaction: Interaction) -> Missing | None:
    """What this call lacks under its campaign's (or else its queue's) rule; None when nothing."""
    if interaction.channel != "voice":
        return None  # chats take their disposition when resolved; the rule is about calls
    stmt = select(Attempt).where(Attempt.interaction_id == interaction.id).order_by(Attempt.id.desc()).limit(1)
    attempt = (await session.execute(stmt)).scalar()
    campaign = await session.get(Campaign, attempt.campaign_id) if attempt is not None else None
    if campaign is not None:
        requires, own = campaign.wrapup_requires or [], campaign.disposition_ids
        form_fields, answers = campaign.form_fields or [], attempt.form_answers if attempt else None
    else:
        queue = await session.get(Queue, interaction.queue_id) if interaction.queue_id else None
        if queue is None:
            return None
        requires, own, form_fields, answers = queue.wrapup_requires or [], queue.disposition_ids, [], None
    if not requires:
        return None
    offered = "disposition" in requires and await _dispositions_offered(session, own)
    lacking, fields = missing(requires, dispositions_offered=offered, disposition_id=interaction.disposition_id,
                              notes=interaction.notes, form_fields=form_fields, answers=answers)  # fmt: skip
    return Missing(interaction.id, lacking, fields) if lacking else None


class WrapupIncomplete(Conflict):
    """The agent asked to end the wrap-up while a call still lacks what its queue or campaign requires."""

    code = "wrapup_incomplete"


def _phrase(m: Missing) -> str:
    words = {"disposition": "a disposition", "notes": "notes", "form": "the campaign form"}
    parts = [words[k] for k in m.missing]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    if m.fields:
        text += f" ({', '.join(m.fields)})"
    return f"interaction {m.interaction_id} needs {text}"


async def check_can_end(session: AsyncSession, agent_id: int, interaction_ids: Iterable[int]) -> None:
    """Raise WrapupIncomplete naming each of the agent's calls in wrap-up that lacks something."""
    found: list[Missing] = []
    for interaction_id in sorted(set(interaction_ids)):
        interaction = await session.get(Interaction, interaction_id)
        if interaction is None or interaction.agent_id != agent_id:
            continue  # a consulted colleague's wrap-up: the call is the other agent's to classify
        m = await missing_for(session, interaction)
        if m is not None:
            found.append(m)
    if found:
        message = "; ".join(_phrase(m) for m in found) + " before the wrap-up ends"
        raise WrapupIncomplete(message, {"interactions": [m.as_dict() for m in found]})


async def check_can_resolve(session: AsyncSession, conversation: Interaction, disposition_id: int | None) -> None:
    """Raise WrapupIncomplete when the agent resolves a chat that lacks what its queue requires (the
    disposition given with the resolve counts; notes are the ones saved on the conversation)."""
    queue = await session.get(Queue, conversation.queue_id) if conversation.queue_id else None
    requires = [r for r in (queue.wrapup_requires or []) if r != "form"] if queue is not None else []
    if not requires:
        return
    offered = "disposition" in requires and await _dispositions_offered(session, queue.disposition_ids)
    lacking, _ = missing(requires, dispositions_offered=offered,
                         disposition_id=disposition_id or conversation.disposition_id, notes=conversation.notes,
                         form_fields=[], answers=None)  # fmt: skip
    if lacking:
        m = Missing(conversation.id, lacking)
        raise WrapupIncomplete(_phrase(m) + " before it is resolved", {"interactions": [m.as_dict()]})


async def flag_if_incomplete(session: AsyncSession, interaction: Interaction, agent_id: int, at: datetime) -> None:
    """The wrap-up ended without the agent: record on the call's timeline what it still lacked (only for the
    agent the call belongs to: one who transferred it away has nothing to classify)."""
    if interaction.agent_id != agent_id:
        return
    m = await missing_for(session, interaction)
    if m is not None:
        data = {"missing": m.missing, "fields": m.fields}
        session.add(InteractionEvent(interaction_id=interaction.id, at=at, kind="wrapup_incomplete",
                                     agent_id=interaction.agent_id, data=data))  # fmt: skip
