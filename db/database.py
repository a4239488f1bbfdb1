"""Opening the database: create its folder, apply pending migrations, then hand Tortoise to the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate

from db.writes import watch_file

APP_LABEL = "models"
MODEL_MODULES = ["db.model_record", "db.gguf_cache", "db.metric_record", "db.user_record", "db.audit_record",
                 "db.host_record", "db.log_record", "db.crash_record", "db.api_key_record", "db.activity_record"]


def tortoise_config(db_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": db_url},
        "apps": {APP_LABEL: {"models": MODEL_MODULES, "migrations": "db.migrations", "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def sqlite_url(path: Path) -> str:
    # PRAGMAs as URL parameters: wait on a busy writer instead of failing; WAL + NORMAL is durable enough
    return f"sqlite://{path}?busy_timeout=5000&synchronous=NORMAL"


async def apply_migrations(db_url: str, target: str | None = None) -> None:
    """Bring the schema up to `target` (default: the latest migration); existing rows are kept."""

    async def run() -> None:
        # migrate() installs a Tortoise context in the calling task's context variables; a fresh
        # context inside its own task keeps that from leaking into the app's tasks.
        with TortoiseContext() as context:
            await migrate(config=tortoise_config(db_url), target=target)
            await context.close_connections()

    await asyncio.create_task(run())


@asynccontextmanager
async def open_database(db_path: Path) -> AsyncIterator[None]:
    """Migrate, then keep one Tortoise context open for the app's lifetime.

    The context is the global fallback, not a context variable: page handlers and background
    tasks run in tasks that do not descend from the lifespan's task.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    url = sqlite_url(db_path)
    await apply_migrations(url)
    context = TortoiseContext()
    with context:  # current only while the models are bound to it
        await context.init(config=tortoise_config(url), _enable_global_fallback=True)
    watch_file(db_path)
    try:
        yield
    finally:
        watch_file(None)
        await context.close_connections()


# For the `tortoise makemigrations` CLI ([tool.tortoise] in pyproject.toml); the app passes its own URL.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
