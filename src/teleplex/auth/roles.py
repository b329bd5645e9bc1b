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
        "channels.read",
        "channels.write",
        "messages.read",
        "campaigns.write",
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
        "campaigns.read",
        "campaigns.control",
        "callbacks.read",
        "callbacks.write",
        "dnc.read",
        "dnc.write",
    }
)
AGENT = frozenset(
    {
        "agents.read.own",
        "queues.read.own",
        "pause_reasons.read",
        "dispositions.read",
        "interactions.read.own",
        "campaigns.read.own",
        "callbacks.read.own",
        "callbacks.write.own",
    }
)

# Customer profiles (contacts/): supervisors read, edit and merge every profile; agents read and edit the
# profiles of the interactions they handled; privacy export/erasure and field definitions are for admins.
CONTACTS_ADMIN = frozenset({"contacts.export", "contacts.erase", "contact_fields.write"})
CONTACTS_SUPERVISOR = frozenset({"contacts.read", "contacts.write", "contacts.merge"})
CONTACTS_AGENT = frozenset({"contacts.read.own", "contacts.write.own"})

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMIN: ADMIN_ONLY | SUPERVISOR | AGENT | CONTACTS_ADMIN | CONTACTS_SUPERVISOR | CONTACTS_AGENT,
    Role.SUPERVISOR: SUPERVISOR | CONTACTS_SUPERVISOR,
    Role.AGENT: AGENT | CONTACTS_AGENT,
}

ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


def permissions_for(roles: frozenset[Role] | set[Role]) -> frozenset[str]:
    """The union of what each held role grants; a user with several roles can do what any of them can."""
    return frozenset().union(*(ROLE_PERMISSIONS[r] for r in roles)) if roles else frozenset()
