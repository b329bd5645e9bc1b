"""HTTP edges shared by every capability: request ids, access logs, metrics, and the one error shape."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from teleplex.core.errors import TeleplexError, TooManyAttempts
from teleplex.core.logging import get_logger

log = get_logger("teleplex.http")

REQUESTS = Counter("teleplex_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("teleplex_http_request_seconds", "HTTP request latency", ["method", "route"])
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def error_body(code: str, message: str, details: Any = None, reason: str | None = None) -> dict[str, Any]:
    """The one JSON shape of every error answer; `reason` only when the service gave one."""
    error: dict[str, Any] = {"code": code, "message": message, "details": details}
    if reason is not None:
        error["reason"] = reason
    return {"error": error}


class RequestContextMiddleware:
    """Gives each request an id (the caller's X-Request-ID when sane), logs it, and times it for /metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID_OK.match(given) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_name = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], route_name, str(status)).inc()
            LATENCY.labels(scope["method"], route_name).observe(elapsed)
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round(elapsed * 1000, 1),
            )
            structlog.contextvars.clear_contextvars()


def _field_name(loc: tuple[Any, ...]) -> str:
    """A field path a person reads: body.roles.0 -> roles[0]."""
    parts = [p for p in loc if p not in ("body",)]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to the one error shape; nothing leaks a traceback."""

    @app.exception_handler(TeleplexError)
    async def _teleplex(_: Request, exc: TeleplexError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        body = error_body(exc.code, exc.message, exc.details, exc.reason)
        return JSONResponse(body, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            field = _field_name(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
            where = loc[0] if loc else "body"
            msg = err.get("msg", "invalid")
            if err.get("type") == "json_invalid":
                field, msg = "body", "the body is not valid JSON: " + str(err.get("ctx", {}).get("error", msg))
            # ctx (the limit broken: max_length, ge, expected...) lets a client say it in the user's language
            ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, str | int | float | bool)}
            details.append({"field": field, "in": where, "message": msg, "type": err.get("type"), "ctx": ctx})
        first = details[0] if details else {"field": "body", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}"
        return JSONResponse(error_body("invalid_input", message, details), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "permission_denied"}
        code = codes.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse(error_body(code, message), exc.status_code, headers=exc.headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def _database_busy(request: Request, exc: Exception) -> JSONResponse:
        """A database that is down, locked or out of connections is a passing state, not a bug: the client
        is told to come back (providers retry on their own), and nothing half-done was committed."""
        log.warning("database unavailable", path=request.url.path, error=type(exc).__name__, detail=str(exc)[:200])
        return JSONResponse(error_body("database_unavailable", "the database is busy or unreachable; try again shortly"),
                            503, headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        rid = request.scope.get("state", {}).get("request_id")
        return JSONResponse(
            error_body("internal_error", "an unexpected error occurred; it has been logged", {"request_id": rid}),
            500,
        )
