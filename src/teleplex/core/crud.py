"""The few database moves every configuration service repeats: fetch or 404, page a list, save or 409."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.core.errors import Conflict, InvalidInput, NotFound
from teleplex.core.schemas import MAX_ID, ListParams

M = TypeVar("M")


async def get_or_404(session: AsyncSession, model: type[M], obj_id: int, what: str) -> M:
    """Load a row by id or say plainly that it does not exist."""
    obj = await session.get(model, obj_id) if 1 <= obj_id <= MAX_ID else None
    if obj is None:
        raise NotFound(f"{what} {obj_id} does not exist", {"id": obj_id})
    return obj


async def page(
    session: AsyncSession,
    stmt: Select[Any],
    params: ListParams,
    *,
    search: list[ColumnElement[Any]],
    order: dict[str, ColumnElement[Any]],
    default_order: str = "id",
) -> tuple[list[Any], int]:
    """Apply search, order and paging to a select of one entity and count the whole result."""
    if params.search:
        pattern = f"%{escape_like(params.search.lower())}%"
        stmt = stmt.where(or_(*(func.lower(col).like(pattern, escape="\\") for col in search)))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    key = params.order or default_order
    column = order.get(key.lstrip("-"))
    if column is None:
        raise InvalidInput(
            f"order: cannot sort by '{key.lstrip('-')}'; use one of {', '.join(sorted(order))}",
            {"field": "order", "allowed": sorted(order), "key": key.lstrip("-")}, reason="cannot_sort_by",
        )
    stmt = stmt.order_by(column.desc() if key.startswith("-") else column.asc(), order["id"].asc())
    rows = (await session.execute(stmt.limit(params.limit).offset(params.offset))).scalars().all()
    return list(rows), total


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def flush_or_conflict(
    session: AsyncSession, message: str, *, reason: str = "changed_meanwhile"
) -> None:
    """Flush, turning a unique-constraint violation into a 409 with the caller's wording and reason (by
    default: another request changed the same rows at the same time)."""
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict(message, reason=reason) from None
