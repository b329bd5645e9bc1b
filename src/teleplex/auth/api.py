"""HTTP routes of authentication, users and API keys; thin: check, parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam

from teleplex.auth import service
from teleplex.auth.models import User
from teleplex.auth.deps import SESSION_COOKIE, PrincipalDep, require
from teleplex.auth.principal import Principal
from teleplex.auth.schemas import (
    MyPreferences,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    MeOut,
    PasswordChange,
    TokenOut,
    TokenRequest,
    UserCreate,
    UserOut,
    UserUpdate,
)
from teleplex.auth.throttle import ThrottlePolicy
from teleplex.core.crud import get_or_404
from teleplex.core.deps import ClockDep, SessionDep, SettingsDep
from teleplex.core.errors import InvalidInput
from teleplex.core.schemas import MAX_ID, ListParams, Page
from teleplex.core.settings import Settings

router = APIRouter(prefix="/api/v1")
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]
Params = Annotated[ListParams, Depends()]


def _policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        free_failures=settings.login_free_failures,
        max_delay_seconds=settings.login_max_delay_seconds,
        lockout_failures=settings.login_lockout_failures,
        lockout_seconds=settings.login_lockout_seconds,
    )


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/auth/token", response_model=TokenOut, tags=["auth"], summary="Log in and get a bearer token")
async def create_token(
    body: TokenRequest, request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> TokenOut:
    user = await service.check_password_login(
        session, clock, _policy(settings), body.username, body.password, _address(request)
    )
    raw, token = await service.issue_token(
        session, clock, user, "bearer", settings.token_ttl_seconds, _address(request)
    )
    return TokenOut(access_token=raw, expires_at=token.expires_at)


@router.post("/auth/session", response_model=MeOut, tags=["auth"], summary="Log in the web UI (session cookie)")
async def create_session(
    body: TokenRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> dict:
    user = await service.check_password_login(
        session, clock, _policy(settings), body.username, body.password, _address(request)
    )
    raw, token = await service.issue_token(
        session, clock, user, "session", settings.token_ttl_seconds, _address(request)
    )
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.token_ttl_seconds,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    principal = await service.principal_from_token(session, clock, raw)
    return await service.me(session, principal)


@router.post("/auth/logout", status_code=204, tags=["auth"], summary="End this token or session")
async def logout(principal: PrincipalDep, response: Response, session: SessionDep, clock: ClockDep) -> None:
    if principal.token_id is not None:
        await service.revoke_token(session, clock, principal.token_id)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=MeOut, tags=["auth"], summary="Who am I, and what may I do")
async def whoami(principal: PrincipalDep, session: SessionDep) -> dict:
    if principal.kind != "user":
        raise InvalidInput("an API key has no user profile; GET /auth/me needs a user's token",
                           reason="api_key_no_profile")  # fmt: skip
    return await service.me(session, principal)


@router.patch("/auth/me", response_model=MeOut, tags=["auth"], summary="Set my language and time zone")
async def update_me(body: MyPreferences, principal: PrincipalDep, session: SessionDep, clock: ClockDep) -> dict:
    if principal.kind != "user":
        raise InvalidInput("an API key has no user profile", reason="api_key_no_profile")
    return await service.update_own_preferences(session, clock, principal, body)


@router.post("/auth/password", status_code=204, tags=["auth"], summary="Change my password (ends my sessions)")
async def change_password(body: PasswordChange, principal: PrincipalDep, session: SessionDep, clock: ClockDep) -> None:
    if principal.kind != "user":
        raise InvalidInput("an API key has no password", reason="api_key_no_password")
    await service.change_own_password(session, clock, principal, body.current_password, body.new_password)


@router.get("/users", response_model=Page[UserOut], tags=["users"])
async def list_users(
    params: Params, session: SessionDep, _: Annotated[Principal, require("users.read")]
) -> dict:
    items, total = await service.list_users(session, params)
    return {"items": items, "total": total, "limit": params.limit, "offset": params.offset}


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
async def create_user(
    body: UserCreate, session: SessionDep, clock: ClockDep, actor: Annotated[Principal, require("users.write")]
) -> object:
    return await service.create_user(session, clock, actor, body)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
async def get_user(user_id: IdPath, session: SessionDep, _: Annotated[Principal, require("users.read")]) -> object:
    return await get_or_404(session, User, user_id, "user")


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
async def update_user(
    user_id: IdPath,
    body: UserUpdate,
    session: SessionDep,
    clock: ClockDep,
    actor: Annotated[Principal, require("users.write")],
) -> object:
    return await service.update_user(session, clock, actor, user_id, body)


@router.delete("/users/{user_id}", status_code=204, tags=["users"])
async def delete_user(
    user_id: IdPath, session: SessionDep, clock: ClockDep, actor: Annotated[Principal, require("users.write")]
) -> None:
    await service.delete_user(session, clock, actor, user_id)


@router.get("/api-keys", response_model=Page[ApiKeyOut], tags=["api keys"])
async def list_api_keys(
    params: Params, session: SessionDep, _: Annotated[Principal, require("api_keys.manage")]
) -> dict:
    items, total = await service.list_api_keys(session, params)
    return {"items": items, "total": total, "limit": params.limit, "offset": params.offset}


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201, tags=["api keys"])
async def create_api_key(
    body: ApiKeyCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Annotated[Principal, require("api_keys.manage")],
) -> dict:
    raw, key = await service.create_api_key(session, clock, actor, body)
    return {**service.key_snapshot(key), "key": raw}


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, tags=["api keys"], summary="Revoke an API key")
async def revoke_api_key(
    key_id: IdPath,
    session: SessionDep,
    clock: ClockDep,
    actor: Annotated[Principal, require("api_keys.manage")],
) -> object:
    return await service.revoke_api_key(session, clock, actor, key_id)
