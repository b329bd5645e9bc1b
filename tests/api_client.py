"""The API as a test drives it: log in as someone, then call it as them (shared by conftest and tests)."""

from __future__ import annotations

from typing import Any

import httpx

from teleplex.core.clock import FakeClock
from teleplex.core.db import Database


class Api:
    """A thin helper over the HTTP client: log in as someone, then call the API as them."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.admin: dict[str, str] = {}

    async def bootstrap_admin(self, db: Database, clock: FakeClock) -> None:
        from teleplex.auth.service import create_first_admin

        async with db.session() as session:
            await create_first_admin(session, clock, "admin-password")
        self.admin = await self.login("admin", "admin-password")

    async def login(self, username: str, password: str) -> dict[str, str]:
        r = await self.client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def user(self, username: str, *roles: str, **extra: Any) -> dict[str, str]:
        """Create a user with these roles and return headers to act as them."""
        body = {"username": username, "password": "password-123", "roles": list(roles), **extra}
        r = await self.client.post("/api/v1/users", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        return await self.login(username, "password-123")

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.post(f"/api/v1/{path}", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        return r.json()

    async def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
        return await self.client.get(f"/api/v1/{path}", headers=headers or self.admin, params=params)

    async def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post(f"/api/v1/{path}", json=body, headers=headers or self.admin)

    async def patch(self, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.patch(f"/api/v1/{path}", json=body, headers=headers or self.admin)

    async def delete(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.delete(f"/api/v1/{path}", headers=headers or self.admin)
