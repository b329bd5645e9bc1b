"""Build, once, the Debian sid root file system the sandbox Asterisk runs in (Debian 12 has no asterisk package).

The tree is cached under the var folder and trusted only when its completion marker exists; a tree left
half-built by an interrupted run is finished or rebuilt, never used as is.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from teleplex.core.clock import Clock, SystemClock
from teleplex.voice.sandbox_errors import BuildError, NotRootError, UnsupportedHostError

SUITE = "sid"
PACKAGES: tuple[str, ...] = ("asterisk", "asterisk-modules", "asterisk-core-sounds-en-gsm")
OPTIONAL_PACKAGES: tuple[str, ...] = ("asterisk-moh-opsound-gsm",)  # music on hold, when the suite has it
HOST_TOOLS: dict[str, str] = {"debootstrap": "debootstrap", "sipp": "sip-tester"}  # binary -> Debian package

BASE_MARKER = ".teleplex-base-complete"  # debootstrap finished
DONE_MARKER = ".teleplex-rootfs-complete"  # packages installed; JSON with what was built

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_STEP_TIMEOUT = 1800.0  # seconds; a slow mirror, not a hung one

Progress = Callable[[str], None]


def print_progress(line: str) -> None:
    print(line, flush=True)


def require_root(what: str) -> None:
    """Fail early and clearly: debootstrap and chroot need root."""
    if os.geteuid() != 0:
        raise NotRootError(
            f"{what} needs root (it uses debootstrap and chroot); run it as root, or point Teleplex at an existing "
            "Asterisk 18+ with TELEPLEX_ARI_URL, TELEPLEX_ARI_USER and TELEPLEX_ARI_PASSWORD (see docs/asterisk.md)"
        )


def require_debian_like() -> None:
    """The sandbox is built with apt and debootstrap; other systems must use an existing Asterisk."""
    if not Path("/etc/debian_version").exists() or shutil.which("apt-get") is None:
        raise UnsupportedHostError(
            "the Asterisk sandbox is built with apt-get and debootstrap, which this machine does not have "
            "(not Debian-like); point Teleplex at an existing Asterisk 18+ instead (see docs/asterisk.md)"
        )


class RootfsBuilder:
    """Builds and checks one cached root file system; every step's output goes to a build log."""

    def __init__(
        self,
        rootfs: Path,
        *,
        log_path: Path | None = None,
        progress: Progress = print_progress,
        clock: Clock | None = None,
    ) -> None:
        self.rootfs = rootfs.resolve()
        self.log_path = log_path or self.rootfs.parent / "build.log"
        self.progress = progress
        self.clock = clock or SystemClock()

    # -- checks -------------------------------------------------------------------------------------------

    def is_built(self) -> bool:
        """True only when the last build step finished and Asterisk's binary is there."""
        return (self.rootfs / DONE_MARKER).is_file() and (self.rootfs / "usr/sbin/asterisk").is_file()

    def build_info(self) -> dict[str, object]:
        """What the completion marker recorded (packages, Asterisk version, when)."""
        try:
            return dict(json.loads((self.rootfs / DONE_MARKER).read_text()))
        except (OSError, ValueError):
            return {}

    def module_dir(self) -> str:
        """Asterisk's module folder as seen inside the chroot (the multiarch part depends on the machine)."""
        found = sorted(self.rootfs.glob("usr/lib/*/asterisk/modules"))
        if not found:
            raise BuildError(f"no Asterisk module folder under {self.rootfs}/usr/lib; rebuild with --force")
        return "/" + str(found[0].relative_to(self.rootfs))

    # -- build --------------------------------------------------------------------------------------------

    def build(self, *, force: bool = False) -> Path:
        """Build the tree unless a complete one is cached; returns its path."""
        if self.is_built() and not force:
            self.progress(f"sandbox: root file system ready (cached) at {self.rootfs}")
            return self.rootfs
        require_debian_like()
        require_root("building the Asterisk sandbox")
        self.rootfs.parent.mkdir(parents=True, exist_ok=True)
        with self._lock():
            if self.is_built() and not force:  # another process finished it while we waited
                return self.rootfs
            started = self.clock.monotonic()
            self.ensure_host_tools()
            if force or not (self.rootfs / BASE_MARKER).is_file():
                self._debootstrap()
            self._install_packages()
            self.progress(f"sandbox: root file system built in {self.clock.monotonic() - started:.0f} s")
        return self.rootfs

    def ensure_host_tools(self) -> None:
        """Install debootstrap and SIPp on the host when missing (apt-get update runs at most once)."""
        missing = [pkg for binary, pkg in HOST_TOOLS.items() if _which(binary) is None]
        if not missing:
            return
        require_root("installing " + ", ".join(missing))
        self.progress(f"sandbox: installing host packages {' '.join(missing)}")
        self._run(["apt-get", "update"], "apt-get update (host)")
        self._run(
            ["apt-get", "install", "-y", "--no-install-recommends", *missing],
            f"apt-get install {' '.join(missing)} (host)",
        )

    def _debootstrap(self) -> None:
        self._remove_partial_tree()
        self.progress(f"sandbox: debootstrap {SUITE} into {self.rootfs} (about 30 s, 220 MB)")
        # No mirror argument: debootstrap's default mirror is the one these machines reach.
        self._run(["debootstrap", "--variant=minbase", SUITE, str(self.rootfs)], "debootstrap")
        (self.rootfs / BASE_MARKER).write_text(self._now())

    def _install_packages(self) -> None:
        (self.rootfs / DONE_MARKER).unlink(missing_ok=True)
        self._block_service_starts()
        self.progress("sandbox: apt-get update inside the root file system")
        # The mirror may be a snapshot whose Release file has expired.
        self._chroot(
            ["apt-get", "-o", "Acquire::Check-Valid-Until=false", "update"], "apt-get update (chroot)"
        )
        packages = list(PACKAGES) + [p for p in OPTIONAL_PACKAGES if self._package_exists(p)]
        self.progress(f"sandbox: installing {' '.join(packages)} (about 15 s, 420 MB)")
        self._chroot(
            ["apt-get", "install", "-y", "--no-install-recommends", *packages],
            "apt-get install asterisk (chroot)",
        )
        self._chroot(["apt-get", "clean"], "apt-get clean (chroot)")
        version = self._chroot(["asterisk", "-V"], "asterisk -V").strip()
        info = {"suite": SUITE, "packages": packages, "asterisk_version": version, "built_at": self._now()}
        (self.rootfs / DONE_MARKER).write_text(json.dumps(info, indent=2) + "\n")
        self.progress(f"sandbox: {version} installed")

    def _package_exists(self, package: str) -> bool:
        result = subprocess.run(
            ["chroot", str(self.rootfs), "apt-cache", "show", package],
            check=False,
            capture_output=True,
            env=self._env(),
            timeout=60,
        )
        return result.returncode == 0

    def _block_service_starts(self) -> None:
        """Keep package scripts from starting an Asterisk of their own inside the tree."""
        policy = self.rootfs / "usr/sbin/policy-rc.d"
        policy.write_text(
            "#!/bin/sh\n# Teleplex: packages must not start services in the sandbox tree.\nexit 101\n"
        )
        policy.chmod(0o755)

    def _remove_partial_tree(self) -> None:
        """Delete what an interrupted debootstrap left, after unmounting anything it mounted inside."""
        if not self.rootfs.exists():
            return
        self.progress(f"sandbox: removing incomplete root file system {self.rootfs}")
        for mount in sorted(_mounts_under(self.rootfs), reverse=True):
            subprocess.run(["umount", "-l", mount], check=False, capture_output=True, timeout=30)
        if _mounts_under(self.rootfs):
            raise BuildError(f"{self.rootfs} still has mounts inside; unmount them and retry")
        shutil.rmtree(self.rootfs)

    # -- running commands ---------------------------------------------------------------------------------

    def _now(self) -> str:
        return self.clock.now().isoformat(timespec="seconds")

    def _env(self) -> dict[str, str]:
        return {"PATH": _PATH, "LANG": "C", "DEBIAN_FRONTEND": "noninteractive", "HOME": "/root"}

    def _chroot(self, argv: Sequence[str], what: str) -> str:
        return self._run(["chroot", str(self.rootfs), *argv], what)

    def _run(self, argv: Sequence[str], what: str) -> str:
        """Run one step, append its output to the build log, and turn a failure into a BuildError."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            result = subprocess.run(
                list(argv),
                check=False,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                env=self._env(),
                timeout=_STEP_TIMEOUT,
            )
        except FileNotFoundError as exc:
            raise BuildError(f"{what}: {exc.filename} not found") from exc
        except subprocess.TimeoutExpired as exc:
            raise BuildError(f"{what}: no result after {_STEP_TIMEOUT:.0f} s (see {self.log_path})") from exc
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"\n$ {' '.join(argv)}\n{result.stdout}{result.stderr}[exit {result.returncode}]\n")
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise BuildError(
                f"{what} failed (exit {result.returncode}); full log in {self.log_path}:\n{tail}"
            )
        return result.stdout

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One build at a time per tree (parallel test sessions would otherwise debootstrap twice)."""
        lock_path = self.rootfs.parent / (self.rootfs.name + ".lock")
        with lock_path.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _which(binary: str) -> str | None:
    return shutil.which(binary, path=os.environ.get("PATH", "") + ":" + _PATH)


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root).rstrip("/") + "/"
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    points = [line.split()[1].encode().decode("unicode_escape") for line in lines if len(line.split()) > 1]
    return [p for p in points if p == str(root) or p.startswith(prefix)]
