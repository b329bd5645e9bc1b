"""Typed failures of the Asterisk sandbox, so the CLI and tests can tell "cannot run here" from "broke"."""

from __future__ import annotations


class SandboxError(Exception):
    """Something about the sandbox Asterisk went wrong; the message says what and what to do."""


class SandboxUnavailable(SandboxError):
    """This machine cannot build or run the sandbox (not root, not Debian-like); use an existing Asterisk."""


class NotRootError(SandboxUnavailable):
    """debootstrap and chroot need root."""


class UnsupportedHostError(SandboxUnavailable):
    """The host has no apt/debootstrap, so the Debian root file system cannot be built."""


class BuildError(SandboxError):
    """A build step (apt-get, debootstrap) failed; the message carries the tail of its output."""


class NotBuiltError(SandboxError):
    """`up` was asked to run a sandbox whose root file system is not (completely) built."""


class StartError(SandboxError):
    """Asterisk did not start or ARI did not answer in time; the message carries the tail of its log."""


class StopError(SandboxError):
    """Asterisk survived SIGKILL (should not happen; the pid is in the message)."""
