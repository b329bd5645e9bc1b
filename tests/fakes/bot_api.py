"""A fake Telegram Bot API: /bot<token>/<method> for send*, getFile, getUpdates, setWebhook, deleteWebhook."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .base import Failure, FakeProvider

TOKEN = "123456:ABC-test-bot-token"


def bot_error(code: int, description: str, retry_after: int | None = None) -> Failure:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return Failure(code, body)


def too_many_requests(retry_after: int) -> Failure:
    return bot_error(429, f"Too Many Requests: retry after {retry_after}", retry_after)


SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "sendVoice", "sendVideo"}


class FakeBotApi(FakeProvider):
    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.ids = itertools.count(100)
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self.updates: list[dict[str, Any]] = []  # pending for getUpdates
        self.confirmed_offset = 0
        self.webhook: dict[str, Any] | None = None
        self.app = Starlette(routes=[
            Route("/bot{token}/{method}", self.method, methods=["POST", "GET"]),
            Route("/file/bot{token}/{path:path}", self.file, methods=["GET"]),
        ])

    async def method(self, request: Request) -> Response:
        params = await request.json() if request.method == "POST" and await request.body() else {}
        method = request.path_params["method"]
        await self.record(request, {"method": method, **params})
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        if method in SEND_METHODS:
            failure = await self.next_failure()
            if failure is not None:
                return failure
            if method == "sendMessage" and not 1 <= len(params.get("text", "")) <= 4096:
                return JSONResponse(bot_error(400, "Bad Request: message text is empty").body, 400)
            message = {"message_id": next(self.ids), "date": 1767600000,
                       "chat": {"id": int(params["chat_id"]), "type": "private"}, **{k: v for k, v in params.items() if k != "chat_id"}}
            self.sent.append({"method": method, **params})
            return JSONResponse({"ok": True, "result": message})
        if method == "getFile":
            found = self.files.get(params.get("file_id", ""))
            if found is None:
                return JSONResponse(bot_error(400, "Bad Request: invalid file_id").body, 400)
            return JSONResponse({"ok": True, "result": {"file_id": params["file_id"], "file_unique_id": "u1",
                                                        "file_size": len(found[1]), "file_path": found[0]}})
        if method == "getUpdates":
            if self.webhook is not None:
                return JSONResponse(bot_error(409, "Conflict: can't use getUpdates method while webhook is active; "
                                                   "use deleteWebhook to delete the webhook first").body, 409)
            offset = params.get("offset")
            if offset is not None:
                self.confirmed_offset = offset
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if not self.updates:
                await asyncio.sleep(min(0.05, float(params.get("timeout", 0))))
            return JSONResponse({"ok": True, "result": self.updates[:100]})
        if method == "setWebhook":
            self.webhook = params
            return JSONResponse({"ok": True, "result": True, "description": "Webhook was set"})
        if method == "deleteWebhook":
            self.webhook = None
            return JSONResponse({"ok": True, "result": True, "description": "Webhook was deleted"})
        return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    async def file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        for path, content in self.files.values():
            if path == request.path_params["path"]:
                return Response(content, media_type="application/octet-stream")
        return Response(status_code=404)
