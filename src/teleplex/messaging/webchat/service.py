"""Web chat use cases: widget configuration, visitor sessions, visitor messages into the MessageSink,
agent replies into the visitor's stream, delivery and read receipts, typing both ways."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, cast
from weakref import WeakKeyDictionary, ref

from sqlalchemy import Row, Table, bindparam, case, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit import service as audit
from teleplex.audit.service import Actor
from teleplex.core.clock import Clock
from teleplex.core.db import Database
from teleplex.core.errors import InvalidInput
from teleplex.core.events import Event, EventBus
from teleplex.messaging import status as delivery
from teleplex.messaging.crypto import CredentialBox, CredentialsUnreadable
from teleplex.messaging.group_commit import GroupCommit
from teleplex.messaging.ingest import MessageSink
from teleplex.messaging.models import Channel, Message, OutboxItem
from teleplex.messaging.providers.base import (
    Identity,
    IdentityKind,
    InboundMessage,
    MediaRef,
    MessageKind,
    OutgoingContent,
    PermanentSendError,
    StatusUpdate,
)
from teleplex.messaging.schemas import ChannelKind
from teleplex.messaging.webchat import attachments, tokens
from teleplex.messaging.webchat.errors import (
    IdentityInvalid,
    OriginNotAllowed,
    TokenInvalid,
    VisitorKeyInvalid,
    WidgetDisabled,
    WidgetNotFound,
)
from teleplex.messaging.webchat.frames import MAX_TEXT
from teleplex.messaging.webchat.hub import hub_for
from teleplex.messaging.webchat.models import WebchatEvent, WebchatVisitor, WebchatWidget
from teleplex.messaging.webchat.schemas import SessionIn, WidgetConfig

WEBSOCKET_PATH = "/webchat/v1/ws"
TYPING_EVENT = "conversation.typing"

# --- configuration (admin) ------------------------------------------------------------------------------


async def _webchat_channel(session: AsyncSession, channel_id: int) -> Channel:
    channel = await session.get(Channel, channel_id) if 1 <= channel_id <= 2**31 - 1 else None
    if channel is None or channel.kind != ChannelKind.WEBCHAT.value:
        raise WidgetNotFound(f"no webchat channel {channel_id}", {"id": channel_id})
    return channel


async def _widget_of(session: AsyncSession, channel_id: int) -> WebchatWidget | None:
    return (await session.execute(select(WebchatWidget).where(WebchatWidget.channel_id == channel_id))).scalar()


def widget_view(widget: WebchatWidget, channel: Channel, base_url: str) -> dict[str, Any]:
    return {
        "channel_id": channel.id, "public_key": widget.public_key, "allowed_origins": list(widget.allowed_origins),
        "title": widget.title, "prechat": widget.prechat,
        "identity_verification": "widget_secret" in (channel.credential_names or []),
        "snippet": f'<script src="{base_url.rstrip("/")}/widget.js" data-channel="{widget.public_key}" async></script>',
        "updated_at": widget.updated_at,
    }  # fmt: skip


async def get_widget(session: AsyncSession, channel_id: int) -> tuple[WebchatWidget, Channel]:
    channel = await _webchat_channel(session, channel_id)
    widget = await _widget_of(session, channel.id)
    if widget is None:
        raise WidgetNotFound(f"webchat channel {channel_id} has no widget yet: PUT its configuration first",
                             {"id": channel_id})
    return widget, channel


async def configure_widget(
    session: AsyncSession, clock: Clock, box: CredentialBox, actor: Actor, channel_id: int, body: WidgetConfig
) -> tuple[WebchatWidget, Channel]:
    """Create or replace a channel's widget settings; the public and signing keys are made once."""
    channel = await _webchat_channel(session, channel_id)
    widget = await _widget_of(session, channel.id)
    now = clock.now()
    origins = sorted({o.lower().rstrip("/") for o in body.allowed_origins})
    before = None
    if widget is None:
        widget = WebchatWidget(channel_id=channel.id, public_key="wk_" + secrets.token_urlsafe(18),
                               signing_key=box.seal({"key": tokens.new_key()}), created_at=now)
        session.add(widget)
    else:
        before = {"allowed_origins": widget.allowed_origins, "title": widget.title, "prechat": widget.prechat}
    widget.allowed_origins, widget.title, widget.prechat, widget.updated_at = origins, body.title, body.prechat, now
    await session.flush()
    after = {"allowed_origins": origins, "title": body.title, "prechat": body.prechat}
    if after != before:
        await audit.record(session, clock, actor, "update" if before else "create", "webchat_widget", channel.id,
                           before, after)
    return widget, channel


# --- sessions (the widget) -----------------------------------------------------------------------------


async def resolve_widget(session: AsyncSession, ref: str) -> tuple[WebchatWidget, Channel]:
    """`data-channel` is the channel id or the widget's public key."""
    if ref.isdigit() and len(ref) < 10:
        widget = await _widget_of(session, int(ref))
    elif ref.startswith("wk_") and len(ref) <= 40:
        widget = (await session.execute(select(WebchatWidget).where(WebchatWidget.public_key == ref))).scalar()
    else:
        widget = None
    channel = await session.get(Channel, widget.channel_id) if widget is not None else None
    if widget is None or channel is None:
        raise WidgetNotFound(f"no web chat widget '{ref[:40]}'")
    if not channel.enabled:
        raise WidgetDisabled("this chat is closed for now")
    return widget, channel


def origin_allowed(widget: WebchatWidget, origin: str | None) -> bool:
    """Requests without an Origin are not from a browser on another site; browsers always send one."""
    return origin is None or origin.lower().rstrip("/") in widget.allowed_origins


def check_origin(widget: WebchatWidget, origin: str | None) -> None:
    if not origin_allowed(widget, origin):
        raise OriginNotAllowed(f"origin {str(origin)[:200]} may not embed this chat; add it to allowed_origins")


def _widget_secret(box: CredentialBox, channel: Channel) -> str:
    try:
        return str(box.open(channel.credentials).get("widget_secret") or "")
    except CredentialsUnreadable:
        return ""


def _signing_key(box: CredentialBox, widget: WebchatWidget) -> str:
    try:
        return str(box.open(widget.signing_key)["key"])
    except (CredentialsUnreadable, KeyError):
        raise TokenInvalid("this widget's signing key cannot be read; save its configuration again") from None


async def open_session(
    session: AsyncSession, clock: Clock, box: CredentialBox, widget: WebchatWidget, channel: Channel,
    origin: str | None, body: SessionIn,
) -> dict[str, Any]:  # fmt: skip
    """Find or create the visitor, update the pre-chat profile, and sign a short-lived token."""
    check_origin(widget, origin)
    now = clock.now()
    new_key: str | None = None
    if body.identifier is not None or body.identifier_hash is not None:
        if body.identifier is None or body.identifier_hash is None:
            raise InvalidInput("identifier and identifier_hash go together", {"field": "identifier_hash"},
                               reason="identifier_hash_pair")  # fmt: skip
        secret = _widget_secret(box, channel)
        if not secret:
            raise IdentityInvalid("identity verification is not configured for this chat (no widget_secret)")
        if not tokens.identity_valid(secret, body.identifier, body.identifier_hash):
            raise IdentityInvalid("identifier_hash is not the HMAC-SHA256 of the identifier with the widget secret")
        visitor = await _verified_visitor(session, widget, body.identifier, now)
    elif body.visitor_id is not None:
        visitor = (await session.execute(select(WebchatVisitor).where(
            WebchatVisitor.public_id == body.visitor_id, WebchatVisitor.widget_id == widget.id))).scalar()
        if visitor is None or visitor.key_hash is None or body.visitor_key is None or \
                not secrets.compare_digest(visitor.key_hash, tokens.key_hash(body.visitor_key)):
            raise VisitorKeyInvalid("visitor_id and visitor_key do not match; start a new visitor")
    else:
        new_key = secrets.token_urlsafe(24)
        visitor = WebchatVisitor(widget_id=widget.id, public_id="v_" + secrets.token_urlsafe(18),
                                 key_hash=tokens.key_hash(new_key), last_seq=0, created_at=now, last_seen_at=now)
        session.add(visitor)
    if body.name is not None:
        visitor.name = body.name
    if body.email is not None:
        visitor.email = body.email
    visitor.last_seen_at = now
    await session.flush()
    expires = now + timedelta(seconds=tokens.TOKEN_TTL_SECONDS)
    claims = tokens.Claims(widget.id, visitor.id, (origin or "").lower().rstrip("/"), int(expires.timestamp()))
    return {
        "token": tokens.sign(_signing_key(box, widget), claims), "expires_at": datetime.fromtimestamp(claims.expires, UTC),
        "visitor_id": visitor.public_id, "visitor_key": new_key, "verified": visitor.identifier is not None,
        "name": visitor.name, "email": visitor.email, "title": widget.title, "prechat": widget.prechat,
        "websocket_path": WEBSOCKET_PATH,
    }  # fmt: skip


async def _verified_visitor(session: AsyncSession, widget: WebchatWidget, identifier: str, now: datetime) -> WebchatVisitor:
    """One visitor per verified identifier and widget, made once even when two pages race."""
    stmt = select(WebchatVisitor).where(WebchatVisitor.widget_id == widget.id, WebchatVisitor.identifier == identifier)
    found = (await session.execute(stmt)).scalar()
    if found is not None:
        return found
    visitor = WebchatVisitor(widget_id=widget.id, public_id="v_" + secrets.token_urlsafe(18), key_hash=None,
                             identifier=identifier, last_seq=0, created_at=now, last_seen_at=now)
    try:
        async with session.begin_nested():
            session.add(visitor)
    except IntegrityError:
        found = (await session.execute(stmt)).scalar()
        assert found is not None
        return found
    return visitor


async def authenticate(
    session: AsyncSession, clock: Clock, box: CredentialBox, token: str, origin: str | None
) -> tuple[WebchatWidget, Channel, WebchatVisitor]:
    """The widget, channel and visitor of a valid, unexpired token used from the origin it was made for."""
    try:
        widget_id = tokens.peek_widget(token)
    except tokens.TokenError as exc:
        raise TokenInvalid(str(exc)) from None
    widget = await session.get(WebchatWidget, widget_id) if 1 <= widget_id <= 2**31 - 1 else None
    if widget is None:
        raise TokenInvalid("the session token is for an unknown widget")
    try:
        claims = tokens.verify(_signing_key(box, widget), token, clock.now().timestamp())
    except tokens.TokenError as exc:
        expired = isinstance(exc, tokens.TokenExpired)
        raise TokenInvalid(str(exc), reason="token_expired" if expired else None) from None
    visitor = await session.get(WebchatVisitor, claims.visitor_id)
    channel = await session.get(Channel, widget.channel_id)
    if visitor is None or visitor.widget_id != widget.id or channel is None:
        raise TokenInvalid("the session token's visitor no longer exists")
    if not channel.enabled:
        raise WidgetDisabled("this chat is closed for now")
    if claims.origin and (origin or "").lower().rstrip("/") != claims.origin:
        raise OriginNotAllowed("this token was issued to another origin")
    check_origin(widget, origin)
    return widget, channel, visitor


# --- the visitor's stream ---------------------------------------------------------------------------------


async def _lock_visitor(session: AsyncSession, visitor_id: int, now: datetime) -> None:
    """A write first: PostgreSQL locks the row, SQLite takes its write lock; stream numbers then follow commits."""
    await session.execute(update(WebchatVisitor).where(WebchatVisitor.id == visitor_id).values(last_seen_at=now))


async def _next_seq(session: AsyncSession, visitor_id: int) -> int:
    result = await session.execute(update(WebchatVisitor).where(WebchatVisitor.id == visitor_id)
                                   .values(last_seq=WebchatVisitor.last_seq + 1).returning(WebchatVisitor.last_seq))
    return int(result.scalar_one())


def _sender(visitor: WebchatVisitor | Row[Any]) -> tuple[Identity, tuple[Identity, ...]]:
    anonymous = Identity(IdentityKind.VISITOR, visitor.public_id)
    if visitor.identifier is None:
        return anonymous, (anonymous,)
    verified = Identity(IdentityKind.VISITOR_VERIFIED, visitor.identifier)
    return verified, (verified, anonymous)


def peer_of(visitor: WebchatVisitor) -> str:
    """The `to_identity` an agent's reply uses: the verified identifier, else the visitor id."""
    return visitor.identifier if visitor.identifier is not None else visitor.public_id


@dataclass(frozen=True)
class StoredFile:
    """A visitor's attachment, already checked and written (attachments.store) before its message is."""

    path: str  # under var_dir/media
    mime: str
    filename: str
    size: int


@dataclass(frozen=True)
class Stored:
    """A visitor's message as stored: `event` is its stream frame (None for a duplicate, already in the stream)."""

    message_id: int
    seq: int
    duplicate: bool
    event: dict[str, Any] | None = None


# Table statements, not ORM ones, built once, on the path of every visitor message: the same SQL for a fraction
# of the CPU.
_VISITORS = cast(Table, WebchatVisitor.__table__)
_MESSAGES = cast(Table, Message.__table__)
_EVENTS = cast(Table, WebchatEvent.__table__)


_STORED = select(_MESSAGES.c.id).where(_MESSAGES.c.channel_id == bindparam("channel_id"),
                                       _MESSAGES.c.provider_message_id == bindparam("provider_id"))  # fmt: skip
_ADD_MESSAGES = insert(_MESSAGES).returning(_MESSAGES.c.id, sort_by_parameter_order=True)
_ADD_EVENT = insert(_EVENTS)


async def _claim(session: AsyncSession, visitor_ids: list[int], now: datetime) -> dict[int, Row[Any]]:
    """The visitors' rows, written first (PostgreSQL locks them, SQLite takes its write lock) and each taking
    as many stream numbers as it has messages here, in one statement, so numbers follow commits. Returns
    each visitor's row: `last_seq` is the last number taken, and what the messages need."""
    counts = Counter(visitor_ids)
    claim = (
        update(_VISITORS).where(_VISITORS.c.id.in_(list(counts)))
        .values(last_seen_at=now, last_seq=_VISITORS.c.last_seq + case(counts, value=_VISITORS.c.id, else_=0))
        .returning(_VISITORS.c.id, _VISITORS.c.last_seq, _VISITORS.c.public_id, _VISITORS.c.identifier,
                   _VISITORS.c.name, _VISITORS.c.email)
    )  # fmt: skip
    return {row.id: row for row in await session.execute(claim)}


MAX_BATCH = 50  # visitor messages written in one transaction at most


@dataclass(frozen=True)
class _VisitorSend:
    clock: Clock
    sink: MessageSink
    channel: Channel
    visitor_id: int
    client_id: str
    text: str | None
    file: StoredFile | None


_WRITERS: WeakKeyDictionary[Database, GroupCommit[_VisitorSend, Stored]] = WeakKeyDictionary()


async def visitor_message(
    db: Database, clock: Clock, sink: MessageSink, channel: Channel, visitor_id: int, client_id: str,
    text: str | None, file: StoredFile | None = None,
) -> Stored:  # fmt: skip
    """Store a visitor's message (text, or a file with an optional caption) once per client id and hand it to
    the sink in the same transaction; on a duplicate the caller removes the file it stored.

    Messages are written by group commit (group_commit.py): those of any visitors that arrive while one
    transaction commits are written together by the next, each handed to the sink in it. When a batch fails
    (a resend, a sink's error) its messages are written again one by one, so only that message's sender
    hears of it."""
    group = _WRITERS.get(db)
    if group is None:
        # the writer holds the database weakly: a value that held its key would keep both for ever
        group = _WRITERS[db] = GroupCommit(partial(_write_sends, ref(db)), MAX_BATCH, (Exception,))
    return await group.submit(_VisitorSend(clock, sink, channel, visitor_id, client_id, text, file))


async def _write_sends(db_ref: ref[Database], sends: list[_VisitorSend]) -> list[Stored]:
    """One transaction for the batch. A message is written without looking for an earlier copy first: a
    resend (rare: a socket that dropped before its ack) breaks the unique (channel, provider id) and the whole
    transaction rolls back, stream numbers and sink's work included; the batch is then written one by one
    (group_commit.py), and the resend alone finds its first copy."""
    db = db_ref()
    assert db is not None  # every sender holds it while its message is written
    try:
        async with db.session() as session:
            return await _store(session, sends)
    except IntegrityError:
        if len(sends) > 1:
            raise
        send = sends[0]
        async with db.session() as session:
            first = await _first_copy(session, send.channel.id, send.visitor_id, send.client_id)
        if first is None:
            raise  # another constraint: not a resend
        return [first]


async def _first_copy(session: AsyncSession, channel_id: int, visitor_id: int, client_id: str) -> Stored | None:
    public_id = (await session.execute(select(_VISITORS.c.public_id).where(_VISITORS.c.id == visitor_id))).scalar()
    found = (await session.execute(_STORED, {"channel_id": channel_id,
                                             "provider_id": f"{public_id}:{client_id}"})).scalar()  # fmt: skip
    if found is None:
        return None
    first = (await session.execute(select(_EVENTS.c.seq).where(_EVENTS.c.message_id == found))).scalar()
    return Stored(found, int(first or 0), True)


_MESSAGE_COLUMNS = ("channel_id", "interaction_id", "direction", "provider_message_id", "peer_kind", "peer", "kind",
                    "text", "data", "media_path", "media_mime", "status", "status_at", "created_at")  # fmt: skip


async def _store(session: AsyncSession, sends: list[_VisitorSend]) -> list[Stored]:
    """Write the batch with a statement per step, not per message (the cost of a statement, not of its rows,
    is what a burst pays): the visitors' stream numbers, each message placed by its sink, the messages,
    their stream events."""
    now = sends[0].clock.now()
    visitors = await _claim(session, [s.visitor_id for s in sends], now)
    taken = Counter(s.visitor_id for s in sends)
    placed: list[tuple[_VisitorSend, int, Message, InboundMessage]] = []
    for send in sends:
        visitor = visitors[send.visitor_id]
        seq = int(visitor.last_seq) - taken[send.visitor_id] + 1
        taken[send.visitor_id] -= 1
        placed.append((send, seq, *_message(send, visitor, now)))
    by_channel: dict[tuple[int, int], list[tuple[_VisitorSend, int, Message, InboundMessage]]] = {}
    for item in placed:  # one call to each sink per channel, the messages in the order they came
        by_channel.setdefault((id(item[0].sink), item[0].channel.id), []).append(item)
    for group in by_channel.values():
        await group[0][0].sink.place(session, group[0][0].channel, [(m, i) for _, _, m, i in group])
    rows = [{column: getattr(message, column) for column in _MESSAGE_COLUMNS} for _, _, message, _ in placed]
    ids = (await session.execute(_ADD_MESSAGES, rows)).scalars().all()  # a resend fails here (see _write_sends)
    events, stored = [], []
    for (send, seq, message, inbound), message_id in zip(placed, ids, strict=True):
        message.id = message_id
        await send.sink.received(session, send.channel, message, inbound)
        data = _event_data(message, send.client_id, now)
        events.append({"visitor_id": send.visitor_id, "seq": seq, "kind": "message", "message_id": message_id,
                       "created_at": now, "data": data})  # fmt: skip
        stored.append(Stored(message_id, seq, False, frame_of("message", seq, data)))
    await session.execute(_ADD_EVENT, events)
    return stored


def _message(send: _VisitorSend, visitor: Row[Any], now: datetime) -> tuple[Message, InboundMessage]:
    """The visitor's message as the sink sees it (not yet written), and as a channel would have delivered it."""
    file, text, client_id = send.file, send.text, send.client_id
    provider_id = f"{visitor.public_id}:{client_id}"
    sender, identities = _sender(visitor)
    kind = attachments.kind_for(file.mime) if file is not None else MessageKind.TEXT
    inbound = InboundMessage(
        provider_message_id=provider_id, sender=sender, identities=identities, kind=kind, sent_at=now,
        text=text, profile_name=visitor.name,
        media=MediaRef(file.path, file.mime, file.filename) if file is not None else None,
        extra={"visitor_id": visitor.public_id, "email": visitor.email, "client_id": client_id},
    )  # fmt: skip
    data: dict[str, Any] = {"identities": [{"kind": i.kind.value, "value": i.value} for i in identities],
                            "extra": {k: v for k, v in inbound.extra.items() if v is not None}}
    if visitor.name:
        data["profile_name"] = visitor.name
    if file is not None:
        data |= {"filename": file.filename, "size": file.size}
    message = Message(
        channel_id=send.channel.id, interaction_id=None, direction="in", provider_message_id=provider_id,
        peer_kind=sender.kind.value, peer=sender.value, kind=kind.value, text=text, data=data,
        media_path=file.path if file is not None else None, media_mime=file.mime if file is not None else None,
        status=delivery.DeliveryStatus.RECEIVED.value, status_at=now, created_at=now,
    )  # fmt: skip
    return message, inbound


def _event_data(message: Message, client_id: str | None, now: datetime) -> dict[str, Any]:
    """A message's stream event as the widget reads it."""
    data = {"message_id": message.id, "direction": message.direction, "client_id": client_id, "text": message.text,
            "at": now.isoformat()}
    if message.media_path:  # the widget downloads it with its session token (see attachment_of)
        extra = message.data or {}
        data["media"] = {"kind": message.kind, "mime": message.media_mime,
                         "filename": extra.get("filename") or (extra.get("content") or {}).get("filename"),
                         "size": extra.get("size")}  # fmt: skip
    return data


async def _append(session: AsyncSession, visitor_id: int, seq: int, message: Message, client_id: str | None,
                  now: datetime) -> dict[str, Any]:  # fmt: skip
    """Add the message to the visitor's stream as number `seq`; returns its frame."""
    data = _event_data(message, client_id, now)
    await session.execute(_ADD_EVENT, {"visitor_id": visitor_id, "seq": seq, "kind": "message",
                                       "message_id": message.id, "created_at": now, "data": data})  # fmt: skip
    return frame_of("message", seq, data)


async def events_after(session: AsyncSession, visitor_id: int, after: int, limit: int = 200) -> list[WebchatEvent]:
    stmt = (select(WebchatEvent).where(WebchatEvent.visitor_id == visitor_id, WebchatEvent.seq > after)
            .order_by(WebchatEvent.seq).limit(limit))
    return list((await session.execute(stmt)).scalars())


def frame(event: WebchatEvent) -> dict[str, Any]:
    """A stored event as the widget receives it; `id` is what it resumes after."""
    return frame_of(event.kind, event.seq, event.data)


def frame_of(kind: str, seq: int, data: dict[str, Any]) -> dict[str, Any]:
    if kind == "seen":
        return {"type": "seen", "id": seq, "message_ids": data.get("message_ids", [])}
    message = {"id": data.get("message_id"), "direction": data.get("direction"), "client_id": data.get("client_id"),
               "text": data.get("text"), "at": data.get("at")}
    if data.get("media"):
        message["media"] = data["media"]
    return {"type": kind, "id": seq, "message": message}


async def _move_status(
    session: AsyncSession, clock: Clock, sink: MessageSink, channel: Channel, message: Message, word: str
) -> None:
    merged = delivery.merge(message.status, delivery.DeliveryStatus(word))
    if merged.value == message.status:
        return
    now = clock.now()
    message.status, message.status_at = merged.value, now
    message.error_code = message.error_message = None
    await sink.status_changed(session, channel, message, StatusUpdate(
        provider_message_id=message.provider_message_id or f"webchat-message:{message.id}", status=word, at=now,
        recipient=message.peer))


async def apply_receipts(
    session: AsyncSession, clock: Clock, sink: MessageSink, channel: Channel, owed: dict[int, str]
) -> dict[int, str]:
    """Move agent messages to delivered (written to the visitor's socket) or read (the widget showed them).

    A message whose outbox row is still "sending" is left owed: the outbox is about to write "sent" from a
    read it made before our receipt, and would overwrite it. Returns what is still owed."""
    if not owed:
        return {}
    sending = set((await session.execute(select(OutboxItem.message_id).where(
        OutboxItem.message_id.in_(list(owed)), OutboxItem.state == "sending"))).scalars())
    rows = (await session.execute(select(Message).where(
        Message.id.in_([m for m in owed if m not in sending]), Message.direction == "out",
        Message.channel_id == channel.id).with_for_update())).scalars().all()
    for message in sorted(rows, key=lambda m: m.id):
        await _move_status(session, clock, sink, channel, message, owed[message.id])
    return {m: word for m, word in owed.items() if m in sending}


async def attachment_of(session: AsyncSession, visitor_id: int, message_id: int) -> Message | None:
    """A file in this visitor's stream (theirs or an agent's); None for anyone else's, so only the visitor's
    own sessions can download it."""
    stmt = (select(Message).join(WebchatEvent, WebchatEvent.message_id == Message.id)
            .where(WebchatEvent.visitor_id == visitor_id, Message.id == message_id, Message.media_path.is_not(None)))
    return (await session.execute(stmt)).scalar()


async def owns_reply(session: AsyncSession, visitor_id: int, message_id: int) -> bool:
    """Whether an agent message was written to this visitor's stream (a widget may only mark its own read)."""
    found = (await session.execute(select(WebchatEvent.id).join(Message, Message.id == WebchatEvent.message_id).where(
        WebchatEvent.visitor_id == visitor_id, WebchatEvent.message_id == message_id,
        Message.direction == "out"))).scalar()
    return found is not None


# --- agent replies: the outbox's "provider" ----------------------------------------------------------------


async def _visitor_for_peer(session: AsyncSession, channel_id: int, peer: str) -> WebchatVisitor | None:
    widget = await _widget_of(session, channel_id)
    if widget is None:
        return None
    for column in (WebchatVisitor.public_id, WebchatVisitor.identifier):  # a visitor id, else an identifier
        found = (await session.execute(select(WebchatVisitor).where(
            WebchatVisitor.widget_id == widget.id, column == peer))).scalar()
        if found is not None:
            return found
    return None


async def append_read(session: AsyncSession, clock: Clock, channel_id: int, peer: str,
                      message_ids: list[int]) -> tuple[int, int, dict[str, Any]] | None:  # fmt: skip
    """The agent has read these messages of the visitor's: an event in their stream, so the widget shows them
    seen (now, or when it resumes) from a `seen` frame. Returns (visitor id, stream number, frame) for the hub
    once committed."""
    visitor = await _visitor_for_peer(session, channel_id, peer)
    if visitor is None or not message_ids:
        return None
    now = clock.now()
    seq = await _next_seq(session, visitor.id)
    data = {"message_ids": sorted(message_ids)}
    await session.execute(_ADD_EVENT, {"visitor_id": visitor.id, "seq": seq, "kind": "seen", "message_id": None,
                                       "created_at": now, "data": data})  # fmt: skip
    return visitor.id, seq, frame_of("seen", seq, data)


async def append_outgoing(
    session: AsyncSession, clock: Clock, channel: Channel, to: str, content: OutgoingContent
) -> tuple[str, int]:
    """Write an agent's message into the visitor's stream; returns (provider id, visitor row id).

    The outbox hands us (to, content), not the message: the message is the one the outbox is sending to this
    visitor with this content and no stream event yet; under the visitor's lock that choice is stable."""
    stored = attachments.stored_path(content.media_url, channel.id)
    if content.kind in attachments.FILE_KINDS:
        if stored is None:
            raise PermanentSendError("a web chat attachment must be a file uploaded to this channel", "unknown_file")
    elif content.kind is not MessageKind.TEXT or not content.text:
        raise PermanentSendError("web chat carries text and attachments only", "unsupported_kind")
    if content.text and len(content.text) > MAX_TEXT:
        raise PermanentSendError(f"web chat text is limited to {MAX_TEXT} characters", "text_too_long")
    visitor = await _visitor_for_peer(session, channel.id, to)
    if visitor is None:
        raise PermanentSendError(f"no web chat visitor '{to[:64]}' on channel {channel.id}", "unknown_visitor")
    now = clock.now()
    await _lock_visitor(session, visitor.id, now)
    candidates = (await session.execute(
        select(Message).join(OutboxItem, OutboxItem.message_id == Message.id)
        .where(Message.channel_id == channel.id, Message.direction == "out", Message.peer == to,
               OutboxItem.state == "sending", ~exists().where(WebchatEvent.message_id == Message.id))
        .order_by(Message.id))).scalars().all()
    wanted = content.to_json()
    message = next((m for m in candidates if (m.data or {}).get("content") == wanted), None)
    if message is None:
        raise PermanentSendError("the outgoing message to this visitor was not found", "message_not_found")
    if stored is not None and message.media_path is None:
        message.media_path, message.media_mime = stored, attachments.mime_of(stored)
    seq = await _next_seq(session, visitor.id)
    await _append(session, visitor.id, seq, message, None, now)
    return f"webchat:{visitor.public_id}:{seq}", visitor.id


# --- typing ---------------------------------------------------------------------------------------------


async def visitor_typing(session: AsyncSession, clock: Clock, bus: EventBus, channel: Channel,
                         visitor: WebchatVisitor, typing: bool) -> None:
    """Tell the agents' stream; the core routes `conversation.typing` to whoever holds the interaction."""
    interaction_id = (await session.execute(
        select(Message.interaction_id).where(Message.channel_id == channel.id, Message.peer == peer_of(visitor),
                                             Message.interaction_id.is_not(None))
        .order_by(Message.id.desc()).limit(1))).scalar()
    queue_id = agent_id = None
    if interaction_id is not None:  # scoped like the conversation: its agent and its queue's supervisors see it
        from teleplex.interactions.models import Interaction  # the table only: messaging stays below the core

        found = (await session.execute(select(Interaction.queue_id, Interaction.agent_id).where(
            Interaction.id == interaction_id))).first()
        if found is not None:
            queue_id, agent_id = found
    bus.publish(Event(TYPING_EVENT, clock.now(), {
        "channel_id": channel.id, "peer": peer_of(visitor), "visitor_id": visitor.public_id,
        "interaction_id": interaction_id, "typing": typing, "who": "visitor"}, queue_id=queue_id, agent_id=agent_id,
        private=True))


async def agent_typing(db: Database, channel_id: int, to_identity: str, typing: bool = True) -> int:
    """Show (or hide) "agent is typing" in the visitor's widget; returns how many of their sockets on this
    node were told. Ephemeral: nothing is stored, a widget that reconnects simply shows no indicator."""
    async with db.session() as session:
        visitor = await _visitor_for_peer(session, channel_id, to_identity)
    if visitor is None:
        return 0
    return hub_for(db).poke(visitor.id, {"type": "typing", "from": "agent", "typing": typing})
