"""HTTP edges of web chat: widget configuration (admin), the public session call with per-widget CORS,
widget.js, and the visitor's WebSocket.

The public routes authenticate by widget key, origin and signed token, not by bearer token, so like the
providers' webhooks they stay out of the OpenAPI document (tests/api/test_webchat_*.py fuzz them instead).
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import asyncio
import functools
import json
import random
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError

from teleplex.auth.deps import require
from teleplex.auth.principal import Principal
from teleplex.core.deps import ClockDep, SessionDep
from teleplex.core.errors import InvalidInput, NotFound, TeleplexError, TooManyAttempts
from teleplex.core.http import error_body
from teleplex.core.logging import get_logger
from teleplex.core.schemas import MAX_ID
from teleplex.messaging.models import Channel
from teleplex.messaging.runtime import MessagingRuntime, runtime_for
from teleplex.messaging.webchat import attachments, frames, service, widget_strings
from teleplex.messaging.webchat.errors import OriginNotAllowed, TokenInvalid, WidgetDisabled
from teleplex.messaging.webchat.hub import Appended, Listener, hub_for
from teleplex.messaging.webchat.limits import RateLimited
from teleplex.messaging.webchat.models import WebchatVisitor
from teleplex.messaging.webchat.schemas import SessionIn, SessionOut, WidgetConfig, WidgetOut

log = get_logger("teleplex.webchat")

router = APIRouter(prefix="/api/v1")
public = APIRouter(include_in_schema=False)
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]
Reader = Annotated[Principal, require("channels.read")]
Writer = Annotated[Principal, require("channels.write")]
WIDGET_JS = Path(__file__).resolve().parent.parent.parent / "web" / "static" / "widget.js"
MAX_SESSION_BODY = 4096
AUTH_WAIT_SECONDS = 10.0  # a socket that sends no token in this time is closed
POLL_SECONDS = 1.0  # receipts the outbox is still in the way of are retried this often
SETTLE_TRIES = 30  # after a socket closes, its owed receipts are retried this many times, POLL_SECONDS apart
# Writers in this process wake the visitor's sockets (the hub); an idle socket also re-reads its stream now
# and then, jittered so thousands of sockets spread out, for a write the hub did not carry (another node).
RESYNC_SECONDS = (20.0, 40.0)
_LATE: set[asyncio.Task[None]] = set()


def _base_url(request: Request, channel: Channel) -> str:
    return (channel.settings or {}).get("public_url") or str(request.base_url)


# --- configuration (admin) ------------------------------------------------------------------------------


@router.get("/channels/{channel_id}/webchat", response_model=WidgetOut, tags=["channels"])
async def get_widget(request: Request, channel_id: IdPath, session: SessionDep, _: Reader) -> dict:
    """The widget of a webchat channel and the snippet to paste into the site."""
    widget, channel = await service.get_widget(session, channel_id)
    return service.widget_view(widget, channel, _base_url(request, channel))


@router.put("/channels/{channel_id}/webchat", response_model=WidgetOut, tags=["channels"])
async def put_widget(
    request: Request, channel_id: IdPath, body: WidgetConfig, session: SessionDep, clock: ClockDep, actor: Writer
) -> dict:
    """Create or replace the widget's settings: allowed origins, title, pre-chat form."""
    box = runtime_for(request.app).box
    widget, channel = await service.configure_widget(session, clock, box, actor, channel_id, body)
    return service.widget_view(widget, channel, _base_url(request, channel))


# --- the embeddable script --------------------------------------------------------------------------------


@functools.cache
def _widget_script() -> str:
    """Made once per process: the file and the catalogue change only with a new release."""
    return widget_strings.render(WIDGET_JS.read_text(encoding="utf-8"))


@public.get("/widget.js")
async def widget_js() -> Response:
    """The script, with its words in every language written in (widget_strings.py)."""
    return Response(_widget_script(),
                    media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


# --- sessions, with CORS per widget ------------------------------------------------------------------------


def _cors(origin: str | None) -> dict[str, str]:
    """Echo the one allowed origin; never credentials: the widget works without cookies."""
    if origin is None:
        return {"Vary": "Origin"}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _error(exc: TeleplexError, headers: dict[str, str]) -> JSONResponse:
    body = error_body(exc.code, exc.message, exc.details, exc.reason)
    if isinstance(exc, TooManyAttempts):
        headers = {**headers, "Retry-After": str(exc.retry_after)}
    return JSONResponse(body, exc.status, headers=headers)


@public.options("/webchat/v1/widgets/{ref}/session")
async def session_preflight(request: Request, ref: Annotated[str, PathParam(max_length=40)]) -> Response:
    return await _preflight(request, ref, "POST", "content-type")


async def _preflight(request: Request, ref: str, methods: str, headers: str) -> Response:
    origin = request.headers.get("origin")
    runtime = runtime_for(request.app)
    try:
        async with runtime.db.session() as session:
            widget, _ = await service.resolve_widget(session, ref)
        service.check_origin(widget, origin)
    except TeleplexError as exc:
        return _error(exc, {"Vary": "Origin"})
    return Response(status_code=204, headers={
        **_cors(origin), "Access-Control-Allow-Methods": methods, "Access-Control-Allow-Headers": headers,
        "Access-Control-Max-Age": "600"})


@public.post("/webchat/v1/widgets/{ref}/session")
async def create_session(request: Request, ref: Annotated[str, PathParam(max_length=40)]) -> JSONResponse:
    """A visitor session: a short-lived signed token for the WebSocket (see docs/webchat.md)."""
    origin = request.headers.get("origin")
    runtime = runtime_for(request.app)
    headers = {"Vary": "Origin"}
    try:
        async with runtime.db.session() as session:
            widget, channel = await service.resolve_widget(session, ref)
            service.check_origin(widget, origin)
            headers = _cors(origin)
            runtime.webchat_limits.session(request.client.host if request.client else None,
                                           runtime.clock.monotonic())
            body = await _session_body(request)
            out = await service.open_session(session, runtime.clock, runtime.box, widget, channel, origin, body)
    except TeleplexError as exc:
        return _error(exc, headers)
    return JSONResponse(SessionOut.model_validate(out).model_dump(mode="json"), 200, headers=headers)


async def _session_body(request: Request) -> SessionIn:
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_SESSION_BODY:
        raise InvalidInput(f"the body exceeds {MAX_SESSION_BODY} bytes", {"max_bytes": MAX_SESSION_BODY},
                           reason="body_too_large")  # fmt: skip
    raw = await request.body()
    if len(raw) > MAX_SESSION_BODY:
        raise InvalidInput(f"the body exceeds {MAX_SESSION_BODY} bytes", {"max_bytes": MAX_SESSION_BODY},
                           reason="body_too_large")  # fmt: skip
    try:
        doc = json.loads(raw or b"{}")
    except ValueError:
        raise InvalidInput("the body is not valid JSON", reason="body_not_json") from None
    try:
        return SessionIn.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ())) or "body"
        raise InvalidInput(f"{field}: {err.get('msg', 'invalid')}", {"field": field},
                           reason="invalid_value") from None  # fmt: skip


# --- attachments: uploads and downloads authorised by the session token ----------------------------------


@public.options("/webchat/v1/widgets/{ref}/attachments")
async def upload_preflight(request: Request, ref: Annotated[str, PathParam(max_length=40)]) -> Response:
    return await _preflight(request, ref, "POST", "authorization, content-type")


@public.options("/webchat/v1/widgets/{ref}/attachments/{message_id}")
async def download_preflight(request: Request, ref: Annotated[str, PathParam(max_length=40)],
                             message_id: IdPath) -> Response:  # fmt: skip
    return await _preflight(request, ref, "GET", "authorization")


async def _visitor_of(request: Request, runtime: MessagingRuntime, ref: str) -> tuple[Channel, WebchatVisitor]:
    """The visitor whose session token (`Authorization: Bearer`) is for this widget and this origin."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalid("no session token: send Authorization: Bearer <token>")
    async with runtime.db.session() as session:
        widget, channel, visitor = await service.authenticate(session, runtime.clock, runtime.box, token.strip(),
                                                              request.headers.get("origin"))  # fmt: skip
        if ref not in (widget.public_key, str(widget.channel_id)):
            raise TokenInvalid("the session token is for another widget")
    return channel, visitor


async def _read_capped(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed `limit` (the declared length, or what arrived)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise attachments.AttachmentTooLarge(f"the file exceeds {limit} bytes", {"max_bytes": limit})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise attachments.AttachmentTooLarge(f"the file exceeds {limit} bytes", {"max_bytes": limit})
        chunks.append(chunk)
    return b"".join(chunks)


@public.post("/webchat/v1/widgets/{ref}/attachments")
async def upload_attachment(request: Request, ref: Annotated[str, PathParam(max_length=40)]) -> JSONResponse:
    """A visitor's file: the raw bytes as the body with their `Content-Type`, `?client_id=` (resends are
    deduplicated as messages are) and `?filename=`. Answers the same ack a message frame gets."""
    origin = request.headers.get("origin")
    runtime = runtime_for(request.app)
    settings = runtime.settings
    media_dir = runtime.processor.media_dir
    headers, stored = {"Vary": "Origin"}, None
    try:
        async with runtime.db.session() as session:
            widget, _ = await service.resolve_widget(session, ref)
        service.check_origin(widget, origin)
        headers = _cors(origin)
        channel, visitor = await _visitor_of(request, runtime, ref)
        runtime.webchat_limits.message(visitor.id, runtime.clock.monotonic())  # before reading the file
        client_id = request.query_params.get("client_id", "")
        if not frames.CLIENT_ID.match(client_id):
            raise InvalidInput("client_id: 8 to 64 letters, digits, '-' or '_'", {"field": "client_id"},
                               reason="client_id_format")  # fmt: skip
        mime = attachments.media_type(request.headers.get("content-type"))
        content = await _read_capped(request, settings.webchat_attachment_max_bytes)
        attachments.check(mime, content, settings.webchat_attachment_types, settings.webchat_attachment_max_bytes)
        filename = attachments.safe_filename(request.query_params.get("filename"), mime)
        stored = attachments.store(media_dir, channel.id, mime, content)
        file = service.StoredFile(stored, mime, filename, len(content))
        stored_message = await service.visitor_message(
            runtime.db, runtime.clock, runtime.sink(), channel, visitor.id, client_id, None, file)
    except TeleplexError as exc:
        if stored is not None:
            attachments.remove(media_dir, stored)
        return _error(exc, headers)
    except BaseException:
        if stored is not None:
            attachments.remove(media_dir, stored)
        raise
    if stored_message.event is None:
        attachments.remove(media_dir, stored)
    else:  # after the commit: every socket of this visitor shows it
        hub_for(runtime.db).appended(visitor.id, stored_message.seq, stored_message.event)
    duplicate = stored_message.duplicate
    return JSONResponse({"type": "ack", "client_id": client_id, "message_id": stored_message.message_id,
                         "id": stored_message.seq, "duplicate": duplicate}, 200 if duplicate else 201,
                        headers=headers)  # fmt: skip


@public.get("/webchat/v1/widgets/{ref}/attachments/{message_id}")
async def download_attachment(request: Request, ref: Annotated[str, PathParam(max_length=40)],
                              message_id: IdPath) -> Response:  # fmt: skip
    """A file of the visitor's chat (theirs or an agent's), for their own sessions only."""
    origin = request.headers.get("origin")
    runtime = runtime_for(request.app)
    media_dir = runtime.processor.media_dir.resolve()
    headers = {"Vary": "Origin"}
    try:
        async with runtime.db.session() as session:
            widget, _ = await service.resolve_widget(session, ref)
        service.check_origin(widget, origin)
        headers = _cors(origin)
        _, visitor = await _visitor_of(request, runtime, ref)
        async with runtime.db.session() as session:
            message = await service.attachment_of(session, visitor.id, message_id)
        path = (media_dir / message.media_path).resolve() if message is not None and message.media_path else None
        if message is None or path is None or not path.is_relative_to(media_dir) or not path.is_file():
            raise NotFound(f"no attachment {message_id} in this chat", {"message_id": message_id})
    except TeleplexError as exc:
        return _error(exc, headers)
    mime = message.media_mime or "application/octet-stream"
    filename = attachments.safe_filename((message.data or {}).get("filename")
                                         or ((message.data or {}).get("content") or {}).get("filename"), mime)
    disposition = "inline" if mime.startswith("image/") else "attachment"
    return FileResponse(path, media_type=mime, headers={
        **headers, "Content-Disposition": f'{disposition}; filename="{filename}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store", "Access-Control-Expose-Headers": "Content-Disposition"})


# --- the visitor's WebSocket --------------------------------------------------------------------------------


@public.websocket("/webchat/v1/ws")
async def visitor_socket(ws: WebSocket) -> None:
    """`?token=` (or a first frame `{"type": "auth", "token", "after"}`); `?after=<id>` resumes the stream
    after the last event id the widget saw. Close codes: 4400 bad request, 4401 token, 4403 origin, 4503 closed."""
    runtime = runtime_for(ws.app)
    origin = ws.headers.get("origin")
    await ws.accept()
    try:
        token, after = await _credentials(ws)
        async with runtime.db.session() as session:
            _, channel, visitor = await service.authenticate(session, runtime.clock, runtime.box, token, origin)
    except WebSocketDisconnect:
        return
    except (TeleplexError, frames.FrameInvalid) as exc:
        code = {TokenInvalid: 4401, OriginNotAllowed: 4403, WidgetDisabled: 4503}.get(type(exc), 4400)
        await _close(ws, code, exc)
        return
    last = visitor.last_seq if after is None else min(after, visitor.last_seq)
    connection = VisitorConnection(ws, runtime, channel.id, visitor.id, last)
    await connection.run({"type": "ready", "visitor_id": visitor.public_id, "last_id": visitor.last_seq,
                          "resumed_after": last})


async def _credentials(ws: WebSocket) -> tuple[str, int | None]:
    token = ws.query_params.get("token")
    after = ws.query_params.get("after")
    if token:
        if after is not None and not (after.isdigit() and len(after) < 10):
            raise InvalidInput("after: the last event id seen, a whole number", reason="after_not_number")
        return token, None if after is None else int(after)
    try:
        raw = await asyncio.wait_for(ws.receive_text(), AUTH_WAIT_SECONDS)
    except TimeoutError:
        raise TokenInvalid("no session token: pass ?token= or send an auth frame first") from None
    except (KeyError, RuntimeError):  # a binary first frame
        raise InvalidInput("the first frame must be {\"type\": \"auth\", \"token\": ...}",
                           reason="auth_frame_first") from None  # fmt: skip
    try:
        first = frames.parse(raw)
    except frames.FrameInvalid as exc:  # closes the socket with 4400 and the parse's reason
        exc.code = InvalidInput.code  # as a bad first frame has always been answered
        raise
    if not isinstance(first, frames.Auth):
        raise TokenInvalid("authenticate first: {\"type\": \"auth\", \"token\": ...}")
    return first.token, first.after


async def _close(ws: WebSocket, code: int, exc: TeleplexError | frames.FrameInvalid) -> None:
    try:
        await ws.send_json(frames.error_frame(exc))
        await ws.close(code=code, reason=exc.message[:120])
    except (WebSocketDisconnect, RuntimeError):
        pass


class VisitorConnection:
    """One open widget: a pump that writes the stream (and ephemeral frames) out, and a reader for the
    visitor's frames. Either ending ends both."""

    def __init__(self, ws: WebSocket, runtime: MessagingRuntime, channel_id: int, visitor_id: int, last: int) -> None:
        self.ws, self.runtime, self.channel_id, self.visitor_id, self.last = ws, runtime, channel_id, visitor_id, last
        self.hub = hub_for(runtime.db)
        self.flushing = asyncio.Lock()
        self.settling = asyncio.Lock()
        self.owed: dict[int, str] = {}  # agent message id -> "delivered" or "read", not yet recorded
        self.typing_shown = False  # the visitor's typing as the agents were last told

    async def run(self, ready: dict[str, Any]) -> None:
        queue = self.hub.listen(self.visitor_id)
        try:
            await self.ws.send_json(ready)
            tasks = {asyncio.create_task(self._pump(queue)), asyncio.create_task(self._read())}
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                exc = task.exception()
                if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError | OSError):
                    log.error("web chat socket failed", visitor_id=self.visitor_id, error=repr(exc))
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            self.hub.forget(self.visitor_id, queue)
            if self.owed:  # receipts the outbox was still in the way of: record them once it has finished
                task = asyncio.create_task(self._settle_after_close())
                _LATE.add(task)
                task.add_done_callback(_LATE.discard)

    async def _settle_after_close(self) -> None:
        for _ in range(SETTLE_TRIES):
            try:
                await self.settle()
            except Exception:
                log.exception("recording web chat receipts failed", visitor_id=self.visitor_id)
                return
            if not self.owed:
                return
            await asyncio.sleep(POLL_SECONDS)

    async def _pump(self, queue: Listener) -> None:
        await self.flush()
        while True:
            wait = POLL_SECONDS if self.owed else random.uniform(*RESYNC_SECONDS)
            try:
                async with asyncio.timeout(wait):  # not wait_for: no task per wake-up
                    item = await queue.get()
            except TimeoutError:
                await self.flush()  # a resync (a write on another node), and owed receipts retried
                continue
            if item is None:
                await self.flush()
            elif isinstance(item, Appended):
                await self.deliver(item)
            else:
                await self.ws.send_json(item)

    async def deliver(self, item: Appended) -> None:
        """An event this process committed: sent as it is when it is the next one, else read with any before it."""
        async with self.flushing:
            if item.seq <= self.last:
                return
            if item.seq == self.last + 1:
                await self._send_event(item.seq, item.frame)
                return
        await self.flush()

    async def _send_event(self, seq: int, frame: dict[str, Any]) -> None:
        await self.ws.send_json(frame)
        self.last = seq
        message = frame.get("message") or {}
        if message.get("direction") == "out" and message.get("id") is not None:
            self.owed.setdefault(message["id"], "delivered")

    async def flush(self) -> None:
        """Send every stored event after the last one sent, in order, then mark agent messages delivered."""
        async with self.flushing:
            while True:
                async with self.runtime.db.session() as session:
                    events = await service.events_after(session, self.visitor_id, self.last)
                if not events:
                    await self.settle()
                    return
                for event in events:
                    await self._send_event(event.seq, service.frame(event))
                await self.settle()
                if len(events) < 200:
                    return

    async def settle(self) -> None:
        """Record owed receipts; those the outbox has not finished with wait for the next pass."""
        if not self.owed:
            return
        async with self.settling:
            snapshot = dict(self.owed)  # receipts may be added while this one waits on the database
            async with self.runtime.db.session() as session:
                channel = await session.get(Channel, self.channel_id)
                if channel is None:
                    return
                left = await service.apply_receipts(session, self.runtime.clock, self.runtime.sink(), channel,
                                                    snapshot)
            for message_id, word in snapshot.items():
                if message_id not in left and self.owed.get(message_id) == word:
                    del self.owed[message_id]

    async def _read(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            try:
                reply = await self._handle(raw)
            except (TeleplexError, frames.FrameInvalid) as exc:
                reply = frames.error_frame(exc)
            except Exception:
                log.exception("web chat frame failed", visitor_id=self.visitor_id)
                reply = {"type": "error", "code": "internal_error",
                         "message": "the frame could not be handled", "reason": "frame_failed"}
            if reply is not None:
                await self.ws.send_json(reply)

    async def _handle(self, raw: str | None) -> dict[str, Any] | None:
        frame = frames.parse(raw)
        runtime = self.runtime
        if isinstance(frame, frames.Send):  # the pace is checked before any work: a flood costs a look-up a frame
            try:
                runtime.webchat_limits.message(self.visitor_id, runtime.clock.monotonic())
            except RateLimited as exc:
                return frames.error_frame(exc, frame.client_id)
        elif isinstance(frame, frames.Typing):
            # Agents hear of changes: "stopped" after a "typing" they were told always passes, "typing" at a
            # person's pace (the widget repeats it every 3 s while keys are pressed); the rest is dropped unsaid.
            if frame.typing == self.typing_shown and not frame.typing:
                return None
            if frame.typing and not runtime.webchat_limits.typing_shown(self.visitor_id, runtime.clock.monotonic()):
                return None
            self.typing_shown = frame.typing
        if isinstance(frame, frames.Ping):
            await self.flush()  # a pong follows every event stored before the ping: a sync point
            return {"type": "pong"}
        if isinstance(frame, frames.Auth):
            raise frames.FrameInvalid("already authenticated", "already_authenticated")
        channel = await runtime.webhook_channel(self.channel_id)  # read at most every few seconds
        if channel is None or not channel.enabled:
            raise WidgetDisabled("this chat is closed for now")
        if isinstance(frame, frames.Send):
            return await self._send(frame, channel)
        async with runtime.db.session() as session:
            if isinstance(frame, frames.Typing):
                visitor = await session.get(service.WebchatVisitor, self.visitor_id)
                assert visitor is not None
                await service.visitor_typing(session, runtime.clock, runtime.state.bus, channel, visitor, frame.typing)
                return None
            if not await service.owns_reply(session, self.visitor_id, frame.message_id):
                raise frames.FrameInvalid(
                    f"message_id: {frame.message_id} is not an agent message of this chat", "read_not_in_chat",
                    {"message_id": frame.message_id})
        self.owed[frame.message_id] = "read"
        await self.settle()
        return {"type": "read_ok", "message_id": frame.message_id}

    async def _send(self, frame: frames.Send, channel: Channel) -> dict[str, Any]:
        runtime = self.runtime
        stored = await service.visitor_message(
            runtime.db, runtime.clock, runtime.sink(), channel, self.visitor_id, frame.client_id, frame.text)
        if stored.event is None:
            await self.flush()  # a resend: this socket shows the first one before the ack
        else:  # after the commit: every socket of this visitor shows it, and this one before the ack
            self.hub.appended(self.visitor_id, stored.seq, stored.event)
            await self.deliver(Appended(stored.seq, stored.event))
        return {"type": "ack", "client_id": frame.client_id, "message_id": stored.message_id, "id": stored.seq,
                "duplicate": stored.duplicate}
