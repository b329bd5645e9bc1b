"""What every fake provider shares: a record of requests, and failures queued on command."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


@dataclass
class Failure:
    """Answer the next matching call with this status, body and headers instead of accepting it."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hang:
    """Hold the next call without answering (the client's timeout fires); nothing is accepted."""

    seconds: float = 30.0


class FakeProvider:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []  # every call, accepted or not
        self.sent: list[dict[str, Any]] = []  # messages the provider accepted
        self.failures: list[Failure | Hang] = []
        self.release = asyncio.Event()

    def reset(self) -> None:
        """Forget the previous test: the server is shared by a module's tests."""
        self.requests.clear()
        self.sent.clear()
        self.failures.clear()
        self.release.set()
        self.release = asyncio.Event()

    def fail(self, *failures: Failure | Hang) -> None:
        """Queue failures; each is used by one send call, in order."""
        self.failures.extend(failures)

    async def next_failure(self, queue: list[Failure | Hang] | None = None) -> Response | None:
        """The next queued failure's answer (of `queue` when an endpoint keeps its own), or None."""
        failures = self.failures if queue is None else queue
        if not failures:
            return None
        failure = failures.pop(0)
        if isinstance(failure, Hang):
            try:
                await asyncio.wait_for(self.release.wait(), failure.seconds)
            except TimeoutError:
                pass
            return JSONResponse({"error": "too late"}, 504)
        return JSONResponse(failure.body, failure.status, headers=failure.headers)

    async def record(self, request: Request, body: Any) -> None:
        self.requests.append({"method": request.method, "path": request.url.path, "headers": dict(request.headers),
                              "query": dict(request.query_params), "body": body})
