"""`teleplex asterisk ...`: commands for the Asterisk Teleplex drives; today the local sandbox.

Mounted by the main CLI with `app.add_typer(asterisk_app, name="asterisk")`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from teleplex.voice.sandbox import DEFAULT_VAR_DIR, Sandbox, SandboxState
from teleplex.voice.sandbox_errors import SandboxError

asterisk_app = typer.Typer(
    help="Asterisk for Teleplex: a local sandbox for development and tests.", no_args_is_help=True
)
sandbox_app = typer.Typer(
    help="A chrooted Debian sid Asterisk configured by Teleplex (needs root; cached under --var-dir).",
    no_args_is_help=True,
)
asterisk_app.add_typer(sandbox_app, name="sandbox")

VarDir = Annotated[
    Path, typer.Option("--var-dir", help="Where the root file system and instances live (git-ignored).")
]
Instance = Annotated[str, typer.Option("--instance", help="Instance name; each has its own ports and state.")]

STATUS_NOT_RUNNING = 3  # like `systemctl status`, so scripts can test for "not running"


def _sandbox(var_dir: Path, instance: str) -> Sandbox:
    try:
        return Sandbox(var_dir, instance, progress=typer.echo)
    except ValueError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    """One clear line on stderr and a non-zero exit; no traceback for expected failures."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _describe(state: SandboxState) -> list[str]:
    return [
        f"  ARI          {state.ari_url}  (user {state.ari_user}, app {state.app})",
        f"  ARI events   ws://127.0.0.1:{state.http_port}/ari/events?app={state.app}&api_key=USER:PASSWORD",
        f"  SIP (UDP)    127.0.0.1:{state.sip_udp_port}  carrier trunk endpoint '{state.carrier}'",
        f"  SIP (WS)     {state.sip_ws_url}",
        f"  AMI          127.0.0.1:{state.ami_port}  (user {state.ami_user})",
        f"  RTP          {state.rtp_start}-{state.rtp_end}",
        f"  agents       {', '.join(state.agents) or '-'}",
        f"  state file   {Path(state.instance_dir) / 'state.json'}  (passwords are here)",
        f"  log          {state.log_file}",
    ]


@sandbox_app.command()
def build(
    var_dir: VarDir = DEFAULT_VAR_DIR,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even if a complete tree is cached.")
    ] = False,
) -> None:
    """Build the Debian sid root file system with Asterisk (about a minute the first time, then cached)."""
    sandbox = _sandbox(var_dir, "default")
    try:
        sandbox.build(force=force)
    except SandboxError as exc:
        _fail(str(exc))


@sandbox_app.command()
def up(
    var_dir: VarDir = DEFAULT_VAR_DIR,
    instance: Instance = "default",
    agents: Annotated[
        str, typer.Option("--agents", help="Comma-separated agent device names (PJSIP endpoints).")
    ] = "1001,1002,1003,1004",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for ARI.")] = 30.0,
) -> None:
    """Start an instance (building first if needed) and print where it listens."""
    sandbox = _sandbox(var_dir, instance)
    names = [a.strip() for a in agents.split(",") if a.strip()]
    try:
        state = sandbox.up(agents=names, timeout=timeout)
    except (SandboxError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(f"instance {state.instance} running (pid {state.pid}), {state.asterisk_version}")
    for line in _describe(state):
        typer.echo(line)


@sandbox_app.command()
def down(var_dir: VarDir = DEFAULT_VAR_DIR, instance: Instance = "default") -> None:
    """Stop an instance (clean shutdown, then SIGTERM, then SIGKILL); does nothing if it is not running."""
    sandbox = _sandbox(var_dir, instance)
    try:
        stopped = sandbox.down()
    except SandboxError as exc:
        _fail(str(exc))
    if not stopped:
        typer.echo(f"instance {instance} was not running")


@sandbox_app.command()
def status(
    var_dir: VarDir = DEFAULT_VAR_DIR,
    instance: Instance = "default",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the state as JSON (includes passwords).")
    ] = False,
) -> None:
    """Say whether an instance runs, where, and for how long; exits 3 when it does not run."""
    sandbox = _sandbox(var_dir, instance)
    try:
        result = sandbox.status()
    except SandboxError as exc:
        _fail(str(exc))
    if as_json:
        payload = {
            "instance": result.instance,
            "running": result.running,
            "uptime_seconds": result.uptime_seconds,
            "asterisk_version": result.asterisk_version,
            "state": asdict(result.state) if result.state else None,
        }
        typer.echo(json.dumps(payload, indent=2))
    elif not result.running or result.state is None:
        typer.echo(f"instance {instance}: not running")
    else:
        uptime = f"{result.uptime_seconds:.0f} s" if result.uptime_seconds is not None else "unknown"
        typer.echo(
            f"instance {instance}: running (pid {result.state.pid}), up {uptime}, {result.asterisk_version or ''}"
        )
        for line in _describe(result.state):
            typer.echo(line)
    if not result.running:
        raise typer.Exit(STATUS_NOT_RUNNING)
