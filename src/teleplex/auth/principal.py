"""Who is asking, what they may do, and over which queues: the answer every handler checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from teleplex.auth.roles import Role, permissions_for
from teleplex.core.errors import PermissionDenied


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user (by token or cookie) or an integration (by API key)."""

    kind: str  # "user" | "api_key"
    id: int
    name: str
    roles: frozenset[Role]
    supervised_queue_ids: frozenset[int] = frozenset()
    member_queue_ids: frozenset[int] = frozenset()
    agent_id: int | None = None
    token_id: int | None = None
    via_cookie: bool = False
    permissions: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "permissions", permissions_for(self.roles))

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(f"permission '{permission}' is required", {"permission": permission})

    def require_any(self, *permissions: str) -> None:
        if not any(p in self.permissions for p in permissions):
            raise PermissionDenied(
                f"one of the permissions {', '.join(permissions)} is required", {"permissions": list(permissions)}
            )

    def visible_queue_ids(self) -> frozenset[int] | None:
        """The queues this caller may see: None means every queue (administrators)."""
        if self.is_admin:
            return None
        ids: frozenset[int] = frozenset()
        if self.can("queues.read"):
            ids |= self.supervised_queue_ids
        if self.can("queues.read.own"):
            ids |= self.member_queue_ids
        return ids

    def supervises(self, queue_id: int) -> bool:
        """True when the caller may act on this queue as a supervisor."""
        return self.is_admin or (Role.SUPERVISOR in self.roles and queue_id in self.supervised_queue_ids)
