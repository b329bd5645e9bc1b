"""A fake WhatsApp Cloud API (Graph API): POST /{phone-number-id}/messages, media lookup and download, and
GET /{waba-id}/message_templates with Meta's cursor paging."""

from __future__ import annotations

import base64
import itertools
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .base import Failure, FakeProvider, Hang

TOKEN = "EAAG-test-access-token"


def graph_error(code: int, message: str, status: int = 400, details: str | None = None) -> Failure:
    """An error as the Graph API shapes it."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return Failure(status, {"error": error})


OUTSIDE_WINDOW = graph_error(131047, "Re-engagement message", 400,
                             "Message failed to send because more than 24 hours have passed since the customer last "
                             "replied to this number.")


class FakeGraphApi(FakeProvider):
    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.ids = itertools.count(1)
        self.media: dict[str, tuple[bytes, str]] = {}
        self.read: list[dict[str, Any]] = []  # mark-as-read requests the provider accepted
        self.templates: list[dict[str, Any]] = []  # the business account's templates, any status, as Meta lists them
        self.template_failures: list[Failure | Hang] = []  # queued for the template list only (`fail_templates`)
        self.page_size = 100  # the most a template page holds, whatever `limit` asks (tests lower it to page)
        self.base_url = ""
        self.app = Starlette(routes=[
            Route("/{phone_number_id}/messages", self.messages, methods=["POST"]),
            Route("/{waba_id}/message_templates", self.message_templates, methods=["GET"]),
            Route("/download/{media_id}", self.download, methods=["GET"]),
            Route("/{media_id}", self.media_url, methods=["GET"]),
        ])

    def reset(self) -> None:
        super().reset()
        self.read.clear()
        self.templates.clear()
        self.template_failures.clear()
        self.page_size = 100

    def fail_templates(self, *failures: Failure | Hang) -> None:
        """Queue failures for the template list; each answers one page request, in order."""
        self.template_failures.extend(failures)

    async def message_templates(self, request: Request) -> Response:
        """`?fields=...&limit=N&after=CURSOR`: `{"data": [...], "paging": {"cursors": {"before", "after"},
        "next"?}}`, `next` only while more pages follow, as Meta answers."""
        await self.record(request, None)
        if not self._authorized(request):
            return JSONResponse(graph_error(190, "Invalid OAuth access token.", 401).body, 401)
        failure = await self.next_failure(self.template_failures)
        if failure is not None:
            return failure
        try:
            limit = max(1, min(int(request.query_params.get("limit", "25")), self.page_size))
            after = request.query_params.get("after")
            start = int(base64.b64decode(after).decode()) if after else 0
        except ValueError:
            return JSONResponse(graph_error(100, "Invalid parameter").body, 400)
        fields = (request.query_params.get("fields") or "name,language,status,category,components,id").split(",")
        page = [{k: v for k, v in t.items() if k in fields or k == "id"} for t in self.templates[start:start + limit]]
        cursor = lambda n: base64.b64encode(str(n).encode()).decode()  # noqa: E731
        paging: dict[str, Any] = {"cursors": {"before": cursor(start), "after": cursor(start + len(page))}}
        if start + limit < len(self.templates):
            paging["next"] = (f"{self.base_url}{request.url.path}?fields={','.join(fields)}&limit={limit}"
                              f"&after={paging['cursors']['after']}")
        return JSONResponse({"data": page, "paging": paging})

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    async def messages(self, request: Request) -> Response:
        body = await request.json()
        await self.record(request, body)
        if not self._authorized(request):
            return JSONResponse(graph_error(190, "Invalid OAuth access token.", 401).body, 401)
        failure = await self.next_failure()
        if failure is not None:
            return failure
        if body.get("status") == "read":  # mark an inbound message as read: no new message
            if body.get("messaging_product") != "whatsapp" or not str(body.get("message_id", "")).startswith("wamid."):
                return JSONResponse(graph_error(131009, "Parameter value is not valid").body, 400)
            self.read.append({"phone_number_id": request.path_params["phone_number_id"], **body})
            return JSONResponse({"success": True})
        if body.get("messaging_product") != "whatsapp" or not body.get("to") or body.get("type") not in (
                "text", "template", "image", "audio", "video", "document"):
            return JSONResponse(graph_error(100, "Invalid parameter").body, 400)
        wamid = f"wamid.FAKE{next(self.ids):06d}"
        self.sent.append({"id": wamid, "phone_number_id": request.path_params["phone_number_id"], **body})
        return JSONResponse({"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"].lstrip("+")}],
                             "messages": [{"id": wamid}]})

    async def media_url(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        await self.record(request, None)
        if not self._authorized(request) or media_id not in self.media:
            return JSONResponse(graph_error(100, "Unsupported get request.").body, 400)
        content, mime = self.media[media_id]
        return JSONResponse({"messaging_product": "whatsapp", "url": f"{self.base_url}/download/{media_id}",
                             "mime_type": mime, "file_size": len(content), "id": media_id})

    async def download(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        if not self._authorized(request) or media_id not in self.media:
            return Response(status_code=404)
        content, mime = self.media[media_id]
        return Response(content, media_type=mime)


def template(name: str, body: str, status: str = "APPROVED", language: str = "en_US",
             category: str = "UTILITY") -> dict[str, Any]:
    """A template as Meta lists it: a header, the body, a footer."""
    return {"name": name, "language": language, "status": status, "category": category,
            "id": str(abs(hash((name, language))) % 10**15),
            "components": [{"type": "HEADER", "format": "TEXT", "text": "Teleplex"},
                           {"type": "BODY", "text": body},
                           {"type": "FOOTER", "text": "Reply STOP to opt out"}]}
