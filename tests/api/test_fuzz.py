"""Property tests over the whole HTTP API, driven by the app's own OpenAPI document (schemathesis + hypothesis).

For every operation: requests schemathesis generates from the schema (valid ones, and invalid ones: wrong
types, unknown fields, missing fields, odd query and path values), plus requests we poison on purpose (NUL,
lone surrogates, huge integers, over-long strings, unknown fields) go to the app as an administrator and as
nobody. Whatever is sent, the answer is never a 5xx, every 4xx has the one error shape, invalid input is
refused, and successful answers match the documented schema.

Hypothesis runs in a worker thread; each request is handed back to the test's event loop, where the app,
its database and the HTTP client live. Generation is derandomized, so a run is repeatable.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema_rs
import pytest
import requests
import schemathesis
import structlog
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
)
from sqlalchemy import select

from teleplex.app import create_app
from teleplex.auth import service as auth_service
from teleplex.auth.models import User
from teleplex.auth.roles import Role
from teleplex.auth.schemas import UserCreate
from teleplex.audit.service import SYSTEM
from teleplex.core.clock import FakeClock
from teleplex.core.db import Database
from teleplex.core.settings import Settings

EXAMPLES = {"positive": 10, "negative": 10, "poisoned": 12, "anonymous": 4}
PUBLIC = {
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "POST /api/v1/auth/token",
    "POST /api/v1/auth/session",
}
BASE_URL = "http://teleplex.test"


def _openapi_document() -> dict[str, Any]:
    """The document the app serves at /openapi.json; building it touches no database."""
    return create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()


DOCUMENT = _openapi_document()


def _load_schema(*, anonymous: bool) -> Any:
    schema = schemathesis.openapi.from_dict(DOCUMENT)
    # As admin we send our own token; as nobody, let schemathesis invent Authorization headers.
    schema.config.generation.update(with_security_parameters=anonymous)
    return schema


ADMIN_SCHEMA = _load_schema(anonymous=False)
ANON_SCHEMA = _load_schema(anonymous=True)


def _operations(schema: Any) -> dict[str, Any]:
    return {op.label: op for op in (result.ok() for result in schema.get_all_operations())}


ADMIN_OPERATIONS = _operations(ADMIN_SCHEMA)
ANON_OPERATIONS = _operations(ANON_SCHEMA)
LABELS = sorted(ADMIN_OPERATIONS)

HYPOTHESIS = {
    # No shrinking: it can take minutes against a database, and the failure message already shows the
    # exact request and the app's traceback; derandomize makes the same failure come back every run.
    "phases": [Phase.explicit, Phase.reuse, Phase.generate],
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "print_blob": False,
}

# Values no declared field accepts: they must be refused with 422, never stored, never a 500.
ALWAYS_INVALID: list[Any] = [
    "\x00",
    "name\x00with NUL",
    "\ud800",
    "lone \udfff surrogate",
    "x" * 100_000,
    10**30,
    -(10**30),
    2**63,
]
# Wrong types and edge values: refused or accepted depending on the field, never a 500.
ODD: list[Any] = [None, True, False, 0, -1, 1.5, 1e308, "", " ", [], {}, [None], {"a": {"b": [1, "\x00"]}},
                  "𝕏" * 70, "'; DROP TABLE users; --", "%_\\", "9" * 40, "2026-13-45T25:61:00Z", "+99:99"]
# Instants at the edges of what a datetime can hold, with the widest offsets: converting them overflows.
DATETIME_EDGES = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59.999999Z",
                  "0001-01-01T00:00:00Z", "2026-01-05T09:00:00", "1970-01-01T00:00:00+00:00"]
UNKNOWN_FIELD = "no_such_field"
URL_TEXT = 5_000


class AppErrors:
    """An ASGI wrapper that keeps the traceback of any exception the app lets escape (a 500)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tracebacks: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception:
            self.tracebacks.append(traceback.format_exc())
            raise


class Fuzzer:
    """Sends requests as the administrator (re-minting a token when a fuzzed request ended theirs) or anonymous."""

    def __init__(self, client: httpx.AsyncClient, db: Database, clock: FakeClock, errors: AppErrors) -> None:
        self.client = client
        self.db = db
        self.clock = clock
        self.errors = errors
        self.admin: dict[str, str] = {}
        self.known_ids: dict[str, int] = {}
        self._minted = 0

    async def mint_admin(self) -> None:
        """A fresh token for an enabled administrator, straight from the service: no login throttle in the way."""
        async with self.db.session() as session:
            users = (await session.execute(select(User).where(User.enabled.is_(True)))).scalars().all()
            admin = next((u for u in users if Role.ADMIN in u.roles), None)
            if admin is None:
                self._minted += 1
                admin = await auth_service.create_user(
                    session,
                    self.clock,
                    SYSTEM,
                    UserCreate(username=f"fuzz-admin-{self._minted}", password="fuzz-password", roles=[Role.ADMIN]),
                )
            raw, _ = await auth_service.issue_token(session, self.clock, admin, "bearer", 3600, None)
        self.admin = {"Authorization": f"Bearer {raw}"}

    async def keep_admin(self) -> None:
        """A fuzzed request may log us out, change our password or roles: check, and mint again if so."""
        r = await self.client.get("/api/v1/auth/me", headers=self.admin)
        if r.status_code != 200 or "admin" not in r.json()["roles"]:
            await self.mint_admin()

    async def seed(self) -> None:
        """One record of each kind, so fuzzed reads, updates and deletes also reach existing rows."""

        async def create(path: str, body: dict[str, Any]) -> int:
            r = await self.client.post(f"/api/v1/{path}", json=body, headers=self.admin)
            assert r.status_code == 201, r.text
            return r.json()["id"]

        hours = await create(
            "business-hours",
            {"name": "Office", "timezone": "America/Guayaquil", "weekly": [{"day": "mon", "open": "09:00", "close": "17:00"}]},
        )
        disposition = await create("dispositions", {"code": "sale", "label": "Sale", "category": "success"})
        pause = await create("pause-reasons", {"name": "Lunch"})
        queue = await create(
            "queues", {"name": "Sales", "business_hours_id": hours, "disposition_ids": [disposition]}
        )
        user = await create("users", {"username": "seed-agent", "password": "password-123", "roles": ["agent"]})
        agent = await create(
            "agents", {"user_id": user, "number": "1001", "queues": [{"queue_id": queue, "penalty": 1}]}
        )
        r = await self.client.post("/api/v1/api-keys", json={"name": "seed", "roles": ["agent"]}, headers=self.admin)
        assert r.status_code == 201, r.text
        self.known_ids = {
            "user_id": user,
            "key_id": r.json()["id"],
            "queue_id": queue,
            "agent_id": agent,
            "/pause-reasons/": pause,
            "/dispositions/": disposition,
            "/business-hours/": hours,
        }

    def known_id(self, path: str, name: str) -> int | None:
        if name != "record_id":
            return self.known_ids.get(name)
        return next((v for k, v in self.known_ids.items() if k.startswith("/") and k in path), None)

    async def send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> httpx.Response:
        before = len(self.errors.tracebacks)
        response = await self.client.request(method, url, headers=headers, content=content)
        response.tracebacks = self.errors.tracebacks[before:]  # type: ignore[attr-defined]
        return response


@pytest.fixture
def quiet_logs() -> Iterator[None]:
    """Drop the app's log lines while fuzzing: AppErrors keeps the tracebacks that matter, and structlog's
    development renderer would spend seconds drawing each one (with locals) when a 500 is found."""
    saved = structlog.get_config()
    structlog.configure(processors=[], logger_factory=structlog.ReturnLoggerFactory())
    yield
    structlog.configure(**saved)


@pytest.fixture
async def fuzzer(
    settings: Settings, clock: FakeClock, clean_database: Database, quiet_logs: None
) -> AsyncIterator[Fuzzer]:
    errors = AppErrors(create_app(settings, clock=clock, db=clean_database))
    transport = httpx.ASGITransport(app=errors, raise_app_exceptions=False, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        served = await client.get("/openapi.json")
        assert served.status_code == 200
        assert served.json() == json.loads(json.dumps(DOCUMENT)), "the fuzzed schema is the one the app serves"
        f = Fuzzer(client, clean_database, clock, errors)
        await f.mint_admin()
        await f.seed()
        yield f


# --- what every answer must satisfy ------------------------------------------------------------------------


def _our_frames(tb: str) -> str:
    """The frames of Teleplex's own code in an app traceback, and the exception it ended with."""
    lines = tb.splitlines()
    ours = [
        "\n".join(lines[i : i + 2]) for i, line in enumerate(lines) if "/teleplex/" in line and "/tests/" not in line
    ]
    tail = [line for line in lines[-6:] if line.strip() and not line.startswith("    ")]
    return "\n".join([*ours, *tail])


def describe(response: httpx.Response) -> str:
    request = response.request
    body = request.content[:500] if request.content else b""
    tracebacks = "\n".join(_our_frames(tb) for tb in getattr(response, "tracebacks", []))
    return (
        f"\n{request.method} {request.url}\nbody: {body!r}\n-> {response.status_code} {response.text[:500]}"
        + (f"\napp traceback:\n{tracebacks}" if tracebacks else "")
    )


def assert_sane(response: httpx.Response) -> None:
    """No server error; every client error in the one documented shape.

    The one 5xx allowed is the deliberate 503 `unavailable` (e.g. the routing engine does not run in this
    test app), which is an answer in the error shape, not a failure."""
    deliberate = response.status_code == 503 and response.json().get("error", {}).get("code") == "unavailable"
    assert response.status_code < 500 or deliberate, "server error" + describe(response)
    assert "x-request-id" in response.headers, describe(response)
    if 400 <= response.status_code < 500 or deliberate:
        assert response.headers["content-type"].startswith("application/json"), describe(response)
        body = response.json()
        assert set(body) == {"error"}, describe(response)
        assert set(body["error"]) - {"reason"} == {"code", "message", "details"}, describe(response)
        assert isinstance(body["error"]["code"], str) and body["error"]["code"], describe(response)
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], describe(response)


def check_against_schema(case: Any, response: httpx.Response, *, negative: bool) -> None:
    """Schemathesis's own checks: 2xx bodies and content types match the schema; invalid input is refused.

    422 answers are left to assert_sane: the schema documents FastAPI's default validation error there, while
    the app answers with its own error shape (see test_validation_errors_are_documented_in_the_error_shape).
    """
    checks = [] if response.status_code == 503 else [not_a_server_error]  # assert_sane vetted a 503
    if response.status_code < 300:
        checks += [content_type_conformance, response_schema_conformance]
    if checks:
        case.validate_response(response, checks=checks)
    if negative:
        try:
            case.validate_response(response, checks=[negative_data_rejection])
        except FailureGroup as group:
            if not all(_accepted_once_trimmed(case, f) for f in group.exceptions):
                raise


# Unicode White_Space: what pydantic's strip_whitespace removes before it checks a length.
_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def _trimmed(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip(_WHITESPACE)
    if isinstance(value, list):
        return [_trimmed(v) for v in value]
    if isinstance(value, dict):
        return {k: _trimmed(v) for k, v in value.items()}
    return value


def _accepted_once_trimmed(case: Any, failure: Exception) -> bool:
    """Names are trimmed before their length is checked, so " x…x " (101 characters) is a valid 99-character
    name: the schema's maxLength cannot say so. Accepting it is right when the trimmed body is valid."""
    if not isinstance(failure, AcceptedNegativeData) or "in body" not in str(failure):
        return False
    op = case.operation
    body = DOCUMENT["paths"][op.path][op.method.lower()]["requestBody"]["content"]["application/json"]["schema"]
    validator = jsonschema_rs.validator_for({**body, "components": DOCUMENT["components"]})
    return validator.is_valid(_trimmed(case.body))


# --- building requests --------------------------------------------------------------------------------------


def prepared(case: Any, headers: dict[str, str]) -> tuple[str, str, dict[str, str], bytes | None]:
    """The request schemathesis would send for this case, byte for byte (it serializes through requests)."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
    kwargs.pop("cookies", None)
    request = requests.Request(**kwargs).prepare()
    body = request.body.encode() if isinstance(request.body, str) else request.body
    sent = {k: v for k, v in request.headers.items() if k.lower() not in ("connection", "accept-encoding")}
    return request.method or "GET", request.url or "", sent, body


def _raw(value: Any) -> str:
    """Percent-encode any text, lone surrogates included (as the invalid UTF-8 a hostile client would send)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def poisoned_url(case: Any, path: dict[str, Any], query: dict[str, Any]) -> str:
    url = case.operation.path
    for name, value in path.items():
        url = url.replace("{" + name + "}", _raw(value))
    if query:
        url += "?" + "&".join(f"{_raw(k)}={_raw(v)}" for k, v in query.items())
    return BASE_URL + url


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document a value sits, the document itself included."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += json_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += json_paths(v, (*prefix, i))
    return out


def replaced(document: Any, where: tuple[Any, ...], value: Any) -> Any:
    if not where:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    return copy


def _has_body(op: Any) -> bool:
    return "requestBody" in op.definition.raw


def _parameters(op: Any, location: str) -> list[str]:
    return [p["name"] for p in op.definition.raw.get("parameters", []) if p.get("in") == location]


def _has_format(op: Any, location: str, name: str, fmt: str) -> bool:
    return any(
        p.get("in") == location and p["name"] == name and f'"format": "{fmt}"' in json.dumps(p.get("schema", {}))
        for p in op.definition.raw.get("parameters", [])
    )


def _is_integer(op: Any, location: str, name: str) -> bool:
    for p in op.definition.raw.get("parameters", []):
        if p.get("in") == location and p["name"] == name:
            schema = json.dumps(p.get("schema", {}))
            return '"integer"' in schema and '"string"' not in schema
    return False


@st.composite
def poison(
    draw: st.DrawFn, op: Any, known_ids: Callable[[str], int | None]
) -> tuple[Any, dict[str, Any], dict[str, Any], Any, bool]:
    """A valid case (sometimes aimed at a seeded record) with one thing made hostile: a body value, an
    unknown field, a query or a path value. Returns (case, path params, query, body, must_be_refused)."""
    case = draw(op.as_strategy(generation_mode=GenerationMode.POSITIVE))
    path, query = dict(case.path_parameters or {}), dict(case.query or {})
    if draw(st.booleans()):
        path = {k: known_ids(k) or v for k, v in path.items()}
    body = case.body if _has_body(op) else None
    instants = [n for n in _parameters(op, "query") if _has_format(op, "query", n, "date-time")]
    if instants and draw(st.booleans()):
        query[draw(st.sampled_from(instants))] = draw(st.sampled_from(DATETIME_EDGES))
        return case, path, query, body, False
    targets = [t for t, ok in (("body", _has_body(op)), ("query", _parameters(op, "query")),
                               ("path", _parameters(op, "path"))) if ok]
    if not targets:
        return case, path, query, body, False
    target = draw(st.sampled_from(targets))
    value = draw(st.sampled_from(ALWAYS_INVALID + ODD))
    must_refuse = any(value is bad for bad in ALWAYS_INVALID)
    if target == "body":
        if isinstance(body, dict) and draw(st.booleans()):
            body = {**body, UNKNOWN_FIELD: value}
            must_refuse = True
        else:
            where = draw(st.sampled_from(json_paths(body)))
            body = replaced(body, where, value)
    else:
        if isinstance(value, str) and len(value) > URL_TEXT:
            value = value[:URL_TEXT]  # still far over any declared limit; a URL has its own ceiling
        place = query if target == "query" else path
        name = draw(st.sampled_from(_parameters(op, target)))
        place[name] = value
        # In a URL everything is text: a big number is a fine search term, and a lone surrogate arrives as
        # U+FFFD. Refused for sure: NUL, text over every length limit, a huge number for an integer.
        must_refuse = (isinstance(value, str) and ("\x00" in value or len(value) > 100)) or (
            isinstance(value, int) and not isinstance(value, bool) and value in ALWAYS_INVALID
            and _is_integer(op, target, name)
        )
    return case, path, query, body, must_refuse


# --- the tests ---------------------------------------------------------------------------------------------


def run_in_thread_with_loop(loop: asyncio.AbstractEventLoop) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    return lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result()


@pytest.mark.parametrize("label", LABELS)
async def test_generated_requests_as_admin_get_sane_answers(fuzzer: Fuzzer, label: str) -> None:
    op = ADMIN_OPERATIONS[label]
    run = run_in_thread_with_loop(asyncio.get_running_loop())
    changes_state = op.method.upper() != "GET"

    def exchange(case: Any, mode: GenerationMode, use_known_ids: bool) -> httpx.Response:
        if use_known_ids and mode is GenerationMode.POSITIVE:
            for name in list(case.path_parameters or {}):
                known = fuzzer.known_id(op.path, name)
                if known is not None:
                    case.path_parameters[name] = known
        method, url, headers, body = prepared(case, {**fuzzer.admin})
        response = run(fuzzer.send(method, url, headers, body))
        if changes_state:
            run(fuzzer.keep_admin())
        return response

    modes = [GenerationMode.POSITIVE]
    if _has_body(op) or op.definition.raw.get("parameters"):
        modes.append(GenerationMode.NEGATIVE)  # nothing to make invalid otherwise
    for mode in modes:

        @hypothesis_settings(max_examples=EXAMPLES[mode.value], **HYPOTHESIS)
        @given(case=op.as_strategy(generation_mode=mode), use_known_ids=st.booleans())
        def generated(case: Any, use_known_ids: bool) -> None:
            response = exchange(case, mode, use_known_ids)
            assert_sane(response)
            check_against_schema(case, response, negative=mode is GenerationMode.NEGATIVE)

        await asyncio.to_thread(generated)

    @hypothesis_settings(max_examples=EXAMPLES["poisoned"], **HYPOTHESIS)
    @given(poisoned=poison(op, lambda name: fuzzer.known_id(op.path, name)))
    def poisoned(poisoned: tuple[Any, dict[str, Any], dict[str, Any], Any, bool]) -> None:
        case, path, query, body, must_refuse = poisoned
        headers = {**fuzzer.admin}
        content = None
        if body is not None or _has_body(op):
            content = json.dumps(body).encode()  # ensure_ascii: a lone surrogate travels as \ud800
            headers["Content-Type"] = "application/json"
        response = run(fuzzer.send(op.method.upper(), poisoned_url(case, path, query), headers, content))
        if changes_state:
            run(fuzzer.keep_admin())
        assert_sane(response)
        if must_refuse:
            assert response.status_code == 422, "hostile input was not refused" + describe(response)
        if 200 <= response.status_code < 300 and op.method.upper() != "GET":
            assert "\\u0000" not in response.text and "\\ud800" not in response.text, describe(response)

    await asyncio.to_thread(poisoned)


@pytest.mark.parametrize("label", LABELS)
async def test_generated_requests_without_credentials_are_refused(fuzzer: Fuzzer, label: str) -> None:
    op = ANON_OPERATIONS[label]
    run = run_in_thread_with_loop(asyncio.get_running_loop())

    @hypothesis_settings(max_examples=EXAMPLES["anonymous"], **HYPOTHESIS)
    @given(case=op.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def anonymous(case: Any) -> None:
        method, url, headers, body = prepared(case, {})
        headers = {k: v for k, v in headers.items() if k.lower() != "cookie"}
        response = run(fuzzer.send(method, url, headers, body))
        assert_sane(response)
        if label in PUBLIC:
            return
        # Malformed query values may be refused before authentication; nothing else gets through.
        assert response.status_code in (401, 422), describe(response)
        if response.status_code == 422:
            field = response.json()["error"]["message"].split(":")[0]
            assert field in (case.query or {}), describe(response)
        else:
            assert response.headers["www-authenticate"] == "Bearer", describe(response)
            assert response.json()["error"]["code"] == "unauthenticated", describe(response)

    await asyncio.to_thread(anonymous)

    if label not in PUBLIC:
        # The plainest request, with no credentials at all, is exactly a 401.
        path = {name: 1 for name in _parameters(op, "path")}
        url = op.path.format(**path)
        r = await fuzzer.client.request(op.method.upper(), url, json={} if _has_body(op) else None)
        assert r.status_code == 401, describe(r)
        assert r.json()["error"]["code"] == "unauthenticated"
        assert "Authorization: Bearer" in r.json()["error"]["message"]


INSTANT_QUERIES = [
    (label, name)
    for label, op in sorted(ADMIN_OPERATIONS.items())
    for name in _parameters(op, "query")
    if _has_format(op, "query", name, "date-time")
]


@pytest.mark.parametrize("instant", DATETIME_EDGES)
@pytest.mark.parametrize(("label", "name"), INSTANT_QUERIES)
async def test_extreme_instants_in_queries_get_sane_answers(fuzzer: Fuzzer, label: str, name: str, instant: str) -> None:
    """Year 1 and year 9999 with the widest UTC offsets: refused or answered, never an overflow (500)."""
    op = ADMIN_OPERATIONS[label]
    path = {p: fuzzer.known_id(op.path, p) or 1 for p in _parameters(op, "path")}
    url = f"{BASE_URL}{op.path.format(**path)}?{name}={quote(instant)}"
    r = await fuzzer.send("GET", url, fuzzer.admin, None)
    assert_sane(r)
    assert r.status_code in (200, 422), describe(r)


async def test_validation_errors_are_documented_in_the_error_shape(fuzzer: Fuzzer) -> None:
    """Client generators read /openapi.json: a 422 there must describe the body the API really sends."""
    r = await fuzzer.client.post("/api/v1/users", json={"username": 5}, headers=fuzzer.admin)
    assert r.status_code == 422
    assert set(r.json()) == {"error"}
    documented = DOCUMENT["paths"]["/api/v1/users"]["post"]["responses"]["422"]["content"]["application/json"]
    ref = documented["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "error" in DOCUMENT["components"]["schemas"][ref].get("properties", {}), (
        f"422 is documented as {ref}, but the API answers {r.json()}"
    )
