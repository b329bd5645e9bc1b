"""HTTP routes an agent works a conversation with: accept, reply, private note, transfer, resolve; and the
canned responses they reply with."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import FileResponse
from fastapi import Path as PathParam
from pydantic import Field, StringConstraints, computed_field, model_validator
from sqlalchemy import select

from teleplex.audit import service as audit
from teleplex.auth.deps import PrincipalDep
from teleplex.auth.principal import Principal
from teleplex.center import wrapup_rules
from teleplex.center.models import Agent, Disposition
from teleplex.contacts.models import Contact
from teleplex.core.crud import flush_or_conflict, get_or_404, page
from teleplex.core.deps import ClockDep, SessionDep
from teleplex.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from teleplex.core.schemas import MAX_ID, ApiInput, ApiOutput, Id, ListParams, Page
from teleplex.engine.chat import ChatChannel
from teleplex.interactions import conversations
from teleplex.interactions import service as interactions
from teleplex.interactions.api import scope
from teleplex.interactions.models import CannedResponse, Interaction
from teleplex.messaging import templates as wa_templates
from teleplex.messaging.models import Channel, Message
from teleplex.messaging.outbox import enqueue_outgoing, whatsapp_window
from teleplex.messaging.providers.base import MessageKind, OutgoingContent
from teleplex.messaging.receipts import agent_read
from teleplex.messaging.runtime import runtime_for
from teleplex.messaging.webchat import attachments
from teleplex.messaging.webchat.service import agent_typing

router = APIRouter(prefix="/api/v1", tags=["conversations"])
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]
ReplyText = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Shortcut = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]


class ReplyBody(ApiInput):
    """Text, a canned response (its placeholders filled in for this conversation), or an attachment with an
    optional caption in `text`: `media_url` is a public URL (WhatsApp, Telegram, SMS fetch it from there) or,
    for web chat, the `media_url` that `POST .../attachments` answered."""

    text: ReplyText | None = None
    canned_response_id: Id | None = None
    media_url: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None
    media_kind: Literal["image", "audio", "video", "document"] | None = None  # default: from the file's type
    filename: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    # Telegram: a button with this label under the text, asking the customer to share their phone number (the
    # shared contact links their Telegram identity to the profile with that number; see docs/contacts.md)
    ask_phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    # WhatsApp: an approved template (the only thing that may be sent once the 24-hour window has closed)
    template_name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")] | None = None
    template_language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")] | None = None
    # the values of the template body's variables, in the order `window` lists them
    template_variables: Annotated[list[Annotated[str, StringConstraints(max_length=wa_templates.MAX_VALUE)]],
                                  Field(max_length=100)] | None = None  # fmt: skip
    # the header's variable (TEXT header) or the http(s) link to its image, video or document
    template_header: Annotated[str, StringConstraints(max_length=2000)] | None = None
    # one value per button that takes one (a URL's suffix, a copy code), in the order `window` lists them
    template_buttons: Annotated[list[Annotated[str, StringConstraints(max_length=wa_templates.MAX_VALUE)]],
                                Field(max_length=10)] | None = None  # fmt: skip

    @model_validator(mode="after")
    def _one(self) -> ReplyBody:
        given = [self.text is not None or self.media_url is not None, self.canned_response_id is not None,
                 self.template_name is not None]  # fmt: skip
        if sum(given) != 1:
            raise ValueError("give either text (and/or media_url), canned_response_id or template_name")
        if self.template_language is not None and self.template_name is None:
            raise ValueError("template_language goes with template_name")
        if self.template_name is None and (self.template_variables is not None or self.template_header is not None
                                           or self.template_buttons is not None):
            raise ValueError("template_variables, template_header and template_buttons go with template_name")
        if self.media_url is None and (self.media_kind is not None or self.filename is not None):
            raise ValueError("media_kind and filename go with media_url")
        return self


class WindowOut(ApiOutput):
    """WhatsApp's 24-hour window: free-form replies only while it is open; approved templates always."""

    applies: bool  # false: this channel has no such window (web chat, Telegram, SMS)
    open: bool  # true where the window does not apply
    closes_at: datetime | None
    last_inbound_at: datetime | None
    # the approved templates: [{"name", "language", "category", "body", "variables", "variable_count", "header",
    #   "buttons"}]: header {"format", "text", "variable", "takes_value"} or null; buttons taking a value
    #   [{"index", "type" (URL, COPY_CODE), "text", "url"}]
    templates: list[dict[str, Any]]
    templates_source: Literal["meta", "settings"] | None = None  # Meta's list, or the channel's settings
    templates_error: str | None = None  # why Meta's list is not the one shown


class NoteBody(ApiInput):
    text: ReplyText


class TypingBody(ApiInput):
    typing: bool = True


class ResolveBody(ApiInput):
    disposition_id: Id | None = None


class TransferBody(ApiInput):
    queue_id: Id | None = None
    agent_id: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> TransferBody:
        if (self.queue_id is None) == (self.agent_id is None):
            raise ValueError("give either queue_id or agent_id")
        return self


class MessageOut(ApiOutput):
    id: int
    interaction_id: int | None
    direction: str
    kind: str
    text: str | None
    media_mime: str | None
    status: str
    status_at: datetime | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    media_path: str | None = Field(None, exclude=True)
    data: dict[str, Any] | None = Field(None, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def media_url(self) -> str | None:
        """Where the agent downloads the message's stored file (customer's media, web chat attachments)."""
        if not self.media_path or self.interaction_id is None:
            return None
        return f"/api/v1/conversations/{self.interaction_id}/messages/{self.id}/media"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def template_name(self) -> str | None:
        """The approved template a WhatsApp message was sent with (its text is WhatsApp's, not ours)."""
        return ((self.data or {}).get("content") or {}).get("template_name")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def filename(self) -> str | None:
        data = self.data or {}
        return data.get("filename") or (data.get("content") or {}).get("filename")


class AttachmentOut(ApiOutput):
    """An uploaded file, ready to be sent: give these fields to `reply`."""

    media_url: str
    media_kind: str
    filename: str
    mime: str
    size: int


class CannedFields(ApiInput):
    shortcut: Shortcut
    title: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    queue_id: Id | None = None


class CannedUpdate(ApiInput):
    shortcut: Shortcut | None = None
    title: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    body: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None
    queue_id: Id | None = None


class CannedOut(ApiOutput):
    id: int
    shortcut: str
    title: str
    body: str
    queue_id: int | None


def chat_of(request: Request) -> ChatChannel:
    return request.app.state.chat


async def _workable(session: SessionDep, principal: Principal, interaction_id: int) -> Interaction:
    """The agent on the conversation, a supervisor of its queue, or an admin; and it must be a conversation."""
    interaction = await get_or_404(session, Interaction, interaction_id, "conversation")
    if interaction.channel_ref is None:
        raise NotFound(f"interaction {interaction_id} is not a conversation", {"interaction_id": interaction_id})
    allowed = (
        principal.is_admin
        or (principal.agent_id is not None and interaction.agent_id == principal.agent_id)
        or (interaction.queue_id is not None and principal.supervises(interaction.queue_id))
    )
    if not allowed:
        raise PermissionDenied(f"you may not work conversation {interaction_id}")
    return interaction


# --- the conversation ------------------------------------------------------------------------------------------


@router.get("/conversations/{interaction_id}/messages", response_model=Page[MessageOut],
            summary="The conversation's messages, oldest first")  # fmt: skip
async def list_messages(interaction_id: IdPath, params: Annotated[ListParams, Depends()], session: SessionDep,
                        principal: PrincipalDep) -> dict:  # fmt: skip
    principal.require_any("interactions.read", "interactions.read.own")
    found = await session.execute(scope(principal, select(Interaction.id).where(Interaction.id == interaction_id)))
    if found.first() is None:
        await get_or_404(session, Interaction, interaction_id, "conversation")
        raise PermissionDenied(f"conversation {interaction_id} is outside your scope")
    stmt = select(Message).where(Message.interaction_id == interaction_id)
    items, total = await page(session, stmt, params, search=[Message.text], order={"id": Message.id},
                              default_order="id")  # fmt: skip
    return {"items": items, "total": total, "limit": params.limit, "offset": params.offset}


def _seen(request: Request, background: BackgroundTasks, interaction_id: int) -> None:
    """The agent has the customer's messages in front of them: tell the customer (WhatsApp's blue ticks),
    after this request has committed."""
    runtime = runtime_for(request.app)
    background.add_task(agent_read, runtime.db, runtime.clock, runtime.providers, interaction_id)


@router.get("/conversations/{interaction_id}/window", response_model=WindowOut,
            summary="WhatsApp's 24-hour window: open or closed, until when, and the approved templates to send")  # fmt: skip
async def window(interaction_id: IdPath, request: Request, session: SessionDep, clock: ClockDep,
                 principal: PrincipalDep) -> dict:  # fmt: skip
    conversation = await _workable(session, principal, interaction_id)
    channel = await session.get(Channel, conversation.channel_ref) if conversation.channel_ref is not None else None
    if channel is None or channel.kind != "whatsapp" or conversation.peer is None:
        return {"applies": False, "open": True, "closes_at": None, "last_inbound_at": None, "templates": []}
    state = await whatsapp_window(session, clock, channel.id, conversation.peer)
    offer = await runtime_for(request.app).templates.offered(channel)
    return {"applies": True, **state, "templates": [t.out() for t in offer.templates],
            "templates_source": offer.source, "templates_error": offer.error}  # fmt: skip


@router.post("/conversations/{interaction_id}/accept", status_code=204, summary="Accept an offered conversation")
async def accept(interaction_id: IdPath, request: Request, background: BackgroundTasks, session: SessionDep,
                 principal: PrincipalDep) -> None:  # fmt: skip
    if principal.agent_id is None:
        raise PermissionDenied("only an agent can accept a conversation")
    await get_or_404(session, Interaction, interaction_id, "conversation")
    await chat_of(request).accept(interaction_id, principal.agent_id)
    _seen(request, background, interaction_id)


@router.post("/conversations/{interaction_id}/read", status_code=204,
             summary="The agent has read the customer's messages: marked read, and WhatsApp shows it to them")  # fmt: skip
async def read(interaction_id: IdPath, request: Request, background: BackgroundTasks, session: SessionDep,
               principal: PrincipalDep) -> None:  # fmt: skip
    """Only the agent holding the conversation: a supervisor looking in has not answered the customer, who
    would otherwise see their messages read."""
    conversation = await _workable(session, principal, interaction_id)
    if principal.agent_id is None or conversation.agent_id != principal.agent_id:
        raise PermissionDenied(f"only the agent holding conversation {interaction_id} marks it read",
                               {"interaction_id": interaction_id})  # fmt: skip
    _seen(request, background, interaction_id)


@router.post("/conversations/{interaction_id}/reply", response_model=MessageOut, status_code=201,
             summary="Send the customer a message (through the channel's outbox)")  # fmt: skip
async def reply(interaction_id: IdPath, body: ReplyBody, request: Request, background: BackgroundTasks,
                session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> Message:  # fmt: skip
    await chat_of(request).engine.settle()
    conversation = await _workable(session, principal, interaction_id)
    if conversation.state not in ("connected", "queued", "offered"):
        raise Conflict(f"conversation {interaction_id} is {conversation.state}: it cannot be replied to",
                       {"interaction_id": interaction_id, "state": conversation.state},
                       reason="conversation_closed")  # fmt: skip
    assert conversation.channel_ref is not None and conversation.peer is not None
    if body.canned_response_id is not None:
        content = OutgoingContent(text=await _render_canned(session, body.canned_response_id, conversation, principal))
    elif body.template_name is not None:
        if conversation.channel != "whatsapp":
            raise InvalidInput("template_name: only WhatsApp conversations take templates",
                               {"field": "template_name"},
                               reason="templates_whatsapp_only")  # fmt: skip
        content = await _template(request, session, conversation, body)
    elif body.media_url is not None:
        content = _attachment(request, conversation, body)
    else:
        content = OutgoingContent(text=body.text)
    if body.ask_phone is not None:
        if conversation.channel != "telegram" or content.kind is not MessageKind.TEXT:
            raise InvalidInput("ask_phone: only a Telegram text reply can carry the share-phone button",
                               {"field": "ask_phone"}, reason="share_phone_telegram_only")  # fmt: skip
        content = replace(content, ask_phone=body.ask_phone)
    message = await enqueue_outgoing(session, clock, conversation.channel_ref, conversation.peer, content,
                                     interaction_id=interaction_id)  # fmt: skip
    stored = attachments.stored_path(content.media_url, conversation.channel_ref)
    if stored is not None:  # our own file: the agent and the visitor download it from the center
        message.media_path, message.media_mime = stored, attachments.mime_of(stored)
        message.data = {**(message.data or {}), "filename": content.filename}
    now = clock.now()
    await conversations.replied(session, conversation, now, principal.agent_id)
    await interactions.event(session, conversation, now, "replied", principal.agent_id, message_id=message.id)
    chat_of(request).first_responded(interaction_id, principal.agent_id)
    _seen(request, background, interaction_id)
    return message


async def _template(request: Request, session: SessionDep, conversation: Interaction,
                    body: ReplyBody) -> OutgoingContent:  # fmt: skip
    """One of the templates `window` offers, its header, body variables and buttons filled in; 422 for anything
    else."""
    assert body.template_name is not None
    channel = await session.get(Channel, conversation.channel_ref)
    if channel is None:
        raise NotFound(f"channel {conversation.channel_ref} is gone", {"channel_id": conversation.channel_ref})
    offer = await runtime_for(request.app).templates.offered(channel)
    template = wa_templates.choose(offer.templates, body.template_name, body.template_language)
    components = wa_templates.components_for(template, body.template_variables or [], body.template_header,
                                             body.template_buttons)
    return OutgoingContent(kind=MessageKind.TEMPLATE, template_name=template.name, language=template.language,
                           components=components)  # fmt: skip


def _attachment(request: Request, conversation: Interaction, body: ReplyBody) -> OutgoingContent:
    """The outgoing content of a reply with a file: an uploaded one (web chat), or a public URL (the others)."""
    assert body.media_url is not None and conversation.channel_ref is not None
    if conversation.channel == "webchat":
        stored = attachments.stored_path(body.media_url, conversation.channel_ref)
        media_dir = runtime_for(request.app).processor.media_dir
        if stored is None or not (media_dir / stored).is_file():
            raise InvalidInput("media_url: not a file uploaded to this conversation's channel "
                               "(POST /conversations/{id}/attachments first)", {"field": "media_url"},
                               reason="media_not_uploaded")  # fmt: skip
        mime = attachments.mime_of(stored)
    elif body.media_url.startswith(("https://", "http://")):
        mime = mimetypes.guess_type(body.media_url.split("?")[0])[0] or "application/octet-stream"
    else:
        raise InvalidInput("media_url: the provider fetches the file from a public http(s) URL",
                           {"field": "media_url"},
                           reason="media_url_public")  # fmt: skip
    kind = MessageKind(body.media_kind) if body.media_kind else attachments.kind_for(mime)
    filename = body.filename or (attachments.safe_filename(None, mime) if kind is MessageKind.DOCUMENT else None)
    return OutgoingContent(kind=kind, text=body.text, media_url=body.media_url, filename=filename)


@router.post("/conversations/{interaction_id}/attachments", response_model=AttachmentOut, status_code=201,
             summary="Upload a file to send in a web-chat reply: the body is the file, with its Content-Type",
             openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {
                 "schema": {"type": "string", "format": "binary"}}}}})  # fmt: skip
async def upload(interaction_id: IdPath, request: Request, session: SessionDep,
                 principal: PrincipalDep) -> dict[str, Any]:  # fmt: skip
    mime = attachments.media_type(request.headers.get("content-type"))
    if mime == "application/json":  # the usual mistake: the body is the file itself, under its own type
        raise InvalidInput("the body is the file itself, sent with the file's Content-Type, not JSON",
                           {"field": "body"}, reason="upload_raw_body")  # fmt: skip
    conversation = await _workable(session, principal, interaction_id)
    if conversation.channel != "webchat" or conversation.channel_ref is None:
        raise Conflict("only web chat takes uploaded files; other channels send a public media_url in the reply",
                       {"channel": conversation.channel}, reason="upload_webchat_only")  # fmt: skip
    runtime = runtime_for(request.app)
    limit, allowed = runtime.settings.webchat_attachment_max_bytes, runtime.settings.webchat_attachment_types
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise attachments.AttachmentTooLarge(f"the file exceeds {limit} bytes", {"max_bytes": limit})
    content = await request.body()
    attachments.check(mime, content, allowed, limit)
    filename = attachments.safe_filename(request.query_params.get("filename"), mime)
    stored = attachments.store(runtime.processor.media_dir, conversation.channel_ref, mime, content)
    return {"media_url": attachments.REFERENCE + stored, "media_kind": attachments.kind_for(mime).value,
            "filename": filename, "mime": mime, "size": len(content)}  # fmt: skip


@router.get("/conversations/{interaction_id}/messages/{message_id}/media", summary="A message's stored file",
            response_class=FileResponse)
async def media(interaction_id: IdPath, message_id: IdPath, request: Request, session: SessionDep,
                principal: PrincipalDep) -> FileResponse:  # fmt: skip
    principal.require_any("interactions.read", "interactions.read.own")
    found = await session.execute(scope(principal, select(Interaction.id).where(Interaction.id == interaction_id)))
    if found.first() is None:
        await get_or_404(session, Interaction, interaction_id, "conversation")
        raise PermissionDenied(f"conversation {interaction_id} is outside your scope")
    message = await session.get(Message, message_id)
    media_dir = runtime_for(request.app).processor.media_dir.resolve()
    path = (media_dir / message.media_path).resolve() if message is not None and message.media_path else None
    if message is None or message.interaction_id != interaction_id or path is None \
            or not path.is_relative_to(media_dir) or not path.is_file():
        raise NotFound(f"message {message_id} of conversation {interaction_id} has no stored file")
    mime = message.media_mime or "application/octet-stream"
    name = MessageOut.model_validate(message).filename or attachments.safe_filename(None, mime)
    return FileResponse(path, media_type=mime, headers={
        "Content-Disposition": f'attachment; filename="{attachments.safe_filename(name, mime)}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@router.post("/conversations/{interaction_id}/notes", status_code=201,
             summary="A private note on the conversation: agents and supervisors see it, the customer never")  # fmt: skip
async def note(interaction_id: IdPath, body: NoteBody, request: Request, session: SessionDep, clock: ClockDep,
               principal: PrincipalDep) -> dict[str, Any]:  # fmt: skip
    await chat_of(request).engine.settle()
    conversation = await _workable(session, principal, interaction_id)
    await interactions.event(session, conversation, clock.now(), "note", principal.agent_id, text=body.text,
                             by=principal.name)  # fmt: skip
    return {"interaction_id": interaction_id, "text": body.text}


@router.post("/conversations/{interaction_id}/transfer", status_code=204,
             summary="Hand the conversation to another queue or a named agent")  # fmt: skip
async def transfer(interaction_id: IdPath, body: TransferBody, request: Request, session: SessionDep,
                   principal: PrincipalDep) -> None:  # fmt: skip
    chat = chat_of(request)
    await chat.engine.settle()
    conversation = await _workable(session, principal, interaction_id)
    if body.agent_id is not None and await session.get(Agent, body.agent_id) is None:
        raise NotFound(f"agent {body.agent_id} does not exist", {"agent_id": body.agent_id})
    await session.commit()  # nothing to write here; release the read before the engine writes
    await chat.transfer(conversation.id, principal.agent_id, body.queue_id, body.agent_id)


@router.post("/conversations/{interaction_id}/resolve", status_code=204, summary="Resolve the conversation")
async def resolve(interaction_id: IdPath, body: ResolveBody, request: Request, session: SessionDep,
                  principal: PrincipalDep) -> None:  # fmt: skip
    chat = chat_of(request)
    await chat.engine.settle()
    conversation = await _workable(session, principal, interaction_id)
    if conversation.state in ("resolved", "ended"):
        raise Conflict(f"conversation {interaction_id} is already {conversation.state}",
                       {"interaction_id": interaction_id, "state": conversation.state},
                       reason="conversation_closed")  # fmt: skip
    if body.disposition_id is not None and await session.get(Disposition, body.disposition_id) is None:
        raise InvalidInput(f"disposition {body.disposition_id} does not exist",
                           {"field": "disposition_id", "missing": body.disposition_id},
                           reason="unknown_id")  # fmt: skip
    if principal.agent_id is not None and conversation.agent_id == principal.agent_id:  # the queue's wrap-up rule
        await wrapup_rules.check_can_resolve(session, conversation, body.disposition_id)
    await session.commit()
    await chat.resolve(conversation.id, principal.agent_id, body.disposition_id)


@router.post("/conversations/{interaction_id}/typing", status_code=204,
             summary="Show (or hide) 'agent is typing' to the customer, where the channel can (web chat)")  # fmt: skip
async def typing(interaction_id: IdPath, body: TypingBody, request: Request, session: SessionDep,
                 principal: PrincipalDep) -> None:  # fmt: skip
    conversation = await _workable(session, principal, interaction_id)
    if conversation.channel == "webchat" and conversation.channel_ref is not None and conversation.peer is not None:
        await agent_typing(request.app.state.db, conversation.channel_ref, conversation.peer, body.typing)


# --- canned responses --------------------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(contact\.name|agent\.name|conversation\.id)\}")


async def _render_canned(session: SessionDep, canned_id: int | None, conversation: Interaction,
                         principal: Principal) -> str:  # fmt: skip
    canned = await get_or_404(session, CannedResponse, canned_id, "canned response")
    if canned.queue_id is not None and canned.queue_id != conversation.queue_id:
        raise InvalidInput(f"canned response {canned_id} belongs to another queue",
                           {"field": "canned_response_id"},
                           reason="canned_other_queue")  # fmt: skip
    contact = await session.get(Contact, conversation.contact_id) if conversation.contact_id else None
    agent = await session.get(Agent, principal.agent_id) if principal.agent_id else None
    values = {
        "contact.name": (contact.display_name if contact else None) or conversation.caller_name or "",
        "agent.name": (agent.display_name if agent else None) or principal.name,
        "conversation.id": str(conversation.id),
    }
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], canned.body).strip() or canned.body


@router.get("/canned-responses", response_model=Page[CannedOut], summary="Canned responses agents reply with")
async def list_canned(params: Annotated[ListParams, Depends()], session: SessionDep, principal: PrincipalDep) -> dict:
    principal.require_any("interactions.read", "interactions.read.own")
    items, total = await page(session, select(CannedResponse), params, search=[CannedResponse.shortcut,
                              CannedResponse.title, CannedResponse.body], order={"shortcut": CannedResponse.shortcut,
                              "id": CannedResponse.id}, default_order="shortcut")  # fmt: skip
    return {"items": items, "total": total, "limit": params.limit, "offset": params.offset}


@router.post("/canned-responses", response_model=CannedOut, status_code=201)
async def create_canned(body: CannedFields, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> Any:
    principal.require("queues.write")
    now = clock.now()
    row = CannedResponse(**body.model_dump(), created_at=now, updated_at=now)
    session.add(row)
    await flush_or_conflict(session, f"a canned response with shortcut {body.shortcut!r} exists",
                            reason="name_in_use")  # fmt: skip
    await audit.record(session, clock, principal, "create", "canned_response", row.id, None, body.model_dump())
    return row


@router.patch("/canned-responses/{canned_id}", response_model=CannedOut)
async def update_canned(canned_id: IdPath, body: CannedUpdate, session: SessionDep, clock: ClockDep,
                        principal: PrincipalDep) -> Any:  # fmt: skip
    principal.require("queues.write")
    row = await get_or_404(session, CannedResponse, canned_id, "canned response")
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name != "queue_id":
            raise InvalidInput(f"{name}: cannot be null", {"field": name}, reason="not_nullable")
        setattr(row, name, value)
    row.updated_at = clock.now()
    await flush_or_conflict(session, "a canned response with that shortcut exists", reason="name_in_use")
    await audit.record(session, clock, principal, "update", "canned_response", row.id, None, changes)
    return row


@router.delete("/canned-responses/{canned_id}", status_code=204)
async def delete_canned(canned_id: IdPath, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> None:
    principal.require("queues.write")
    row = await get_or_404(session, CannedResponse, canned_id, "canned response")
    before = {"shortcut": row.shortcut, "title": row.title, "body": row.body, "queue_id": row.queue_id}
    await session.delete(row)
    await audit.record(session, clock, principal, "delete", "canned_response", canned_id, before, None)
