"""A fake Twilio REST API: POST /2010-04-01/Accounts/{sid}/Messages.json with basic auth, and media."""

from __future__ import annotations

import base64
import itertools
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .base import Failure, FakeProvider

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-test-auth-token"


def twilio_error(code: int, message: str, status: int = 400) -> Failure:
    return Failure(status, {"code": code, "message": message,
                            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})


class FakeTwilio(FakeProvider):
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.ids = itertools.count(1)
        self.media: dict[str, tuple[bytes, str]] = {}
        self.app = Starlette(routes=[
            Route("/2010-04-01/Accounts/{sid}/Messages.json", self.messages, methods=["POST"]),
            Route("/2010-04-01/Accounts/{sid}/Messages/{msid}/Media/{media_sid}", self.media_file, methods=["GET"]),
        ])

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}" and \
            request.path_params["sid"] == self.account_sid

    async def messages(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        await self.record(request, form)
        if not self._authorized(request):
            return JSONResponse(twilio_error(20003, "Authenticate", 401).body, 401)
        failure = await self.next_failure()
        if failure is not None:
            return failure
        if not form.get("To") or not (form.get("From") or form.get("MessagingServiceSid")) or \
                not (form.get("Body") or form.get("MediaUrl")):
            return JSONResponse(twilio_error(21602, "Message body is required.").body, 400)
        sid = f"SM{next(self.ids):032x}"
        self.sent.append({"sid": sid, **form})
        return JSONResponse({"sid": sid, "status": "queued", "to": form["To"], "from": form.get("From"),
                             "body": form.get("Body"), "account_sid": self.account_sid, "num_segments": "1"}, 201)

    async def media_file(self, request: Request) -> Response:
        if not self._authorized(request):
            return Response(status_code=401)
        found = self.media.get(request.path_params["media_sid"])
        if found is None:
            return Response(status_code=404)
        return Response(found[0], media_type=found[1])
