#!/usr/bin/env python3
"""The baseline for bench/chat_load.py: a plain FastAPI endpoint that echoes the POSTed body.

It answers the same signed WhatsApp deliveries on the same path as Teleplex, under uvicorn started the way
`teleplex serve` starts it (`uvicorn.run(app, ..., log_config=None, proxy_headers=False)`: uvloop,
httptools), so the difference between the two is Teleplex's own work: verifying, storing, deduplicating.

    .venv/bin/python bench/chat_echo.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

app = FastAPI()


@app.post("/webhooks/whatsapp/{channel_id}")
async def echo(request: Request, channel_id: int) -> Response:
    """Read the raw body, as the real webhook must before it can check the signature, and send it back."""
    return Response(await request.body(), media_type="application/json")


@app.get("/healthz")
async def healthz() -> dict[str, bool]:
    return {"ok": True}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, proxy_headers=False)
