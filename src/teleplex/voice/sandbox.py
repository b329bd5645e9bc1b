"""The sandbox Asterisk: a Debian sid Asterisk run chrooted, configured by Teleplex, one folder per instance.

Development and CI need a real Asterisk on machines whose own Debian has none. `Sandbox` builds the tree
once (cached), writes a complete configuration for an instance, starts Asterisk in its own process group,
waits for ARI, and records what it started in a JSON state file that `status`, the engine and tests read.

    sandbox = Sandbox("var/asterisk", instance="default")
    state = sandbox.up(agents=["1001", "1002"])
    ...  # ARI at state.ari_url, events at state.ari_events_url, SIP carrier trunk at 127.0.0.1:state.sip_udp_port
    sandbox.down()
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from teleplex.core.clock import Clock, SystemClock
from teleplex.voice.sandbox_config import (
    udp_port_free,
    APP_NAME,
    CARRIER_ENDPOINT,
    AgentDevice,
    InstanceConfig,
    allocate_ports,
    as_agent_devices,
    random_credentials,
    validate_instance_name,
    write_config,
)
from teleplex.voice.sandbox_errors import SandboxError, StartError, StopError
from teleplex.voice.sandbox_rootfs import Progress, RootfsBuilder, print_progress, require_root

DEFAULT_VAR_DIR = Path("var/asterisk")
INSTANCES_DIR = "teleplex"  # inside the rootfs: <rootfs>/teleplex/<instance>/
STATE_FILE = "state.json"
OUTPUT_LOG = "asterisk.out"  # Asterisk's stdout/stderr; logger.conf's messages.log sits next to it
_SUBDIRS = ("etc", "run", "log", "lib", "lib/keys", "spool", "cache", "spool/recording", "spool/voicemail")
_MOH_DIR = "/usr/share/asterisk/moh"  # asterisk-moh-opsound-gsm installs here


@dataclass(frozen=True)
class SandboxState:
    """What a running sandbox instance listens on and how to log in; saved as JSON in the instance folder."""

    instance: str
    pid: int
    pid_start: int  # start time of pid in clock ticks, so a reused pid is never mistaken for ours
    rootfs: str
    instance_dir: str  # on the host
    chroot_dir: str  # the same folder as Asterisk sees it
    http_port: int
    sip_udp_port: int
    ami_port: int
    rtp_start: int
    rtp_end: int
    ari_url: str  # REST base, e.g. http://127.0.0.1:PORT/ari
    ari_user: str
    ari_password: str
    app: str
    ami_user: str
    ami_password: str
    carrier: str
    started_at: str
    asterisk_version: str = ""
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> password, contact, webrtc
    log_file: str = ""

    @property
    def ari_events_url(self) -> str:
        """The ARI WebSocket for Teleplex's Stasis application."""
        query = urllib.parse.urlencode(
            {"app": self.app, "api_key": f"{self.ari_user}:{self.ari_password}"}, safe=":"
        )
        return f"ws://127.0.0.1:{self.http_port}/ari/events?{query}"

    @property
    def sip_ws_url(self) -> str:
        """Where browser phones register (PJSIP's WS transport rides on the HTTP server)."""
        return f"ws://127.0.0.1:{self.http_port}/ws"

    @property
    def asterisk_conf(self) -> str:
        return f"{self.chroot_dir}/etc/asterisk.conf"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> SandboxState:
        data = json.loads(text)
        data.setdefault("pid_start", 0)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class SandboxStatus:
    """Answer of `status`: whether the instance runs, and if so where and for how long."""

    instance: str
    running: bool
    state: SandboxState | None = None
    uptime_seconds: float | None = None
    asterisk_version: str | None = None


class Sandbox:
    """One named sandbox instance over a cached root file system under var_dir."""

    def __init__(
        self,
        var_dir: Path | str = DEFAULT_VAR_DIR,
        instance: str = "default",
        *,
        progress: Progress = print_progress,
        clock: Clock | None = None,
    ) -> None:
        self.var_dir = Path(var_dir).resolve()
        self.instance = validate_instance_name(instance)
        self.progress = progress
        self.clock = clock or SystemClock()
        self.rootfs = self.var_dir / "rootfs"
        self.instance_dir = self.rootfs / INSTANCES_DIR / instance
        self.chroot_dir = f"/{INSTANCES_DIR}/{instance}"
        self.state_path = self.instance_dir / STATE_FILE
        self.builder = RootfsBuilder(
            self.rootfs, log_path=self.var_dir / "build.log", progress=progress, clock=self.clock
        )
        self._proc: subprocess.Popen[bytes] | None = None  # kept so we reap our own child

    # -- build --------------------------------------------------------------------------------------------

    def build(self, *, force: bool = False) -> Path:
        """Build the Debian sid tree with Asterisk (cached; `force` rebuilds the packages step and base)."""
        return self.builder.build(force=force)

    # -- up -----------------------------------------------------------------------------------------------

    def up(
        self,
        agents: Sequence[str | AgentDevice] | None = None,
        *,
        carrier_contact: str | None = None,
        timeout: float = 30.0,
    ) -> SandboxState:
        """Start the instance (building the tree first if needed) and return once ARI answers.

        An instance that is already running is left alone and its state returned; `down` first to change
        its agents.
        """
        require_root("running the Asterisk sandbox")
        current = self.read_state()
        if current is not None and self._alive(current.pid, current.pid_start):
            self.progress(f"sandbox: instance {self.instance} already running (pid {current.pid})")
            return current
        if not self.builder.is_built():
            self.build()
        devices = as_agent_devices(agents)
        self._prepare_dirs()
        creds = random_credentials()
        cfg = InstanceConfig(
            instance=self.instance,
            chroot_dir=self.chroot_dir,
            module_dir=self.builder.module_dir(),
            moh_dir=_MOH_DIR,
            ports=allocate_ports(self._rtp_windows_of_other_instances()),
            agents=devices,
            carrier_contact=carrier_contact,
            **creds,
        )
        write_config(cfg, self.instance_dir / "etc")
        log_file = self.instance_dir / "log" / OUTPUT_LOG
        self.progress(
            f"sandbox: starting Asterisk instance {self.instance} "
            f"(ARI 127.0.0.1:{cfg.ports.http}, SIP udp 127.0.0.1:{cfg.ports.sip_udp}, AMI {cfg.ports.ami})"
        )
        started = self.clock.monotonic()
        with log_file.open("ab") as out:
            self._proc = subprocess.Popen(
                # -f: foreground (we own the process); -q: quiet; never -c without a terminal (it spins).
                ["chroot", str(self.rootfs), "asterisk", "-f", "-q", "-C", cfg.asterisk_conf],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: Ctrl-C on `up` does not stop it, down kills all
                close_fds=True,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"},
            )
        state = SandboxState(
            instance=self.instance,
            pid=self._proc.pid,
            pid_start=_start_ticks(self._proc.pid) or 0,
            rootfs=str(self.rootfs),
            instance_dir=str(self.instance_dir),
            chroot_dir=self.chroot_dir,
            http_port=cfg.ports.http,
            sip_udp_port=cfg.ports.sip_udp,
            ami_port=cfg.ports.ami,
            rtp_start=cfg.ports.rtp_start,
            rtp_end=cfg.ports.rtp_end,
            ari_url=f"http://127.0.0.1:{cfg.ports.http}/ari",
            ari_user=cfg.ari_user,
            ari_password=cfg.ari_password,
            app=APP_NAME,
            ami_user=cfg.ami_user,
            ami_password=cfg.ami_password,
            carrier=CARRIER_ENDPOINT,
            started_at=self.clock.now().isoformat(timespec="seconds"),
            agents={
                a.name: {"password": a.password, "contact": a.contact, "webrtc": a.webrtc} for a in devices
            },
            log_file=str(log_file),
        )
        self._write_state(state)  # before waiting, so `down` finds an Asterisk whose `up` was killed
        try:
            info = self._wait_ready(state, timeout)
        except BaseException:
            self._kill_group(state.pid, state.pid_start, grace=2.0)
            self.state_path.unlink(missing_ok=True)
            raise
        state = SandboxState(**{**asdict(state), "asterisk_version": _version_of(info)})
        self._write_state(state)
        self.progress(
            f"sandbox: instance {self.instance} up in {self.clock.monotonic() - started:.1f} s, "
            f"{state.asterisk_version}, ARI {state.ari_url}"
        )
        return state

    def _write_state(self, state: SandboxState) -> None:
        """Write atomically (readers never see half a file) and for root only (it holds passwords)."""
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(state.to_json())
        tmp.chmod(0o600)
        tmp.replace(self.state_path)

    def _prepare_dirs(self) -> None:
        """Fresh etc and run for every start; lib, spool (recordings) and log survive restarts."""
        for sub in ("etc", "run"):
            shutil.rmtree(self.instance_dir / sub, ignore_errors=True)
        for sub in _SUBDIRS:
            (self.instance_dir / sub).mkdir(parents=True, exist_ok=True)
        self.instance_dir.chmod(0o700)

    def _rtp_windows_of_other_instances(self) -> list[tuple[int, int]]:
        windows = []
        for path in (self.rootfs / INSTANCES_DIR).glob(f"*/{STATE_FILE}"):
            try:
                other = SandboxState.from_json(path.read_text())
            except (OSError, ValueError, TypeError):
                continue
            if other.instance != self.instance:
                windows.append((other.rtp_start, other.rtp_end))
        return windows

    def _wait_ready(self, state: SandboxState, timeout: float) -> dict[str, Any]:
        """Wait until ARI answers with our credentials and Asterisk reports itself fully booted."""
        deadline = self.clock.monotonic() + timeout
        info: dict[str, Any] | None = None
        with httpx.Client(auth=(state.ari_user, state.ari_password), timeout=2.0) as client:
            while info is None:
                if self._proc is not None and self._proc.poll() is not None:
                    raise StartError(
                        f"Asterisk instance {self.instance} exited with code {self._proc.returncode} "
                        f"during start-up.\n{self._log_tail()}"
                    )
                try:
                    response = client.get(f"{state.ari_url}/asterisk/info")
                    if response.status_code == 200:
                        info = response.json()
                        break
                except httpx.HTTPError:
                    pass
                if self.clock.monotonic() > deadline:
                    raise StartError(
                        f"ARI of Asterisk instance {self.instance} did not answer on {state.ari_url} "
                        f"within {timeout:.0f} s.\n{self._log_tail()}"
                    )
                time.sleep(0.1)
        remaining = max(1.0, deadline - self.clock.monotonic())
        try:
            self._rx(state.asterisk_conf, "core waitfullybooted", timeout=remaining)
        except SandboxError as exc:
            raise StartError(f"Asterisk instance {self.instance} did not finish booting: {exc}") from exc
        if udp_port_free(state.sip_udp_port):
            # The port was taken between choosing and binding; PJSIP logs it but keeps running.
            raise StartError(
                f"PJSIP did not bind UDP 127.0.0.1:{state.sip_udp_port} (taken meanwhile?); run up again.\n"
                f"{self._log_tail()}"
            )
        return info

    # -- down ---------------------------------------------------------------------------------------------

    def down(self, *, timeout: float = 10.0) -> bool:
        """Stop the instance: a clean `core stop now`, then SIGTERM, then SIGKILL. Idempotent.

        Returns True when a running Asterisk was stopped.
        """
        state = self.read_state()
        if state is None or not self._alive(state.pid, state.pid_start):
            self._reap()
            self.state_path.unlink(missing_ok=True)
            return False
        require_root("stopping the Asterisk sandbox")
        try:
            self._rx(state.asterisk_conf, "core stop now", timeout=min(5.0, timeout))
        except SandboxError:
            pass  # the signals below still stop it
        if not self._wait_gone(state.pid, state.pid_start, timeout / 2):
            self._kill_group(state.pid, state.pid_start, grace=timeout / 2)
        self.state_path.unlink(missing_ok=True)
        (self.instance_dir / "run" / "asterisk.ctl").unlink(missing_ok=True)
        self.progress(f"sandbox: instance {self.instance} stopped")
        return True

    def _kill_group(self, pid: int, start_ticks: int, *, grace: float) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                pass
            except PermissionError as exc:
                raise StopError(f"not allowed to signal Asterisk process group {pid}: {exc}") from exc
            if self._wait_gone(pid, start_ticks, grace if sig == signal.SIGTERM else 5.0):
                return
        raise StopError(f"Asterisk (pid {pid}) survived SIGKILL")

    def _wait_gone(self, pid: int, start_ticks: int, timeout: float) -> bool:
        deadline = self.clock.monotonic() + timeout
        while True:
            self._reap()
            if not self._alive(pid, start_ticks):
                return True
            if self.clock.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def _reap(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None

    # -- status -------------------------------------------------------------------------------------------

    def status(self) -> SandboxStatus:
        """Whether the instance runs; uptime and version come from ARI when it answers."""
        state = self.read_state()
        if state is None or not self._alive(state.pid, state.pid_start):
            return SandboxStatus(instance=self.instance, running=False)
        uptime: float | None = None
        version: str | None = state.asterisk_version or None
        try:
            response = httpx.get(
                f"{state.ari_url}/asterisk/info", auth=(state.ari_user, state.ari_password), timeout=3.0
            )
            response.raise_for_status()
            info = response.json()
            version = _version_of(info) or version
            startup = info.get("status", {}).get("startup_time")
            if startup:
                uptime = (self.clock.now() - _parse_ari_time(startup)).total_seconds()
        except (httpx.HTTPError, ValueError):
            pass
        return SandboxStatus(
            instance=self.instance, running=True, state=state, uptime_seconds=uptime, asterisk_version=version
        )

    def read_state(self) -> SandboxState | None:
        """The state file of this instance, or None when it was never started or was stopped."""
        try:
            return SandboxState.from_json(self.state_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise SandboxError(f"unreadable sandbox state file {self.state_path}: {exc}") from exc

    # -- helpers ------------------------------------------------------------------------------------------

    def rx(self, command: str, *, timeout: float = 10.0) -> str:
        """Run an Asterisk CLI command in the running instance (`asterisk -rx`), e.g. "core show uptime"."""
        state = self.read_state()
        if state is None or not self._alive(state.pid, state.pid_start):
            raise SandboxError(f"sandbox instance {self.instance} is not running")
        return self._rx(state.asterisk_conf, command, timeout=timeout)

    def _rx(self, asterisk_conf: str, command: str, *, timeout: float) -> str:
        try:
            result = subprocess.run(
                ["chroot", str(self.rootfs), "asterisk", "-C", asterisk_conf, "-rx", command],
                check=False,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"},
            )
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(f"`asterisk -rx {command!r}` gave no answer within {timeout:.0f} s") from exc
        if result.returncode != 0:
            raise SandboxError(
                f"`asterisk -rx {command!r}` failed: {(result.stderr or result.stdout).strip()}"
            )
        return result.stdout

    def purge(self) -> None:
        """Delete the instance folder (configuration, logs, recordings); the instance must be stopped."""
        if self.status().running:
            raise SandboxError(f"sandbox instance {self.instance} is running; run down first")
        shutil.rmtree(self.instance_dir, ignore_errors=True)

    def _alive(self, pid: int, start_ticks: int = 0) -> bool:
        """True while process pid (the one started at start_ticks) has a thread left running.

        The start time tells our Asterisk from a later process that reused the pid. The main thread turns
        zombie first while other threads still tear down and hold the ports, so a zombie main thread alone
        does not mean "stopped".
        """
        ticks = _start_ticks(pid)
        if ticks is None:
            return False
        if start_ticks and ticks != start_ticks:
            return False
        if not start_ticks:  # state file without a start time: check it is our chrooted Asterisk
            try:
                root = os.readlink(f"/proc/{pid}/root")
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                return False
            if root != str(self.rootfs) or f"{self.chroot_dir}/etc/asterisk.conf".encode() not in cmdline:
                return False
        return any(_task_running(task) for task in Path(f"/proc/{pid}/task").glob("*"))

    def _log_tail(self, lines: int = 25) -> str:
        parts = []
        for name in (OUTPUT_LOG, "messages.log"):
            path = self.instance_dir / "log" / name
            try:
                text = path.read_text(errors="replace").strip().splitlines()[-lines:]
            except OSError:
                continue
            if text:
                parts.append(f"--- last lines of {path} ---\n" + "\n".join(text))
        return "\n".join(parts) or f"(no Asterisk log in {self.instance_dir / 'log'})"


def _version_of(info: dict[str, Any]) -> str:
    version = info.get("system", {}).get("version", "")
    return f"Asterisk {version}" if version else ""


def _parse_ari_time(value: str) -> datetime:
    """ARI writes times like 2026-01-05T09:00:00.123+0000."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")



def _start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def _task_running(task: Path) -> bool:
    try:
        stat = (task / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
