"""Use cases of authentication and user administration: log in, check credentials, manage users and API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit import service as audit
from teleplex.audit.service import Actor
from teleplex.auth import throttle
from teleplex.auth.models import ApiKey, AuthToken, LoginFailure, SupervisorQueue, User
from teleplex.auth.passwords import hash_password, needs_rehash, verify_password
from teleplex.auth.principal import Principal
from teleplex.auth.roles import Role
from teleplex.auth.schemas import ApiKeyCreate, ApiKeyOut, MyPreferences, UserCreate, UserOut, UserUpdate
from teleplex.center.models import Agent, Queue
from teleplex.core.clock import Clock
from teleplex.core.crud import flush_or_conflict, get_or_404, page
from teleplex.core.errors import AlreadyExists, Conflict, InvalidInput, TooManyAttempts, Unauthenticated
from teleplex.core.schemas import ListParams

API_KEY_PREFIX = "tpx_"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def user_snapshot(user: User) -> dict[str, Any]:
    return UserOut.model_validate(user).model_dump(mode="json")


# --- logging in ------------------------------------------------------------------------------------------


async def _failure(session: AsyncSession, key: str) -> throttle.FailureRecord | None:
    row = await session.get(LoginFailure, key)
    return None if row is None else throttle.FailureRecord(row.count, row.last_failure, row.locked_until)


async def _save_failure(session: AsyncSession, key: str, rec: throttle.FailureRecord) -> None:
    row = await session.get(LoginFailure, key)
    if row is None:
        session.add(LoginFailure(key=key, count=rec.count, last_failure=rec.last_failure, locked_until=rec.locked_until))
    else:
        row.count, row.last_failure, row.locked_until = rec.count, rec.last_failure, rec.locked_until


async def check_password_login(
    session: AsyncSession,
    clock: Clock,
    policy: throttle.ThrottlePolicy,
    username: str,
    password: str,
    address: str | None,
) -> User:
    """Verify a username and password, refusing with 429 while the user or the address is throttled.

    A failed attempt is committed before the 401 is raised: the failure must count even though the
    request fails, or throttling would never engage.
    """
    now = clock.now()
    keys = [(f"user:{username.lower()}", policy)]
    if address:
        keys.append((f"addr:{address}", policy.for_address()))
    wait = max([throttle.retry_after(await _failure(session, k), now, p) for k, p in keys])
    if wait > 0:
        raise TooManyAttempts(f"too many failed logins; try again in {wait} seconds", retry_after=wait)
    user = (await session.execute(select(User).where(func.lower(User.username) == username.lower()))).scalar()
    if not verify_password(user.password_hash if user else None, password) or user is None:
        for key, p in keys:
            await _save_failure(session, key, throttle.record_failure(await _failure(session, key), now, p))
        await session.commit()
        raise Unauthenticated("wrong username or password")
    if not user.enabled:
        raise Unauthenticated("this user is disabled")
    user_failure = await session.get(LoginFailure, keys[0][0])
    if user_failure is not None:
        await session.delete(user_failure)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


async def issue_token(
    session: AsyncSession, clock: Clock, user: User, kind: str, ttl_seconds: int, address: str | None
) -> tuple[str, AuthToken]:
    """Create a token; only its hash is kept, the raw value is returned once."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    token = AuthToken(
        user_id=user.id,
        token_hash=_digest(raw),
        kind=kind,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
        client_address=address,
    )
    session.add(token)
    await session.flush()
    return raw, token


async def revoke_token(session: AsyncSession, clock: Clock, token_id: int) -> None:
    await session.execute(
        update(AuthToken).where(AuthToken.id == token_id, AuthToken.revoked_at.is_(None)).values(revoked_at=clock.now())
    )


async def revoke_user_tokens(session: AsyncSession, clock: Clock, user_id: int) -> None:
    """End every session of a user: after a password change, when disabled, or on request."""
    await session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


async def _user_principal(
    session: AsyncSession, user: User, token_id: int | None, via_cookie: bool
) -> Principal:
    agent = (await session.execute(select(Agent).where(Agent.user_id == user.id))).scalar()
    members = frozenset(m.queue_id for m in agent.memberships) if agent else frozenset()
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        roles=frozenset(Role(r) for r in user.roles),
        supervised_queue_ids=frozenset(user.supervised_queue_ids),
        member_queue_ids=members,
        agent_id=agent.id if agent else None,
        token_id=token_id,
        via_cookie=via_cookie,
    )


async def principal_from_token(
    session: AsyncSession, clock: Clock, raw: str, via_cookie: bool = False
) -> Principal:
    """Who holds this bearer token or session cookie; 401 when it is unknown, expired, revoked or disabled."""
    if raw.startswith(API_KEY_PREFIX):
        return await principal_from_api_key(session, clock, raw)
    token = (await session.execute(select(AuthToken).where(AuthToken.token_hash == _digest(raw)))).scalar()
    now = clock.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise Unauthenticated("the token is invalid, expired or revoked")
    user = await session.get(User, token.user_id)
    if user is None or not user.enabled:
        raise Unauthenticated("the token is invalid, expired or revoked")
    return await _user_principal(session, user, token.id, via_cookie)


async def principal_from_api_key(session: AsyncSession, clock: Clock, raw: str) -> Principal:
    key = (await session.execute(select(ApiKey).where(ApiKey.key_hash == _digest(raw)))).scalar()
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("the API key is invalid or revoked")
    key.last_used_at = clock.now()
    return Principal(
        kind="api_key",
        id=key.id,
        name=f"api-key:{key.name}",
        roles=frozenset(Role(r) for r in key.roles),
        supervised_queue_ids=frozenset(key.queue_ids),
    )


async def me(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    user = await get_or_404(session, User, principal.id, "user")
    out = user_snapshot(user)
    out.update(permissions=sorted(principal.permissions), agent_id=principal.agent_id)
    return out


# --- users -----------------------------------------------------------------------------------------------


async def _check_queues(session: AsyncSession, ids: list[int], field: str) -> None:
    if not ids:
        return
    found = set((await session.execute(select(Queue.id).where(Queue.id.in_(ids)))).scalars())
    missing = sorted(set(ids) - found)
    if missing:
        raise InvalidInput(f"{field}: no queue with id {', '.join(map(str, missing))}",
                           {"field": field, "missing": missing},
                           reason="unknown_id")  # fmt: skip


async def _enabled_admins(session: AsyncSession) -> list[User]:
    users = (await session.execute(select(User).where(User.enabled.is_(True)))).scalars().all()
    return [u for u in users if Role.ADMIN in u.roles]


async def list_users(session: AsyncSession, params: ListParams) -> tuple[list[User], int]:
    return await page(
        session,
        select(User),
        params,
        search=[User.username, User.display_name],
        order={"id": User.id, "username": User.username, "created_at": User.created_at},
    )


async def create_user(session: AsyncSession, clock: Clock, actor: Actor, data: UserCreate) -> User:
    exists = await session.execute(select(User.id).where(func.lower(User.username) == data.username.lower()))
    if exists.first():
        raise AlreadyExists(f"username '{data.username}' is taken", {"field": "username", "value": data.username})
    await _check_queues(session, data.supervised_queue_ids, "supervised_queue_ids")
    now = clock.now()
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        roles=[r.value for r in data.roles],
        enabled=data.enabled,
        language=data.language,
        timezone=data.timezone,
        created_at=now,
        updated_at=now,
        password_changed_at=now,
        supervised=[SupervisorQueue(queue_id=q) for q in sorted(set(data.supervised_queue_ids))],
    )
    session.add(user)
    await flush_or_conflict(session, f"username '{data.username}' is taken", reason="name_in_use")
    await audit.record(session, clock, actor, "create", "user", user.id, None, user_snapshot(user))
    return user


async def update_user(session: AsyncSession, clock: Clock, actor: Actor, user_id: int, data: UserUpdate) -> User:
    user = await get_or_404(session, User, user_id, "user")
    before = user_snapshot(user)
    changes = data.model_dump(exclude_unset=True)
    for name in ("roles", "enabled", "language", "timezone"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name}: may not be null", {"field": name}, reason="not_nullable")
    stays_admin = Role.ADMIN in (changes.get("roles") or user.roles) and changes.get("enabled", user.enabled)
    if Role.ADMIN in user.roles and user.enabled and not stays_admin:
        if len(await _enabled_admins(session)) <= 1:
            raise Conflict("this is the last enabled administrator; make another one first",
                           reason="last_admin")  # fmt: skip
    if "supervised_queue_ids" in changes:
        ids = sorted(set(changes.pop("supervised_queue_ids") or []))
        await _check_queues(session, ids, "supervised_queue_ids")
        user.supervised = [SupervisorQueue(queue_id=q) for q in ids]
    password = changes.pop("password", None)
    for name, value in changes.items():
        setattr(user, name, [r.value for r in value] if name == "roles" else value)
    if password is not None:
        user.password_hash = hash_password(password)
        user.password_changed_at = clock.now()
    user.updated_at = clock.now()
    await session.flush()
    if password is not None or not user.enabled:
        await revoke_user_tokens(session, clock, user.id)
    after = user_snapshot(user)
    if password is not None:
        after["password_changed"] = True
    await audit.record(session, clock, actor, "update", "user", user.id, before, after)
    return user


async def update_own_preferences(
    session: AsyncSession, clock: Clock, principal: Principal, data: MyPreferences
) -> dict[str, Any]:
    """A user sets their own language and time zone (the web interface's settings), audited like any change."""
    user = await get_or_404(session, User, principal.id, "user")
    before = user_snapshot(user)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            raise InvalidInput(f"{name}: may not be null", {"field": name}, reason="not_nullable")
        setattr(user, name, value)
    user.updated_at = clock.now()
    await session.flush()
    await audit.record(session, clock, principal, "update", "user", user.id, before, user_snapshot(user))
    return await me(session, principal)


async def change_own_password(
    session: AsyncSession, clock: Clock, principal: Principal, current: str, new: str
) -> None:
    """A user changes their own password; every other session of theirs ends."""
    user = await get_or_404(session, User, principal.id, "user")
    if not verify_password(user.password_hash, current):
        raise InvalidInput("current_password: is wrong", {"field": "current_password"},
                           reason="wrong_password")  # fmt: skip
    user.password_hash = hash_password(new)
    user.password_changed_at = user.updated_at = clock.now()
    await revoke_user_tokens(session, clock, user.id)
    await audit.record(session, clock, principal, "change_password", "user", user.id)


async def delete_user(session: AsyncSession, clock: Clock, actor: Actor, user_id: int) -> None:
    user = await get_or_404(session, User, user_id, "user")
    if actor.kind == "user" and actor.id == user.id:
        raise Conflict("you cannot delete yourself", reason="cannot_delete_self")
    agent = (await session.execute(select(Agent.id).where(Agent.user_id == user.id))).scalar()
    if agent is not None:
        raise Conflict(
            f"user '{user.username}' has agent profile {agent}; delete the agent first or disable the user",
            {"agent_id": agent, "username": user.username}, reason="user_has_agent",
        )
    if Role.ADMIN in user.roles and user.enabled and len(await _enabled_admins(session)) <= 1:
        raise Conflict("this is the last enabled administrator", reason="last_admin")
    before = user_snapshot(user)
    await session.delete(user)
    await session.flush()
    await audit.record(session, clock, actor, "delete", "user", user_id, before, None)


async def create_first_admin(session: AsyncSession, clock: Clock, password: str | None) -> str | None:
    """Create `admin` when the database has no user at all; returns the password to print, else None."""
    if (await session.execute(select(func.count(User.id)))).scalar_one() > 0:
        return None
    password = password or secrets.token_urlsafe(12)
    await create_user(
        session, clock, audit.SYSTEM, UserCreate(username="admin", password=password, roles=[Role.ADMIN])
    )
    return password


# --- API keys --------------------------------------------------------------------------------------------


def key_snapshot(key: ApiKey) -> dict[str, Any]:
    return ApiKeyOut.model_validate(key).model_dump(mode="json")


async def create_api_key(
    session: AsyncSession, clock: Clock, actor: Actor, data: ApiKeyCreate
) -> tuple[str, ApiKey]:
    """Create an API key; the raw key is returned once and only its hash is stored."""
    if (await session.execute(select(ApiKey.id).where(ApiKey.name == data.name))).first():
        raise Conflict(f"an API key named '{data.name}' exists",
                       {"field": "name", "value": data.name}, reason="name_taken")  # fmt: skip
    await _check_queues(session, data.queue_ids, "queue_ids")
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=data.name,
        prefix=raw[:12],
        key_hash=_digest(raw),
        roles=[r.value for r in data.roles],
        queue_ids=sorted(set(data.queue_ids)),
        created_by=actor.id if actor.kind == "user" else None,
        created_at=clock.now(),
    )
    session.add(key)
    await flush_or_conflict(session, f"an API key named '{data.name}' exists", reason="name_in_use")
    await audit.record(session, clock, actor, "create", "api_key", key.id, None, key_snapshot(key))
    return raw, key


async def list_api_keys(session: AsyncSession, params: ListParams) -> tuple[list[ApiKey], int]:
    return await page(
        session,
        select(ApiKey),
        params,
        search=[ApiKey.name, ApiKey.prefix],
        order={"id": ApiKey.id, "name": ApiKey.name, "created_at": ApiKey.created_at},
    )


async def revoke_api_key(session: AsyncSession, clock: Clock, actor: Actor, key_id: int) -> ApiKey:
    key = await get_or_404(session, ApiKey, key_id, "API key")
    if key.revoked_at is None:
        before = key_snapshot(key)
        key.revoked_at = clock.now()
        await session.flush()
        await audit.record(session, clock, actor, "revoke", "api_key", key.id, before, key_snapshot(key))
    return key


