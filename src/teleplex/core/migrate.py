"""Schema migrations (Alembic), run from code so `teleplex migrate` and start-up share one path."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("teleplex") / "migrations"))
    return cfg


@dataclass(frozen=True)
class SchemaStatus:
    """Where the database stands against the code's migrations."""

    current: str | None
    head: str
    known: bool  # False: the database was migrated by a newer Teleplex than this one

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def newer_than_code(self) -> bool:
        return self.current is not None and not self.known


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply every pending migration inside one connection."""

    def run(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def schema_status(engine: AsyncEngine) -> SchemaStatus:
    """Read the database's revision and compare it with the code's head."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None

    def current(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        rev = await conn.run_sync(current)
    known = rev is None or any(s.revision == rev for s in script.walk_revisions())
    return SchemaStatus(current=rev, head=head, known=known)
