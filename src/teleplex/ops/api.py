"""Health, readiness and metrics: what a load balancer and Prometheus ask of each node."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from teleplex import __version__

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="This node can serve: its database answers and, with voice, Asterisk is linked")
async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, dict] = {}
    try:
        async with asyncio.timeout(3):
            async with request.app.state.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:  # any failure means "not ready"; the reason goes to the operator
        checks["database"] = {"ok": False, "error": type(exc).__name__ + ": " + str(exc)[:200]}
    engine = getattr(request.app.state, "engine", None)
    voice = engine.handlers.get("voice") if engine is not None else None
    if voice is not None:
        checks["asterisk"] = {"ok": voice.link_up, "url": voice.ari.config.url}
        if not voice.link_up:
            checks["asterisk"]["error"] = "the ARI link is down; reconnecting"
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
