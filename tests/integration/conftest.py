"""Fixtures for tests against a real Asterisk: the sandbox, built once (cached) and started per session.

Where the sandbox cannot be built or run (not root, not Debian-like, no mirror) the Asterisk tests are
skipped with the reason, except under CI (the CI environment variable set), where that is a failure.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from pathlib import Path

import pytest

from teleplex.voice.sandbox import Sandbox, SandboxState
from teleplex.voice.sandbox_errors import SandboxError, SandboxUnavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
SANDBOX_VAR_DIR = Path(os.environ.get("TELEPLEX_SANDBOX_VAR_DIR", REPO_ROOT / "var" / "asterisk"))


def _unavailable(reason: str) -> None:
    message = f"sandbox Asterisk unavailable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(message)  # outside CI only: under CI the line above fails instead


def _to_terminal(line: str) -> None:
    print(line, file=sys.__stderr__, flush=True)


def unique_instance(label: str) -> str:
    """Instance names unique per test session, so parallel sessions and leftovers never clash."""
    return f"t{os.getpid()}-{uuid.uuid4().hex[:6]}-{label}"[:40]


@pytest.fixture(scope="session")
def sandbox_var_dir() -> Path:
    """The var folder with a complete root file system; builds it the first time (about a minute)."""
    reason = None
    try:
        # The first build takes about a minute; show its progress even though pytest captures output.
        Sandbox(SANDBOX_VAR_DIR, "build", progress=_to_terminal).build()
    except SandboxError as exc:
        reason = str(exc)
    if reason:  # outside the except block, so the report shows the reason without a chained traceback
        _unavailable(reason)
    return SANDBOX_VAR_DIR


@pytest.fixture(scope="session")
def start_sandbox(sandbox_var_dir: Path) -> Iterator[Callable[..., Sandbox]]:
    """Start extra sandbox instances by label; every one started is stopped and deleted at the end."""
    started: list[Sandbox] = []

    def start(label: str, **up_options: Any) -> Sandbox:
        sandbox = Sandbox(sandbox_var_dir, unique_instance(label), progress=lambda line: None)
        started.append(sandbox)
        reason = None
        try:
            sandbox.up(**up_options)
        except SandboxUnavailable as exc:  # other start failures are real failures
            reason = str(exc)
        if reason:
            _unavailable(reason)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.down()
        if not os.environ.get("TELEPLEX_KEEP_SANDBOX"):
            sandbox.purge()


@pytest.fixture(scope="session")
def asterisk_sandbox(start_sandbox: Callable[[str], Sandbox]) -> Sandbox:
    """The session's running sandbox instance."""
    return start_sandbox("session")


@pytest.fixture(scope="session")
def sandbox_state(asterisk_sandbox: Sandbox) -> SandboxState:
    """Ports, ARI URL and credentials of the session's sandbox."""
    state = asterisk_sandbox.read_state()
    assert state is not None
    return state
