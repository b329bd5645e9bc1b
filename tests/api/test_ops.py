"""What a load balancer, Prometheus and an operator reading logs see: health, readiness, metrics, request ids,
structured request logs, and the error shape for unknown routes and methods."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families
from structlog._config import BoundLoggerLazyProxy

from teleplex import __version__
from teleplex.app import create_app
from teleplex.core.db import Database
from teleplex.core.logging import configure_logging
from teleplex.core.settings import Settings

# Nothing listens on port 1 of the loopback: connecting is refused at once.
UNREACHABLE_URL = "postgresql+asyncpg://teleplex@127.0.0.1:1/teleplex"


@pytest.fixture
async def offline() -> AsyncIterator[httpx.AsyncClient]:
    """The app in front of a database that cannot be reached: ops routes must still answer."""
    db = Database(UNREACHABLE_URL)
    app = create_app(Settings(database_url=UNREACHABLE_URL), db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://teleplex.test") as client:
        yield client
    await db.dispose()


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) - {"reason"} == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# --- health and readiness ----------------------------------------------------------------------------------


async def test_healthz_says_ok_with_the_version(offline):
    r = await offline.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "version": __version__}


async def test_readyz_is_ready_when_the_database_answers(api):
    r = await api.client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"ready": True, "checks": {"database": {"ok": True}}}


async def test_readyz_is_503_with_the_reason_when_the_database_is_unreachable(offline):
    r = await offline.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["ready"] is False
    database = body["checks"]["database"]
    assert database["ok"] is False
    # The reason names the failure an operator can act on, not just "error".
    assert "refused" in database["error"].lower() or "connect" in database["error"].lower(), database
    assert len(database["error"]) <= 250


async def test_healthz_stays_up_while_the_database_is_unreachable(offline):
    assert (await offline.get("/readyz")).status_code == 503
    assert (await offline.get("/healthz")).status_code == 200


# --- metrics -----------------------------------------------------------------------------------------------


def _requests_total(text: str, route: str, method: str = "GET", status: str = "200") -> float:
    for family in text_string_to_metric_families(text):
        if family.name != "teleplex_http_requests":
            continue
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "teleplex_http_requests_total" and labels == {
                "method": method,
                "route": route,
                "status": status,
            }:
                return sample.value
    return 0.0


async def test_metrics_is_prometheus_text(offline):
    r = await offline.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    families = {f.name for f in text_string_to_metric_families(r.text)}
    assert "teleplex_http_requests" in families
    assert "teleplex_http_request_seconds" in families


async def test_metrics_count_requests_by_route_template(api):
    me = (await api.get("auth/me")).json()["id"]
    before = _requests_total((await api.client.get("/metrics")).text, "/api/v1/users/{user_id}")
    for _ in range(3):
        assert (await api.get(f"users/{me}")).status_code == 200
    after = _requests_total((await api.client.get("/metrics")).text, "/api/v1/users/{user_id}")
    # The route label is the template, not /api/v1/users/1: one series per route, whatever the ids.
    assert after - before == 3


async def test_metrics_count_errors_with_their_status(offline):
    before = _requests_total((await offline.get("/metrics")).text, "unmatched", status="404")
    await offline.get("/no/such/route")
    after = _requests_total((await offline.get("/metrics")).text, "unmatched", status="404")
    assert after - before == 1


# --- request ids -------------------------------------------------------------------------------------------


async def test_every_response_carries_a_request_id(offline):
    ids = set()
    for path in ("/healthz", "/metrics", "/readyz", "/nope", "/api/v1/users"):
        r = await offline.get(path)
        assert r.headers.get("x-request-id"), path
        ids.add(r.headers["x-request-id"])
    assert len(ids) == 5, "each request gets its own id"


async def test_a_sane_caller_request_id_is_echoed(offline):
    r = await offline.get("/healthz", headers={"X-Request-ID": "lb-7f3a.01_B-x"})
    assert r.headers["x-request-id"] == "lb-7f3a.01_B-x"


@pytest.mark.parametrize(
    "given",
    ["x" * 65, "has space", "semi;colon", "new\tline", "quote\"d", "ünïcode", ""],
    ids=["too-long", "space", "semicolon", "tab", "quote", "non-ascii", "empty"],
)
async def test_an_insane_caller_request_id_is_replaced(offline, given):
    r = await offline.get("/healthz", headers={"X-Request-ID": given.encode("utf-8")})
    got = r.headers["x-request-id"]
    assert got != given
    assert 1 <= len(got) <= 64
    assert all(c.isalnum() or c in "._-" for c in got)


async def test_an_error_answer_also_carries_the_request_id(offline):
    r = await offline.get("/no/such/route", headers={"X-Request-ID": "trace-404"})
    assert r.status_code == 404
    assert r.headers["x-request-id"] == "trace-404"


# --- structured logs ---------------------------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Teleplex's own JSON logging, written to a buffer; the previous logging setup is restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_structlog = structlog.get_config()
    configure_logging("INFO", json=True)
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    structlog.configure(**saved_structlog)
    # configure_logging caches each module logger on first use; forget that, so later tests log as before.
    for name, module in list(sys.modules.items()):
        proxy = getattr(module, "log", None) if name.startswith("teleplex") else None
        if isinstance(proxy, BoundLoggerLazyProxy):
            proxy.__dict__.pop("bind", None)


def _lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


async def test_each_request_is_logged_as_one_json_line_with_its_request_id(offline, json_log):
    r = await offline.get("/healthz", headers={"X-Request-ID": "trace-log-1"})
    assert r.status_code == 200
    requests = [e for e in _lines(json_log) if e.get("event") == "request"]
    assert len(requests) == 1
    line = requests[0]
    assert line["request_id"] == "trace-log-1"
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["level"] == "info"
    assert "timestamp" in line and "ms" in line


async def test_the_logged_request_id_is_the_one_returned_when_the_caller_gave_none(offline, json_log):
    r = await offline.get("/no/such/route")
    line = next(e for e in _lines(json_log) if e.get("event") == "request")
    assert line["request_id"] == r.headers["x-request-id"]
    assert line["status"] == 404


async def test_request_ids_do_not_leak_into_later_log_lines(offline, json_log):
    await offline.get("/healthz", headers={"X-Request-ID": "trace-leak"})
    structlog.get_logger("teleplex.test").info("after the request")
    after = next(e for e in _lines(json_log) if e.get("event") == "after the request")
    assert "request_id" not in after


# --- unknown routes and methods ----------------------------------------------------------------------------


async def test_an_unknown_route_is_404_in_the_error_shape(offline):
    assert_error(await offline.get("/api/v1/no-such-thing"), 404, "not_found")


async def test_a_wrong_method_is_405_in_the_error_shape(offline):
    r = await offline.delete("/healthz")
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in r.headers.get("allow", "")


async def test_a_wrong_method_on_an_api_route_is_405_not_401(offline):
    r = await offline.put("/api/v1/users")
    assert_error(r, 405, "method_not_allowed")
