"""Login throttling as pure logic: failures first slow a key down, then lock it out for a while."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    """How forgiving login is. An address gets `address_factor` times the allowance of one username,
    since many honest people can share an address behind NAT."""

    free_failures: int = 3
    max_delay_seconds: int = 60
    lockout_failures: int = 10
    lockout_seconds: int = 900
    address_factor: int = 5

    def for_address(self) -> ThrottlePolicy:
        return ThrottlePolicy(
            free_failures=self.free_failures * self.address_factor,
            max_delay_seconds=self.max_delay_seconds,
            lockout_failures=self.lockout_failures * self.address_factor,
            lockout_seconds=self.lockout_seconds,
            address_factor=1,
        )


@dataclass(frozen=True)
class FailureRecord:
    """Failed logins counted for one key (a username or an address)."""

    count: int
    last_failure: datetime
    locked_until: datetime | None = None


def _current(record: FailureRecord | None, now: datetime, policy: ThrottlePolicy) -> FailureRecord | None:
    """Forget failures once a quiet period as long as the lockout has passed."""
    if record is None:
        return None
    if record.locked_until is not None and now < record.locked_until:
        return record
    if now - record.last_failure >= timedelta(seconds=policy.lockout_seconds):
        return None
    return record


def delay_after(count: int, policy: ThrottlePolicy) -> int:
    """Seconds to wait after `count` failures: none for the free ones, then doubling up to the maximum."""
    over = count - policy.free_failures
    return 0 if over < 0 else min(2**over, policy.max_delay_seconds)


def retry_after(record: FailureRecord | None, now: datetime, policy: ThrottlePolicy) -> int:
    """Seconds until this key may try again; 0 when it may try now."""
    record = _current(record, now, policy)
    if record is None:
        return 0
    if record.locked_until is not None and now < record.locked_until:
        return max(1, math.ceil((record.locked_until - now).total_seconds()))
    allowed_at = record.last_failure + timedelta(seconds=delay_after(record.count, policy))
    return max(0, math.ceil((allowed_at - now).total_seconds()))


def record_failure(record: FailureRecord | None, now: datetime, policy: ThrottlePolicy) -> FailureRecord:
    """Count one more failure, locking the key when it reaches the lockout threshold."""
    record = _current(record, now, policy)
    if record is not None and record.locked_until is not None and now >= record.locked_until:
        record = None  # a served lockout starts the count afresh
    count = (record.count if record else 0) + 1
    locked = now + timedelta(seconds=policy.lockout_seconds) if count >= policy.lockout_failures else None
    return FailureRecord(count=count, last_failure=now, locked_until=locked)
