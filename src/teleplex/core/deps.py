"""FastAPI dependencies that hand each request the process's shared parts: settings, clock, a unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.core.clock import Clock
from teleplex.core.db import Database
from teleplex.core.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_database(request: Request) -> Database:
    return request.app.state.db


async def get_session(db: Annotated[Database, Depends(get_database)]) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the answer is sent, so a 2xx means it is stored."""
    async with db.session() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
