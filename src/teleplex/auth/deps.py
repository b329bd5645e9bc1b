"""FastAPI dependencies that authenticate a request and check its permissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from teleplex.auth.principal import Principal
from teleplex.auth.service import principal_from_token
from teleplex.core.deps import ClockDep, SessionDep
from teleplex.core.errors import PermissionDenied, Unauthenticated

SESSION_COOKIE = "teleplex_session"
CSRF_HEADER = "x-requested-with"
_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/token, or an API key")
_SAFE = {"GET", "HEAD", "OPTIONS"}


async def current_principal(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate by bearer token, API key, or the web session cookie.

    Cookie-authenticated writes must carry `X-Requested-With`: a header another site cannot add without a
    CORS preflight we never grant, which stops cross-site request forgery.
    """
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return await principal_from_token(session, clock, credentials.credentials)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        if request.method not in _SAFE and not request.headers.get(CSRF_HEADER):
            raise PermissionDenied(f"requests authenticated by cookie must send the {CSRF_HEADER} header")
        return await principal_from_token(session, clock, cookie, via_cookie=True)
    raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>'")


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(permission: str):  # noqa: ANN201 - returns a FastAPI dependency
    """A dependency that authenticates and demands one permission."""

    async def dependency(principal: PrincipalDep) -> Principal:
        principal.require(permission)
        return principal

    return Depends(dependency)


def require_any(*permissions: str):  # noqa: ANN201
    """A dependency that authenticates and demands at least one of several permissions (e.g. x.read, x.read.own)."""

    async def dependency(principal: PrincipalDep) -> Principal:
        principal.require_any(*permissions)
        return principal

    return Depends(dependency)
