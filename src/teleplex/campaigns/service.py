"""Use cases of outbound campaigns: configuration, lists and imports, the state machine, progress, and the
two helpers the dialer calls (`next_leads`, `record_outcome`)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from teleplex.audit import service as audit
from teleplex.audit.service import Actor
from teleplex.auth.principal import Principal
from teleplex.campaigns import dnc_service
from teleplex.campaigns.csv_import import ParsedFile
from teleplex.campaigns.models import Attempt, Campaign, CampaignAgent, CampaignDisposition, CampaignList, Lead
from teleplex.campaigns.rules import Decision, Outcome, decide
from teleplex.campaigns.schemas import (CampaignCreate, CampaignOut, CampaignProblem, CampaignUpdate, ListOut,
                                        campaign_problems)
from teleplex.campaigns.states import CampaignState, LeadStatus, move
from teleplex.campaigns.windows import callable_now, windows_from
from teleplex.center.models import Agent, Disposition, Queue
from teleplex.core.clock import Clock
from teleplex.core.crud import flush_or_conflict, get_or_404
from teleplex.core.errors import AlreadyExists, Conflict, InvalidInput, PermissionDenied

NULLABLE = frozenset({"description", "queue_id", "starts_at", "ends_at", "caller_id", "trunk", "machine_message",
                      "abandon_message", "script", "crm_url_template"})  # fmt: skip
CHUNK = 500  # rows per IN (...) query: well under SQLite's and asyncpg's parameter limits


def snapshot(campaign: Campaign) -> dict[str, Any]:
    return CampaignOut.model_validate(campaign).model_dump(mode="json")


# --- scope -----------------------------------------------------------------------------------------------


def scope_campaigns(principal: Principal, stmt: Select[Any]) -> Select[Any]:
    """Admins see every campaign; supervisors those of their queues; agents those they work on."""
    if principal.is_admin:
        return stmt
    clauses: list[ColumnElement[bool]] = []
    if principal.can("campaigns.read") and principal.supervised_queue_ids:
        clauses.append(Campaign.queue_id.in_(principal.supervised_queue_ids))
    if principal.can("campaigns.read.own"):
        if principal.member_queue_ids:
            clauses.append(Campaign.queue_id.in_(principal.member_queue_ids))
        if principal.agent_id is not None:
            mine = select(CampaignAgent.campaign_id).where(CampaignAgent.agent_id == principal.agent_id)
            clauses.append(Campaign.id.in_(mine))
    return stmt.where(or_(*clauses)) if clauses else stmt.where(false())


async def get_visible(session: AsyncSession, principal: Principal, campaign_id: int) -> Campaign:
    campaign = await get_or_404(session, Campaign, campaign_id, "campaign")
    found = (await session.execute(scope_campaigns(principal, select(Campaign.id).where(Campaign.id == campaign_id))))
    if found.first() is None:
        raise PermissionDenied(f"campaign {campaign_id} is outside your scope", {"campaign_id": campaign_id})
    return campaign


def check_control(principal: Principal, campaign: Campaign) -> None:
    """Starting, pausing, list switches and recycling: administrators, and supervisors of its queue."""
    if principal.is_admin or principal.can("campaigns.write"):
        return
    if principal.can("campaigns.control") and campaign.queue_id in principal.supervised_queue_ids:
        return
    raise PermissionDenied(
        f"campaign {campaign.id} is not run from a queue you supervise", {"campaign_id": campaign.id}
    )


# --- campaigns -------------------------------------------------------------------------------------------


async def _check_refs(session: AsyncSession, values: dict[str, Any]) -> None:
    queue_id = values.get("queue_id")
    if queue_id is not None and await session.get(Queue, queue_id) is None:
        raise InvalidInput(f"queue_id: no queue with id {queue_id}",
                           {"field": "queue_id", "missing": queue_id},
                           reason="unknown_id")  # fmt: skip
    for name, model in (("agent_ids", Agent), ("disposition_ids", Disposition)):
        ids = values.get(name) or []
        if ids:
            found = set((await session.execute(select(model.id).where(model.id.in_(ids)))).scalars())
            missing = sorted(set(ids) - found)
            if missing:
                raise InvalidInput(f"{name}: no record with id {', '.join(map(str, missing))}",
                                   {"field": name, "missing": missing},
                                   reason="unknown_id")  # fmt: skip


def _check_coherent(values: dict[str, Any]) -> None:
    problems = campaign_problems(values)
    if problems:
        raise InvalidInput(problems[0].message, {"field": problems[0].field,
                                                 "problems": [p.as_detail() for p in problems]},
                           reason="campaign_incoherent")  # fmt: skip


async def _ensure_unique_name(session: AsyncSession, name: str, exclude_id: int | None = None) -> None:
    stmt = select(Campaign.id).where(Campaign.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Campaign.id != exclude_id)
    if (await session.execute(stmt)).first():
        raise AlreadyExists(f"a campaign with name '{name}' exists", {"field": "name", "value": name})


def _links(values: dict[str, Any]) -> dict[str, Any]:
    agents = values.pop("agent_ids", None)
    dispositions = values.pop("disposition_ids", None)
    if agents is not None:
        values["agent_links"] = [CampaignAgent(agent_id=a) for a in agents]
    if dispositions is not None:
        values["disposition_links"] = [CampaignDisposition(disposition_id=d) for d in dispositions]
    return values


async def create_campaign(session: AsyncSession, clock: Clock, actor: Actor, data: CampaignCreate) -> Campaign:
    values = data.model_dump(mode="json")
    _check_coherent(values)
    await _check_refs(session, values)
    await _ensure_unique_name(session, values["name"])
    values = _links(data.model_dump())
    now = clock.now()
    campaign = Campaign(**values, state=CampaignState.DRAFT.value, created_at=now, updated_at=now)
    campaign.retry_rules = data.retry_rules.model_dump(mode="json")
    campaign.calling_windows = [w.model_dump(mode="json") for w in data.calling_windows]
    campaign.form_fields = [f.model_dump(mode="json") for f in data.form_fields]
    campaign.dial_mode = data.dial_mode.value
    session.add(campaign)
    await flush_or_conflict(session, f"a campaign with name '{data.name}' exists", reason="name_in_use")
    await session.refresh(campaign)
    await audit.record(session, clock, actor, "create", "campaign", campaign.id, None, snapshot(campaign))
    return campaign


async def update_campaign(
    session: AsyncSession, clock: Clock, actor: Actor, campaign: Campaign, data: CampaignUpdate
) -> Campaign:
    """Only the fields sent change; the merged result must still be coherent. A stopped campaign is final."""
    if campaign.state == CampaignState.STOPPED:
        raise Conflict(f"campaign '{campaign.name}' is stopped; create a new one",
                       {"state": campaign.state, "name": campaign.name},
                       reason="campaign_stopped")  # fmt: skip
    changes = data.model_dump(mode="json", exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in NULLABLE:
            raise InvalidInput(f"{name}: may not be null", {"field": name}, reason="not_nullable")
    before = snapshot(campaign)
    merged = {**before, **changes}
    _check_coherent(merged)
    await _check_refs(session, changes)
    if "name" in changes:
        await _ensure_unique_name(session, changes["name"], campaign.id)
    for name, value in _links(data.model_dump(exclude_unset=True)).items():
        setattr(campaign, name, value)
    campaign.updated_at = clock.now()
    await flush_or_conflict(session, "a campaign with that name exists", reason="name_in_use")
    await session.refresh(campaign)
    after = snapshot(campaign)
    if after != before:
        await audit.record(session, clock, actor, "update", "campaign", campaign.id, before, after)
    return campaign


async def delete_campaign(session: AsyncSession, clock: Clock, actor: Actor, campaign: Campaign) -> None:
    """Refused while it may dial, and once it has dialed: attempts are the compliance record."""
    if campaign.state in (CampaignState.RUNNING, CampaignState.PAUSED):
        raise Conflict(f"campaign '{campaign.name}' is {campaign.state}; stop it first",
                       {"state": campaign.state, "name": campaign.name},
                       reason="campaign_active")  # fmt: skip
    count = (await session.execute(select(func.count(Attempt.id)).where(Attempt.campaign_id == campaign.id)))
    attempts = count.scalar_one()
    if attempts:
        raise Conflict(
            f"campaign '{campaign.name}' has {attempts} attempts in its history and cannot be deleted",
            {"attempts": attempts, "name": campaign.name}, reason="campaign_has_attempts",
        )
    before = snapshot(campaign)
    await session.delete(campaign)
    await flush_or_conflict(session, f"campaign '{campaign.name}' is still referenced by other records",
                            reason="still_referenced")  # fmt: skip
    await audit.record(session, clock, actor, "delete", "campaign", before["id"], before, None)


async def start_problems(session: AsyncSession, campaign: Campaign, now: datetime) -> list[CampaignProblem]:
    """Why the campaign cannot start now; empty when it can."""
    problems = campaign_problems(snapshot(campaign))
    if campaign.ends_at is not None and campaign.ends_at <= now:
        problems.append(CampaignProblem("end_date_passed", "ends_at", "ends_at: the campaign's end date has passed"))
    if campaign.dial_mode in ("power", "predictive") and not campaign.abandon_message:
        problems.append(CampaignProblem(
            "abandon_message_missing", "abandon_message",
            "abandon_message: power and predictive dialing can abandon calls; a message identifying the caller "
            "must be played then",
            {"dial_mode": campaign.dial_mode},
        ))  # fmt: skip
    if campaign.queue_id is None:
        if not campaign.agent_ids:
            problems.append(CampaignProblem("no_agents", "agent_ids", "agent_ids: no agents to take the calls"))
    pending = await session.execute(
        select(func.count(Lead.id)).where(*_dialable_filters(campaign, None))
    )
    if not pending.scalar_one():
        problems.append(CampaignProblem(
            "nothing_to_dial", None,
            "nothing to dial: no pending lead in an active list (or all are on do-not-call)",
        ))  # fmt: skip
    return problems


async def change_state(
    session: AsyncSession, clock: Clock, actor: Actor, campaign: Campaign, action: str
) -> Campaign:
    """start / pause / stop, by the table in states.MOVES; starting checks that there is work and it is legal."""
    current = CampaignState(campaign.state)
    target = move(current, action)
    if target is None:
        raise Conflict(f"cannot {action} a campaign that is {current.value}",
                       {"state": current.value, "action": action},
                       reason="campaign_state_refused")  # fmt: skip
    now = clock.now()
    if action == "start":
        problems = await start_problems(session, campaign, now)
        if problems:
            raise Conflict(f"cannot start: {problems[0].message}", {"problems": [p.as_detail() for p in problems]},
                           reason="campaign_cannot_start")  # fmt: skip
    before = snapshot(campaign)
    campaign.state = target.value
    campaign.updated_at = now
    await session.flush()
    await session.refresh(campaign)
    await audit.record(session, clock, actor, action, "campaign", campaign.id, before, snapshot(campaign))
    return campaign


# --- lists -----------------------------------------------------------------------------------------------


def list_snapshot(lst: CampaignList) -> dict[str, Any]:
    return ListOut.model_validate(lst).model_dump(mode="json")


async def create_list(
    session: AsyncSession, clock: Clock, actor: Actor, campaign: Campaign, name: str, active: bool
) -> CampaignList:
    now = clock.now()
    exists_ = await session.execute(
        select(CampaignList.id).where(CampaignList.campaign_id == campaign.id, CampaignList.name == name)
    )
    if exists_.first():
        raise Conflict(f"campaign '{campaign.name}' already has a list named '{name}'",
                       {"field": "name", "value": name},
                       reason="name_taken")  # fmt: skip
    lst = CampaignList(campaign_id=campaign.id, name=name, active=active, created_at=now, updated_at=now)
    session.add(lst)
    await flush_or_conflict(session, f"campaign '{campaign.name}' already has a list named '{name}'",
                            reason="name_in_use")  # fmt: skip
    await audit.record(session, clock, actor, "create", "campaign_list", lst.id, None, list_snapshot(lst))
    return lst


async def update_list(
    session: AsyncSession, clock: Clock, actor: Actor, lst: CampaignList, changes: dict[str, Any]
) -> CampaignList:
    for name, value in changes.items():
        if value is None:
            raise InvalidInput(f"{name}: may not be null", {"field": name}, reason="not_nullable")
    before = list_snapshot(lst)
    if "name" in changes and changes["name"] != lst.name:
        clash = await session.execute(
            select(CampaignList.id).where(
                CampaignList.campaign_id == lst.campaign_id, CampaignList.name == changes["name"]
            )
        )
        if clash.first():
            raise Conflict(f"this campaign already has a list named '{changes['name']}'",
                           {"field": "name", "value": changes["name"]},
                           reason="name_taken")  # fmt: skip
    for name, value in changes.items():
        setattr(lst, name, value)
    lst.updated_at = clock.now()
    await flush_or_conflict(session, "this campaign already has a list with that name", reason="name_in_use")
    after = list_snapshot(lst)
    if after != before:
        await audit.record(session, clock, actor, "update", "campaign_list", lst.id, before, after)
    return lst


async def delete_list(session: AsyncSession, clock: Clock, actor: Actor, lst: CampaignList) -> None:
    dialed = await session.execute(
        select(func.count(Attempt.id)).where(Attempt.lead_id.in_(select(Lead.id).where(Lead.list_id == lst.id)))
    )
    count = dialed.scalar_one()
    if count:
        raise Conflict(
            f"list '{lst.name}' has {count} attempts in its history; pause it instead",
            {"attempts": count, "name": lst.name},
            reason="list_has_attempts"
        )
    before = list_snapshot(lst)
    await session.delete(lst)
    await flush_or_conflict(session, f"list '{lst.name}' is still referenced by other records",
                            reason="still_referenced")  # fmt: skip
    await audit.record(session, clock, actor, "delete", "campaign_list", before["id"], before, None)


async def import_leads(
    session: AsyncSession, clock: Clock, actor: Actor, lst: CampaignList, parsed: ParsedFile
) -> dict[str, Any]:
    """Store a parsed file. A lead already in the list (same E.164 phone) is updated, never duplicated:
    names, time zones and alternate phones are replaced by the file's, attributes merged (the file wins);
    its status, attempts and history are left alone, so a re-import never re-dials anyone."""
    now = clock.now()
    added = updated = unchanged = 0
    for start in range(0, len(parsed.leads), CHUNK):
        chunk = parsed.leads[start : start + CHUNK]
        found = await session.execute(
            select(Lead).where(Lead.list_id == lst.id, Lead.phone.in_([p.phone for p in chunk]))
        )
        existing = {lead.phone: lead for lead in found.scalars()}
        for p in chunk:
            lead = existing.get(p.phone)
            zones = " ".join(p.timezones)
            if lead is None:
                session.add(Lead(
                    list_id=lst.id, campaign_id=lst.campaign_id, phone=p.phone, alt_phones=list(p.alt_phones),
                    first_name=p.first_name, last_name=p.last_name, timezones=zones, attributes=p.attributes,
                    status=LeadStatus.PENDING.value, attempts=0, outcome_counts={}, created_at=now, updated_at=now,
                ))  # fmt: skip
                added += 1
                continue
            new = {
                "first_name": p.first_name or lead.first_name,
                "last_name": p.last_name or lead.last_name,
                "timezones": zones,
                "alt_phones": list(p.alt_phones) or lead.alt_phones,
                "attributes": {**lead.attributes, **p.attributes},
            }
            if all(getattr(lead, k) == v for k, v in new.items()):
                unchanged += 1
                continue
            for k, v in new.items():
                setattr(lead, k, v)
            lead.updated_at = now
            updated += 1
        await flush_or_conflict(session, f"another import into list '{lst.name}' ran at the same time; try again")
    report = {
        "list_id": lst.id, "encoding": parsed.encoding, "delimiter": parsed.delimiter, "columns": parsed.columns,
        "rows": parsed.rows, "added": added, "updated": updated, "unchanged": unchanged,
        "rejected": [r.as_detail() for r in parsed.rejected],
    }  # fmt: skip
    summary = {k: report[k] for k in ("rows", "added", "updated", "unchanged")} | {"rejected": len(parsed.rejected)}
    await audit.record(session, clock, actor, "import", "campaign_list", lst.id, None, summary)
    return report


async def recycle_list(
    session: AsyncSession, clock: Clock, actor: Actor, lst: CampaignList, outcomes: list[Outcome]
) -> int:
    """Make closed leads whose last outcome is one of `outcomes` dialable again, with fresh attempt counts.

    The time of the last abandoned call is kept, so the no-redial-after-abandon rule still holds."""
    now = clock.now()
    result = await session.execute(
        update(Lead)
        .where(
            Lead.list_id == lst.id,
            Lead.status.in_([LeadStatus.DONE.value, LeadStatus.EXHAUSTED.value]),
            Lead.last_outcome.in_([o.value for o in outcomes]),
        )
        .values(status=LeadStatus.PENDING.value, attempts=0, outcome_counts={}, next_attempt_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await audit.record(session, clock, actor, "recycle", "campaign_list", lst.id, None,
                       {"outcomes": [o.value for o in outcomes], "recycled": count})  # fmt: skip
    return count


# --- selection: what the dialer may call now -------------------------------------------------------------


def _dialable_filters(campaign: Campaign, now: datetime | None) -> list[ColumnElement[bool]]:
    """Every rule that SQL can apply; calling windows are applied in Python per time zone.

    `now` None: ignore time (used to ask whether anything at all is left to dial)."""
    active_lists = select(CampaignList.id).where(
        CampaignList.campaign_id == campaign.id, CampaignList.active.is_(True)
    )
    filters: list[ColumnElement[bool]] = [
        Lead.campaign_id == campaign.id,
        Lead.status == LeadStatus.PENDING.value,
        Lead.attempts < campaign.max_attempts,
        Lead.list_id.in_(active_lists),
        ~dnc_service.blocked_clause(Lead.phone, campaign.id),
    ]
    if now is not None:
        filters.append(or_(Lead.next_attempt_at.is_(None), Lead.next_attempt_at <= now))
        other = aliased(Lead)
        busy = [other.status == LeadStatus.DIALING.value]
        if campaign.no_redial_after_abandon_hours:
            cutoff = now - timedelta(hours=campaign.no_redial_after_abandon_hours)
            busy.append(other.last_abandoned_at > cutoff)
        if campaign.no_redial_after_machine_hours:
            cutoff = now - timedelta(hours=campaign.no_redial_after_machine_hours)
            busy.append(other.last_machine_at > cutoff)
        # The same number in any list or campaign: being dialed, or abandoned / ended by AMD too recently.
        filters.append(~exists(select(other.id).where(other.phone == Lead.phone, or_(*busy))))
    return filters


def _in_dates(campaign: Campaign, now: datetime) -> bool:
    return (campaign.starts_at is None or campaign.starts_at <= now) and (
        campaign.ends_at is None or now < campaign.ends_at
    )


async def _callable_zone_groups(session: AsyncSession, campaign: Campaign, now: datetime) -> list[str]:
    """The distinct time-zone sets of due leads whose local time is inside the calling windows now."""
    windows = windows_from(campaign.calling_windows)
    groups = await session.execute(select(Lead.timezones).where(*_dialable_filters(campaign, now)).distinct())
    return [
        g for g in groups.scalars()
        if callable_now(now, g.split(), campaign.default_timezone, windows, campaign.allow_outside_legal_hours)
    ]  # fmt: skip


async def next_leads(session: AsyncSession, campaign: Campaign, now: datetime, limit: int) -> list[Lead]:
    """The next leads to dial, oldest due first, at most `limit`, one per phone number.

    Applies: the campaign is running and within its dates; the list is active; the lead is pending and due
    (retry delay over); attempts below the maximum; not on the global or the campaign's do-not-call list;
    no abandoned call to the number within `no_redial_after_abandon_hours` (nor one ended by answering-machine
    detection within `no_redial_after_machine_hours`), in any campaign; the number not being dialed
    elsewhere; the lead's local time inside the calling windows. Does not mark them: call `begin_attempt`.
    """
    if limit <= 0 or campaign.state != CampaignState.RUNNING or not _in_dates(campaign, now):
        return []
    zones = await _callable_zone_groups(session, campaign, now)
    if not zones:
        return []
    order = func.coalesce(Lead.next_attempt_at, Lead.created_at)
    stmt = (
        select(Lead)
        .where(*_dialable_filters(campaign, now), Lead.timezones.in_(zones))
        .order_by(order, Lead.id)
        .limit(limit * 2)
    )
    out: list[Lead] = []
    seen: set[str] = set()
    for lead in (await session.execute(stmt)).scalars():
        if lead.phone not in seen:
            seen.add(lead.phone)
            out.append(lead)
        if len(out) == limit:
            break
    return out


async def begin_attempt(session: AsyncSession, lead: Lead, now: datetime, number: str | None = None) -> Attempt:
    """Open an attempt for the dialer to fill in, and mark the lead as being dialed."""
    attempt = Attempt(campaign_id=lead.campaign_id, lead_id=lead.id, number=number or lead.phone, dialed_at=now)
    lead.status = LeadStatus.DIALING.value
    lead.last_attempt_at = now
    lead.updated_at = now
    session.add(attempt)
    await session.flush()
    return attempt


async def record_outcome(
    session: AsyncSession,
    campaign: Campaign,
    lead: Lead,
    outcome: Outcome,
    now: datetime,
    *,
    attempt: Attempt | None = None,
    callback_at: datetime | None = None,
) -> Decision:
    """Count the attempt and apply the campaign's retry rules: schedule the next attempt or close the lead.

    A `do_not_call` outcome also puts the number on the global do-not-call list (the person asked)."""
    counts = Counter(lead.outcome_counts or {})
    counts[outcome.value] += 1
    lead.outcome_counts = dict(counts)
    lead.attempts += 1
    lead.last_outcome = outcome.value
    lead.last_attempt_at = lead.last_attempt_at or now
    if outcome is Outcome.ABANDONED:
        lead.last_abandoned_at = now
    elif outcome is Outcome.MACHINE:
        lead.last_machine_at = now
    decision = decide(outcome, now, campaign.retry_rules, counts, lead.attempts, campaign.max_attempts, callback_at)
    lead.status = decision.status.value
    lead.next_attempt_at = decision.next_attempt_at
    lead.updated_at = now
    if attempt is not None:
        attempt.outcome = outcome.value
        attempt.ended_at = attempt.ended_at or now
    if outcome is Outcome.DO_NOT_CALL:
        await dnc_service.add(session, lead.phone, None, "disposition", now)
    await session.flush()
    return decision


async def reclassify(
    session: AsyncSession, campaign: Campaign, lead: Lead, attempt: Attempt, outcome: Outcome, now: datetime
) -> Decision:
    """Replace a recorded attempt's outcome (an agent's disposition after the call): the attempt is not counted
    again; the retry rules decide on the new outcome."""
    counts = Counter(lead.outcome_counts or {})
    if attempt.outcome and counts[attempt.outcome] > 0:
        counts[attempt.outcome] -= 1
    counts[outcome.value] += 1
    lead.outcome_counts = {k: v for k, v in counts.items() if v}
    lead.last_outcome = outcome.value
    decision = decide(outcome, now, campaign.retry_rules, counts, lead.attempts, campaign.max_attempts)
    lead.status, lead.next_attempt_at, lead.updated_at = decision.status.value, decision.next_attempt_at, now
    attempt.outcome = outcome.value
    if outcome is Outcome.DO_NOT_CALL:
        await dnc_service.add(session, lead.phone, None, "disposition", now)
    await session.flush()
    return decision


async def release_stale(session: AsyncSession, campaign_id: int, started_before: datetime, now: datetime) -> int:
    """Leads left `dialing` by a dialer that stopped mid-call (a crash, a lost Asterisk) go back to pending,
    without counting an attempt; the engine calls this on start with a time older than any live call."""
    result = await session.execute(
        update(Lead)
        .where(Lead.campaign_id == campaign_id, Lead.status == LeadStatus.DIALING.value,
               Lead.last_attempt_at < started_before)
        .values(status=LeadStatus.PENDING.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- progress --------------------------------------------------------------------------------------------


async def progress(session: AsyncSession, campaign: Campaign, now: datetime) -> dict[str, Any]:
    """Live figures from the database; `dialable_now` is exactly what next_leads could return."""
    cid = campaign.id
    by_status = dict((await session.execute(
        select(Lead.status, func.count()).where(Lead.campaign_id == cid).group_by(Lead.status)
    )).all())  # fmt: skip
    done = dict((await session.execute(
        select(Lead.last_outcome, func.count())
        .where(Lead.campaign_id == cid, Lead.status.in_([LeadStatus.DONE.value, LeadStatus.EXHAUSTED.value]))
        .group_by(Lead.last_outcome)
    )).all())  # fmt: skip
    attempts = dict((await session.execute(
        select(Attempt.outcome, func.count()).where(Attempt.campaign_id == cid).group_by(Attempt.outcome)
    )).all())  # fmt: skip
    dialable = 0
    if campaign.state == CampaignState.RUNNING and _in_dates(campaign, now):
        zones = await _callable_zone_groups(session, campaign, now)
        if zones:
            dialable = (await session.execute(
                select(func.count(func.distinct(Lead.phone))).where(*_dialable_filters(campaign, now),
                                                                    Lead.timezones.in_(zones))
            )).scalar_one()  # fmt: skip
    waiting = (await session.execute(select(func.count(Lead.id)).where(
        Lead.campaign_id == cid, Lead.status == LeadStatus.PENDING.value, Lead.next_attempt_at > now
    ))).scalar_one()  # fmt: skip
    blocked = (await session.execute(select(func.count(Lead.id)).where(
        Lead.campaign_id == cid, Lead.status == LeadStatus.PENDING.value, dnc_service.blocked_clause(Lead.phone, cid)
    ))).scalar_one()  # fmt: skip
    lists = (await session.execute(
        select(CampaignList, func.count(Lead.id),
               func.count(Lead.id).filter(Lead.status == LeadStatus.PENDING.value))
        .outerjoin(Lead, and_(Lead.list_id == CampaignList.id))
        .where(CampaignList.campaign_id == cid)
        .group_by(CampaignList.id)
        .order_by(CampaignList.id)
    )).all()  # fmt: skip
    rates = {f"abandon_rate_{name}": await abandon_rate(session, cid, now - span)
             for name, span in (("24h", timedelta(hours=24)), ("30d", timedelta(days=30)))}  # fmt: skip
    return {
        **rates,
        "campaign_id": cid, "state": campaign.state, "at": now,
        "leads_total": sum(by_status.values()), "by_status": by_status,
        "dialable_now": dialable, "waiting_retry": waiting, "blocked_dnc": blocked,
        "done_by_outcome": {str(k): v for k, v in done.items()},
        "attempts": sum(attempts.values()),
        "attempts_by_outcome": {str(k) if k is not None else "in_progress": v for k, v in attempts.items()},
        "lists": [{"list_id": lst.id, "name": lst.name, "active": lst.active, "leads": n, "pending": p}
                  for lst, n, p in lists],
    }  # fmt: skip


async def abandon_rate(session: AsyncSession, campaign_id: int, since: datetime) -> float | None:
    """Abandoned calls over the people who answered since `since` (what the 3 % rule measures)."""
    row = (await session.execute(
        select(func.count(Attempt.id).filter(Attempt.outcome == Outcome.ABANDONED.value), func.count(Attempt.id))
        .where(Attempt.campaign_id == campaign_id, Attempt.answered_at >= since,
               Attempt.outcome.in_([Outcome.ABANDONED.value, Outcome.ANSWERED.value]))
    )).one()  # fmt: skip
    return round(row[0] / row[1], 5) if row[1] else None
