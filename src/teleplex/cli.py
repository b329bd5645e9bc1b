"""The `teleplex` command: the map of the product. Each command loads settings, then calls a service."""

from __future__ import annotations

import asyncio
import gc
import getpass
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError

from teleplex import __version__
from teleplex.audit.service import SYSTEM
from teleplex.auth import service as auth_service
from teleplex.auth.models import User
from teleplex.auth.roles import Role
from teleplex.auth.schemas import ApiKeyCreate, UserCreate, UserUpdate
from teleplex.campaigns.simulate_cli import simulate_app
from teleplex.core.clock import SystemClock
from teleplex.core.db import Database
from teleplex.core.errors import TeleplexError
from teleplex.core.migrate import schema_status, upgrade
from teleplex.core.settings import Settings, SettingsError, load_settings
from teleplex.voice.cli import asterisk_app

T = TypeVar("T")

app = typer.Typer(
    help="Teleplex: a multichannel contact center on Asterisk (voice, WhatsApp, Telegram, SMS, web chat).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage users from the command line (for the first administrator, or recovery).")
apikey_app = typer.Typer(help="Manage API keys for integrations.")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(asterisk_app, name="asterisk")
app.add_typer(simulate_app, name="simulate")

_state: dict[str, Any] = {}


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"teleplex: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    if "settings" not in _state:
        try:
            _state["settings"] = load_settings(_state.get("config"))
        except SettingsError as exc:
            fail(str(exc), 2)
    return _state["settings"]


async def check_schema(db: Database) -> None:
    """Refuse to work on a database this version cannot read: not migrated yet, or migrated by a newer one."""
    status = await schema_status(db.engine)
    if status.newer_than_code:
        raise TeleplexError(
            f"the database is at revision {status.current}, newer than this Teleplex ({__version__}); "
            "refusing to run: upgrade Teleplex"
        )
    if not status.up_to_date:
        raise TeleplexError("the database schema is not up to date: run `teleplex migrate` first")


def run_db(action: Callable[[Database], Awaitable[T]], *, needs_schema: bool = True) -> T:
    """Run one database action with clear messages for the failures an operator can fix."""

    async def go() -> T:
        db = Database(settings().database_url)
        try:
            if needs_schema:
                await check_schema(db)
            return await action(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except TeleplexError as exc:
        fail(exc.message)
    except (OSError, ConnectionError) as exc:
        fail(f"cannot reach the database ({settings().database_url.split('@')[-1]}): {exc}")
    except SQLAlchemyError as exc:
        fail(f"the database refused: {str(exc).splitlines()[0]}")
    raise AssertionError("unreachable")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"teleplex {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    config: Annotated[Path | None, typer.Option("--config", help="a TOML settings file")] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")
    ] = False,
) -> None:
    """Settings come from TELEPLEX_* environment variables, then the --config file, then defaults."""
    _state["config"] = config


@app.command()
def migrate() -> None:
    """Upgrade the database to this version's schema."""

    async def go(db: Database) -> str:
        status = await schema_status(db.engine)
        if status.newer_than_code:
            raise TeleplexError(f"the database is at revision {status.current}, newer than this Teleplex")
        await upgrade(db.engine)
        return (await schema_status(db.engine)).head

    head = run_db(go, needs_schema=False)
    typer.echo(f"database is at revision {head}")


GIL_SWITCH_SECONDS = 0.0005


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on (TELEPLEX_HTTP_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (TELEPLEX_HTTP_PORT)")] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="run voice on the Asterisk sandbox (needs root) unless TELEPLEX_ARI_URL is set")
    ] = False,
) -> None:
    """Run the contact center: the API, the routing engine and, with Asterisk, voice."""
    import uvicorn

    from teleplex.app import create_app
    from teleplex.core.logging import configure_logging

    cfg = settings()
    configure_logging(cfg.log_level, cfg.log_json)
    box = None
    if sandbox and not cfg.ari_url:
        cfg, box = _with_sandbox(cfg)
    elif not cfg.ari_url:
        typer.echo("Voice is off: no Asterisk configured (set TELEPLEX_ARI_URL, or run with --sandbox).", err=True)

    async def prepare(db: Database) -> str | None:
        async with db.session() as session:
            admin_password = cfg.admin_password.get_secret_value() if cfg.admin_password else None
            return await auth_service.create_first_admin(session, SystemClock(), admin_password)

    created = run_db(prepare)
    if created is not None:
        shown = "(from TELEPLEX_ADMIN_PASSWORD)" if cfg.admin_password else created
        typer.echo(f"Created the administrator: username 'admin', password {shown}", err=True)
    h, p = host or cfg.http_host, port or cfg.http_port
    typer.echo(f"Teleplex {__version__} serving on http://{h}:{p} (API docs at /docs)", err=True)
    if box is not None:  # uvicorn re-raises SIGTERM after its shutdown: exit through `finally`, not around it
        signal.signal(signal.SIGTERM, _exit_on_signal)
    # The database drivers run each statement on a worker thread that needs the GIL back to hand over its
    # result; at CPython's default 5 ms switch interval a busy event loop kept it waiting for most of that, per
    # statement. 0.5 ms lets results through while the loop stays busy (see docs/benchmarks.md, chat load).
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    app = create_app(cfg)
    # FastAPI prepares each route on the first request that walks past it (about 1.5 s of CPU in all, paid by
    # the first callers, a 404 paying for every route); building the OpenAPI schema prepares them all now.
    app.openapi()
    # What is loaded by now (modules, the app, its routes and models) lives as long as the process. Frozen, a
    # full collection stops walking it each time, which held the event loop for tens of milliseconds.
    gc.collect()
    gc.freeze()
    try:
        uvicorn.run(app, host=h, port=p, log_config=None, proxy_headers=False)
    finally:
        if box is not None:
            for instance in box:
                instance.down()
            typer.echo("Stopped the Asterisk sandbox.", err=True)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _with_sandbox(cfg: Settings) -> tuple[Settings, Any]:
    """Start (or reuse) the default sandbox, and the public network it dials out to, and point voice at it;
    without root, say so and run without voice. Returns the instances to stop at the end."""
    from pathlib import Path as _Path

    from pydantic import SecretStr

    from teleplex.voice.sandbox import Sandbox
    from teleplex.voice.sandbox_errors import SandboxError

    from teleplex.voice import public_network

    say = lambda line: typer.echo(line, err=True)  # noqa: E731
    box = Sandbox(_Path(cfg.var_dir) / "asterisk", "default", progress=say)
    network = Sandbox(_Path(cfg.var_dir) / "asterisk", "public-network", progress=say)
    try:
        network.up()
        public_network.install(network)
        network_state = network.read_state()
        assert network_state is not None
        state = box.up(carrier_contact=f"sip:127.0.0.1:{network_state.sip_udp_port}")
    except SandboxError as exc:
        typer.echo(f"Voice is off: the Asterisk sandbox cannot run here ({exc}). "
                   "Set TELEPLEX_ARI_URL to use your own Asterisk; see docs/asterisk.md.", err=True)  # fmt: skip
        return cfg, None
    typer.echo(
        f"Asterisk sandbox up: calls from the carrier trunk at sip:<number>@127.0.0.1:{state.sip_udp_port} "
        f"reach the queue with that number (DID); agent phones {', '.join(state.agents)} register there "
        "(passwords: teleplex asterisk sandbox status --json). Campaign calls go to a stand-in public network: "
        f"{public_network.PERSON} answers, {public_network.BUSY} is busy, {public_network.RINGS_OUT} rings out, "
        f"{public_network.MACHINE} is an answering machine (docs/dialer.md).",
        err=True,
    )
    updated = cfg.model_copy(
        update={
            "ari_url": state.ari_url,
            "ari_user": state.ari_user,
            "ari_password": SecretStr(state.ari_password),
            "ari_app": state.app,
            "recordings_dir": _Path(state.instance_dir) / "spool" / "recording",
        }
    )
    return updated, [box, network]


def _password(given: str | None) -> str:
    if given:
        return given
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if line:
            return line
        fail("no password given: use --password or type it on standard input")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        fail("the passwords differ")
    return first


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[list[Role], typer.Option("--role", help="admin, supervisor or agent; repeat for several")],
    password: Annotated[str | None, typer.Option(help="default: asked for, or read from standard input")] = None,
) -> None:
    """Create a user with one or more roles."""
    try:
        data = UserCreate(username=username, password=_password(password), roles=role)
    except ValueError as exc:
        fail(str(exc).splitlines()[0] + ": " + "; ".join(e["msg"] for e in exc.errors()))  # type: ignore[attr-defined]

    async def go(db: Database) -> int:
        async with db.session() as session:
            return (await auth_service.create_user(session, SystemClock(), SYSTEM, data)).id

    user_id = run_db(go)
    typer.echo(f"created user {username} (id {user_id}) with roles {', '.join(sorted(role))}")


@user_app.command("set-password")
def user_set_password(
    username: str,
    password: Annotated[str | None, typer.Option(help="default: asked for, or read from standard input")] = None,
) -> None:
    """Set a user's password; every session of theirs ends."""
    try:
        change = UserUpdate(password=_password(password))
    except ValueError as exc:
        fail("; ".join(e["msg"] for e in exc.errors()))  # type: ignore[attr-defined]

    async def go(db: Database) -> None:
        from sqlalchemy import select

        async with db.session() as session:
            user = (await session.execute(select(User).where(User.username == username))).scalar()
            if user is None:
                raise TeleplexError(f"no user named '{username}'")
            await auth_service.update_user(session, SystemClock(), SYSTEM, user.id, change)

    run_db(go)
    typer.echo(f"password of {username} changed; their sessions were ended")


@apikey_app.command("create")
def apikey_create(
    name: str,
    role: Annotated[list[Role], typer.Option("--role", help="admin, supervisor or agent; repeat for several")],
    queue: Annotated[list[int], typer.Option("--queue", help="a queue id a supervisor key may act on")] = [],  # noqa: B006
) -> None:
    """Create an API key; it is printed once and only its hash is kept."""
    try:
        data = ApiKeyCreate(name=name, roles=role, queue_ids=queue)
    except ValueError as exc:
        fail("; ".join(e["msg"] for e in exc.errors()))  # type: ignore[attr-defined]

    async def go(db: Database) -> str:
        async with db.session() as session:
            raw, _ = await auth_service.create_api_key(session, SystemClock(), SYSTEM, data)
            return raw

    typer.echo(run_db(go))
