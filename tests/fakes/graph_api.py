"""A fake WhatsApp Cloud API (Graph API): POST /{phone-number-id}/messages, media lookup and download."""

from __future__ import annotations

import itertools
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .base import Failure, FakeProvider

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
        self.base_url = ""
        self.app = Starlette(routes=[
            Route("/{phone_number_id}/messages", self.messages, methods=["POST"]),
            Route("/download/{media_id}", self.download, methods=["GET"]),
            Route("/{media_id}", self.media_url, methods=["GET"]),
        ])

    def reset(self) -> None:
        super().reset()
        self.read.clear()

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
