"""Roles and the permissions they grant, in one place: every check in Teleplex asks for a permission by name."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


# A permission is "<resource>.<action>", with ".own" when it covers only the caller's own records.
# Supervisors' queue-related permissions are further narrowed to the queues they supervise (see scope.py).
ADMIN_ONLY = frozenset(
    {
        "users.read",
        "users.write",
        "agents.write",
        "queues.write",
        "pause_reasons.write",
        "dispositions.write",
        "business_hours.write",
        "api_keys.manage",
        "audit.read",
    }
)
SUPERVISOR = frozenset(
    {
        "agents.read",
        "agents.control",
        "queues.read",
        "pause_reasons.read",
        "dispositions.read",
        "business_hours.read",
        "interactions.read",
    }
)
AGENT = frozenset(
    {
        "agents.read.own",
        "queues.read.own",
        "pause_reasons.read",
        "dispositions.read",
        "interactions.read.own",
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMIN: ADMIN_ONLY | SUPERVISOR | AGENT,
    Role.SUPERVISOR: SUPERVISOR,
    Role.AGENT: AGENT,
}

ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


def permissions_for(roles: frozenset[Role] | set[Role]) -> frozenset[str]:
    """The union of what each held role grants; a user with several roles can do what any of them can."""
    return frozenset().union(*(ROLE_PERMISSIONS[r] for r in roles)) if roles else frozenset()
