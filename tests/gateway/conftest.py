"""The gateway as apps meet it: the real ModelDeck in a subprocess on a free port, real llama-servers behind it,
and real HTTP clients (the official `openai` package, aiohttp) in front.

Configurations and API keys are put into the app's SQLite file before it starts, through the same store
code the pages use (a key's plain text is only known at creation, as for a person on the Keys page).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import openai
import psutil
import pytest
import uvicorn

from auth.api_keys import ApiKeys, Scope
from db.api_key_record import ApiKeyRecord
from db.database import open_database
from db.model_record import ModelRecord
from gateway import Gateway, LocalServers
from protocol import ModelConfig
from runner.embedded import start_embedded_runner
from store import ModelDeck
from store.activity import Activity
from store.actor import LOCAL_ADMIN
from store.catalog import ModelCatalog
from store.runner_link import linked_runner
from tests.browser.deck_app import DeckApp, free_port
from tests.processes import llama_servers as model_servers
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import until


@dataclass(frozen=True)
class KeySpec:
    name: str
    scopes: tuple[Scope, ...] = (Scope.INFERENCE,)
    models: tuple[str, ...] | None = None  # model names; None: every model
    expires_at: datetime | None = None


@dataclass
class Deck:
    """A running ModelDeck and what was put in it."""

    app: DeckApp
    models: dict[str, ModelConfig]
    keys: dict[str, str] = field(default_factory=dict)  # name -> plain key
    clients: list[openai.AsyncOpenAI] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.app.url}/v1"

    def client(self, key: str | None = None, **options: Any) -> openai.AsyncOpenAI:
        """An `openai` client for this deck (closed with the deck)."""
        client = openai.AsyncOpenAI(base_url=self.base_url, api_key=key or "no-key-needed", max_retries=0,
                                    timeout=60, **options)
        self.clients.append(client)
        return client

    def rows(self, sql: str, *args: object) -> list[dict[str, Any]]:
        with closing(sqlite3.connect(self.app.home / "data" / "modeldeck.sqlite3")) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql, args)]

    def status(self, name: str) -> str:
        return str(self.rows("SELECT status FROM model_config WHERE name = ?", name)[0]["status"])


async def seed(home: Path, models: list[ModelConfig], keys: list[KeySpec], *, revoke: tuple[str, ...] = (),
               expire: tuple[str, ...] = ()) -> dict[str, str]:
    """Configurations and keys in the database; `revoke` and `expire` name keys to revoke, or to make expired."""
    async with open_database(home / "data" / "modeldeck.sqlite3"):
        for config in models:
            await ModelRecord.create(**ModelRecord.config_values(config))
        store = ApiKeys()
        uids = {config.name: config.uid for config in models}
        plain: dict[str, str] = {}
        for spec in keys:
            chosen = None if spec.models is None else [uids[name] for name in spec.models]
            key, plain[spec.name] = await store.create(spec.name, spec.scopes, chosen, spec.expires_at,
                                                       by=LOCAL_ADMIN)
            if spec.name in revoke:
                await store.revoke(key.id, by=LOCAL_ADMIN)
            if spec.name in expire:  # as if its day had come: a key cannot be made expired
                await ApiKeyRecord.filter(id=key.id).update(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        return plain


DeckFactory = Callable[..., Awaitable[Deck]]


@pytest.fixture
async def deck(tmp_path: Path, llama_server_binary: Path) -> AsyncIterator[DeckFactory]:
    """Factory: await deck(models={"tiny": {...config fields}}, keys=[KeySpec(...)], open_on_loopback=True,
    model_shape={"n_embd": ...})."""
    started: list[Deck] = []

    async def make(models: dict[str, dict[str, Any]] | None = None, keys: list[KeySpec] | None = None, *,
                   open_on_loopback: bool = True, extra_args: tuple[str, ...] = (),
                   revoke: tuple[str, ...] = (), expire: tuple[str, ...] = (),
                   model_shape: dict[str, Any] | None = None) -> Deck:
        home = tmp_path / f"deck{len(started)}"
        # n_ctx: room for long generations; `model_shape` (write_tiny_llama's sizes) for a slower model
        model_file = write_tiny_llama(home / "models" / "tiny.gguf", n_ctx=8192, **(model_shape or {}))
        defaults = {"model_path": str(model_file), "ctx_size": 256, "parallel": 2}
        configs = {name: ModelConfig(name=name, **{**defaults, **fields}) for name, fields in (models or {}).items()}
        plain = await seed(home, list(configs.values()), keys or [], revoke=revoke, expire=expire)
        running = Deck(DeckApp(home, llama_server_binary, open_on_loopback=open_on_loopback, extra_args=extra_args),
                       configs, plain)
        started.append(running)
        running.app.start()
        return running

    yield make
    for running in started:
        for client in running.clients:
            await client.close()
        running.app.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


def llama_servers(deck: Deck) -> list[psutil.Process]:
    """The model servers of this deck."""
    assert deck.app.process is not None
    return model_servers(deck.app.process.pid)


async def upstream_json(http: aiohttp.ClientSession, deck: Deck, model: str, path: str) -> Any:
    async with http.get(f"{deck.app.url}/upstream/{model}/{path}") as answer:
        assert answer.status == 200, await answer.text()
        return await answer.json()


@dataclass
class InProcess:
    """The gateway in this test's own process, on a free port, before a real deck and embedded runner."""

    url: str
    deck: ModelDeck
    gateway: Gateway


@asynccontextmanager
async def in_process(tmp_path: Path, binary: Path, configs: list[ModelConfig], *,
                     catalog: ModelCatalog | None = None, **options: Any) -> AsyncIterator[InProcess]:
    """For what needs the gateway's own knobs (options of Gateway, such as loading_every_s), the deck's catalog,
    or their objects."""
    await seed(tmp_path, configs, [])
    models_dir = Path(configs[0].model_path).parent if configs else tmp_path
    deck = ModelDeck(catalog)
    async with open_database(tmp_path / "data" / "modeldeck.sqlite3"), deck.journal.writing_behind():
        await deck.load()
        runner = await start_embedded_runner(llama_server=binary, model_dirs=[models_dir], allow_build=False)
        gateway = Gateway(deck, ApiKeys(), Activity(), open_=True, upstream=LocalServers(), start_timeout_s=30,
                          **options)
        server = uvicorn.Server(uvicorn.Config(gateway, host="127.0.0.1", port=free_port(), log_level="warning",
                                               lifespan="off"))
        try:
            async with linked_runner(deck, runner.url, runner.token), gateway.serving():
                serving = asyncio.create_task(server.serve())
                await until(lambda: server.started, message="the gateway listening")
                yield InProcess(f"http://127.0.0.1:{server.config.port}", deck, gateway)
                server.should_exit = True
                await serving
        finally:
            await runner.close()
