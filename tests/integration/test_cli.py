"""The `teleplex` command as an operator runs it: a real process, a real SQLite file, a real HTTP port.

These test the command line, not the database, so they always use a temporary SQLite file (and carry no
`db` marker: they use none of the database fixtures)."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory

from teleplex import __version__
from teleplex.core.migrate import alembic_config

TELEPLEX = Path(sys.executable).parent / "teleplex"
STARTUP_LIMIT = 30.0  # seconds to wait for `serve` to listen; a wait, not an assertion on speed
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()

pytestmark = pytest.mark.skipif(not TELEPLEX.exists(), reason=f"no teleplex console script at {TELEPLEX}")


@dataclass
class Env:
    folder: Path
    vars: dict[str, str] = field(default_factory=dict)

    @property
    def db_file(self) -> Path:
        return self.folder / "teleplex.db"


@pytest.fixture
def env(tmp_path: Path) -> Env:
    """A clean environment: no TELEPLEX_* from the caller, and a database file of our own."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TELEPLEX_")}
    base["TELEPLEX_DATABASE_URL"] = f"sqlite:///{tmp_path}/teleplex.db"
    return Env(tmp_path, base)


def teleplex(env: Env, *args: str, extra: dict[str, str] | None = None, stdin: str | None = None):
    return subprocess.run(
        [str(TELEPLEX), *args],
        env={**env.vars, **(extra or {})},
        cwd=env.folder,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_clean_failure(result: subprocess.CompletedProcess, code: int = 1) -> str:
    """Failed the way an operator wants: the given exit code, a message, no Python traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    assert result.stderr.strip(), "a failure says why"
    return result.stderr


def migrated(env: Env) -> Env:
    assert teleplex(env, "migrate").returncode == 0
    return env


# --- the basics ----------------------------------------------------------------------------------------


def test_version_prints_the_version(env):
    r = teleplex(env, "--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"teleplex {__version__}"


def test_help_lists_the_commands(env):
    r = teleplex(env, "--help")
    assert r.returncode == 0
    for command in ("serve", "migrate", "user", "apikey"):
        assert re.search(rf"^\W*{command}\b", r.stdout, re.MULTILINE), f"{command} missing from:\n{r.stdout}"


def test_no_arguments_shows_help_instead_of_doing_something(env):
    r = teleplex(env)
    assert "migrate" in r.stdout + r.stderr
    assert not env.db_file.exists(), "no command must not touch the database"


# --- migrate -----------------------------------------------------------------------------------------------


def test_migrate_says_the_revision_and_is_idempotent(env):
    first = teleplex(env, "migrate")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"database is at revision {HEAD}"
    second = teleplex(env, "migrate")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout


def test_migrate_refuses_a_database_newer_than_the_code(env):
    migrated(env)
    _set_revision(env, "ffffffffffff_future")
    err = assert_clean_failure(teleplex(env, "migrate"))
    assert "newer than this Teleplex" in err
    assert _revision(env) == "ffffffffffff_future", "nothing was changed"


# --- users and API keys -------------------------------------------------------------------------------------


def test_user_create_then_a_duplicate_fails_in_one_line(env):
    migrated(env)
    r = teleplex(env, "user", "create", "alice", "--role", "agent", "--role", "supervisor", "--password", "password-123")
    assert r.returncode == 0, r.stderr
    assert "created user alice" in r.stdout
    assert "agent, supervisor" in r.stdout

    again = teleplex(env, "user", "create", "alice", "--role", "agent", "--password", "password-456")
    err = assert_clean_failure(again)
    assert len(err.strip().splitlines()) == 1, err
    assert "alice" in err and "taken" in err


def test_user_create_refuses_a_bad_role_and_a_short_password(env):
    migrated(env)
    bad_role = teleplex(env, "user", "create", "bob", "--role", "wizard", "--password", "password-123")
    assert bad_role.returncode == 2 and "wizard" in bad_role.stderr and "Traceback" not in bad_role.stderr
    short = teleplex(env, "user", "create", "bob", "--role", "agent", "--password", "short")
    err = assert_clean_failure(short)
    assert "8" in err  # the minimum length is named


def test_user_create_reads_the_password_from_standard_input(env):
    migrated(env)
    r = teleplex(env, "user", "create", "carol", "--role", "agent", stdin="password-from-stdin\n")
    assert r.returncode == 0, r.stderr
    with serving(env) as server:
        assert server.login("carol", "password-from-stdin").status_code == 200


def test_user_set_password_changes_it(env):
    migrated(env)
    assert teleplex(env, "user", "create", "dave", "--role", "agent", "--password", "old-password").returncode == 0
    r = teleplex(env, "user", "set-password", "dave", "--password", "new-password")
    assert r.returncode == 0, r.stderr
    assert "password of dave changed" in r.stdout
    with serving(env) as server:
        assert server.login("dave", "new-password").status_code == 200
        assert server.login("dave", "old-password").status_code == 401


def test_user_set_password_of_nobody_fails_cleanly(env):
    migrated(env)
    err = assert_clean_failure(teleplex(env, "user", "set-password", "ghost", "--password", "new-password"))
    assert "ghost" in err


def test_an_api_key_from_the_command_line_authenticates_against_the_server(env):
    migrated(env)
    r = teleplex(env, "apikey", "create", "ci-bot", "--role", "admin")
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    assert re.fullmatch(r"\S{20,}", key), r.stdout
    with serving(env) as server:
        users = server.client.get("/api/v1/users", headers={"Authorization": f"Bearer {key}"})
        assert users.status_code == 200, users.text
        assert server.client.get("/api/v1/users", headers={"Authorization": "Bearer tpx_wrong"}).status_code == 401


def test_commands_on_an_unmigrated_database_fail_cleanly(env):
    r = teleplex(env, "user", "create", "erin", "--role", "agent", "--password", "password-123")
    assert_clean_failure(r)


# --- settings ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["abc", "70000", "0"])
def test_an_invalid_setting_stops_start_up_naming_it(env, port):
    for command in (["migrate"], ["serve"]):
        err = assert_clean_failure(teleplex(env, *command, extra={"TELEPLEX_HTTP_PORT": port}), code=2)
        assert "TELEPLEX_HTTP_PORT" in err


def test_an_invalid_database_url_is_named(env):
    err = assert_clean_failure(teleplex(env, "migrate", extra={"TELEPLEX_DATABASE_URL": "mysql://x/y"}), code=2)
    assert "TELEPLEX_DATABASE_URL" in err


def test_a_toml_config_file_is_honoured(env):
    migrated(env)
    port = free_port()
    config = env.folder / "teleplex.toml"
    config.write_text(f'http_port = {port}\nadmin_password = "from-the-toml-file"\n')
    with serving(env, "--config", str(config), port=None) as server:
        assert server.port == port
        assert server.login("admin", "from-the-toml-file").status_code == 200


def test_the_environment_wins_over_the_toml_file(env):
    migrated(env)
    port = free_port()
    config = env.folder / "teleplex.toml"
    config.write_text("http_port = 1\n")  # unusable: the environment must override it
    with serving(env, "--config", str(config), port=port) as server:
        assert server.client.get("/healthz").status_code == 200


def test_an_unknown_key_in_the_toml_file_is_named(env):
    config = env.folder / "teleplex.toml"
    config.write_text("http_port = 8081\nhttp_prot = 8082\n")
    err = assert_clean_failure(teleplex(env, "--config", str(config), "migrate"), code=2)
    assert "http_prot" in err


def test_a_missing_or_broken_toml_file_is_reported(env):
    missing = assert_clean_failure(teleplex(env, "--config", str(env.folder / "nope.toml"), "migrate"), code=2)
    assert "nope.toml" in missing
    broken = env.folder / "broken.toml"
    broken.write_text("http_port = = 1\n")
    assert_clean_failure(teleplex(env, "--config", str(broken), "migrate"), code=2)


# --- serve ---------------------------------------------------------------------------------------------


def test_serve_refuses_a_database_newer_than_the_code(env):
    migrated(env)
    _set_revision(env, "ffffffffffff_future")
    err = assert_clean_failure(teleplex(env, "serve", extra={"TELEPLEX_HTTP_PORT": str(free_port())}))
    assert "newer than this Teleplex" in err
    assert "ffffffffffff_future" in err


def test_serve_on_an_unmigrated_database_says_to_migrate(env):
    err = assert_clean_failure(teleplex(env, "serve", extra={"TELEPLEX_HTTP_PORT": str(free_port())}))
    assert "teleplex migrate" in err


def test_serve_creates_the_admin_and_prints_its_password(env):
    migrated(env)
    with serving(env) as server:
        match = re.search(r"username 'admin', password (\S+)", server.stderr_text())
        assert match, server.stderr_text()
        password = match.group(1)
        r = server.login("admin", password)
        assert r.status_code == 200, r.text
        me = server.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        assert me.json()["roles"] == ["admin"]


def test_serve_uses_teleplex_admin_password_and_does_not_print_it(env):
    migrated(env)
    with serving(env, extra={"TELEPLEX_ADMIN_PASSWORD": "chosen-by-operator"}) as server:
        assert "from TELEPLEX_ADMIN_PASSWORD" in server.stderr_text()
        assert "chosen-by-operator" not in server.stderr_text()
        assert server.login("admin", "chosen-by-operator").status_code == 200


def test_a_second_serve_does_not_create_another_admin(env):
    migrated(env)
    with serving(env, extra={"TELEPLEX_ADMIN_PASSWORD": "first-password"}):
        pass
    with serving(env, extra={"TELEPLEX_ADMIN_PASSWORD": "second-password"}) as server:
        assert "Created the administrator" not in server.stderr_text()
        assert server.login("admin", "first-password").status_code == 200
        assert server.login("admin", "second-password").status_code == 401


def test_serve_logs_each_request_as_json_with_its_request_id(env):
    migrated(env)
    with serving(env) as server:
        r = server.client.get("/healthz", headers={"X-Request-ID": "cli-trace-1"})
        assert r.headers["x-request-id"] == "cli-trace-1"
        server.wait_for_stderr("cli-trace-1")
        line = next(x for x in server.stderr_lines if "cli-trace-1" in x)
        assert '"request_id": "cli-trace-1"' in line, line


# --- helpers -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _set_revision(env: Env, revision: str) -> None:
    with sqlite3.connect(env.db_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))


def _revision(env: Env) -> str:
    with sqlite3.connect(env.db_file) as conn:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]


class Server:
    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process = process
        self.port = port
        self.stderr_lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def stderr_text(self) -> str:
        return "\n".join(self.stderr_lines)

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_LIMIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                pytest.fail(f"teleplex serve exited with {self.process.returncode}:\n{self.stderr_text()}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"teleplex serve did not answer on port {self.port}:\n{self.stderr_text()}")

    def wait_for_stderr(self, text: str) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and text not in self.stderr_text():
            time.sleep(0.05)

    def login(self, username: str, password: str) -> httpx.Response:
        return self.client.post("/api/v1/auth/token", json={"username": username, "password": password})

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)


class serving:  # noqa: N801 - used as `with serving(env) as server`
    """`teleplex serve` on a free port (unless port=None: then the settings choose), always stopped after."""

    def __init__(self, env: Env, *args: str, port: int | None | bool = True, extra: dict[str, str] | None = None):
        self.env, self.args, self.extra = env, args, dict(extra or {})
        self.port = free_port() if port is True else port

    def __enter__(self) -> Server:
        variables = {**self.env.vars, **self.extra}
        if self.port:
            variables["TELEPLEX_HTTP_PORT"] = str(self.port)
        port = self.port or _configured_port(self.args)
        process = subprocess.Popen(
            [str(TELEPLEX), *self.args, "serve"],
            env=variables,
            cwd=self.env.folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.server = Server(process, port)
        try:
            self.server.wait_until_up()
        except BaseException:
            self.server.stop()
            raise
        return self.server

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


def _configured_port(args: tuple[str, ...]) -> int:
    """The http_port written in the --config file among these arguments."""
    config = Path(args[args.index("--config") + 1])
    return int(re.search(r"^http_port\s*=\s*(\d+)", config.read_text(), re.MULTILINE).group(1))  # type: ignore[union-attr]
