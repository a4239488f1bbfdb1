"""The management API as scripts meet it: the real ModelDeck in a subprocess on a free port, real llama-servers
behind it, real HTTP in front (aiohttp). Configurations and keys are put into its SQLite file before it starts,
through the same store code the pages use (tests/gateway/conftest.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from auth.api_keys import Scope
from protocol import ModelConfig
from tests.browser.deck_app import DeckApp
from tests.gateway.conftest import KeySpec, seed
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import eventually

ADMIN_KEY = KeySpec("script", (Scope.MANAGE,))
MODEL_FILES = ("tiny.gguf", "qwen2.5-coder-7b.gguf", "llama-3.2-3b.gguf", "nomic-embed.gguf")


@dataclass
class Answer:
    status: int
    body: Any  # the JSON, or the bytes of anything else
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""

    def json_detail(self) -> str:
        return str(self.body.get("detail", "")) if isinstance(self.body, dict) else ""


@dataclass
class Managed:
    """A running ModelDeck, its keys by name, and an HTTP client for it."""

    app: DeckApp
    keys: dict[str, str]
    http: aiohttp.ClientSession

    @property
    def models_dir(self) -> Path:
        return self.app.models_dir

    @property
    def db_path(self) -> Path:
        return self.app.home / "data" / "modeldeck.sqlite3"

    def key(self, name: str | None = "script") -> str | None:
        return None if name is None else self.keys[name]

    async def call(self, method: str, path: str, *, key: str | None = "script", json: Any = None,
                   data: bytes | str | AsyncIterator[bytes] | None = None,
                   headers: dict[str, str] | None = None) -> Answer:
        """A request as a script sends it: with the named key's Bearer header (None: no credentials at all)."""
        sent = dict(headers or {})
        if key is not None and not self.app.open_on_loopback:
            sent["Authorization"] = f"Bearer {self.keys[key]}"
        async with self.http.request(method, f"{self.app.url}{path}", json=json, data=data, headers=sent,
                                     allow_redirects=False) as answer:
            raw = await answer.read()
            body: Any = raw
            if answer.content_type == "application/json":
                body = await answer.json()
            return Answer(answer.status, body, dict(answer.headers), raw)

    def rows(self, sql: str = "SELECT * FROM model_config ORDER BY name", *args: object) -> list[dict[str, Any]]:
        with closing(sqlite3.connect(self.db_path)) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql, args)]

    def model_names(self) -> list[str]:
        return [row["name"] for row in self.rows()]

    async def ready(self) -> None:
        """Until the runner has told the app its llama-server's flags (imports are checked against them)."""
        async def flags_known() -> bool:
            answer = await self.call("POST", "/api/import?dry_run=true", data="models: {}\n")
            assert answer.status in {200, 503}, answer
            return answer.status == 200

        await eventually(flags_known, within=30, message="the runner's flags known to the app")


ManagedFactory = Callable[..., Awaitable[Managed]]


@pytest.fixture
async def managed(tmp_path: Path, llama_server_binary: Path) -> AsyncIterator[ManagedFactory]:
    """Factory: await managed(models={"tiny": {...fields}}, keys=[KeySpec(...)], open_on_loopback=False).

    Locked by default (sign-in and keys required), with a `script` key of the manage scope; the model folder
    holds tiny models named as the example files name them."""
    started: list[Managed] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        async def make(models: dict[str, dict[str, Any]] | None = None, keys: list[KeySpec] | None = None, *,
                       open_on_loopback: bool = False, ready: bool = True) -> Managed:
            home = tmp_path / f"deck{len(started)}"
            files = {name: write_tiny_llama(home / "models" / name, n_ctx=8192) for name in MODEL_FILES}
            defaults = {"model_path": str(files["tiny.gguf"]), "ctx_size": 256}
            configs = [ModelConfig(name=name, **{**defaults, **values}) for name, values in (models or {}).items()]
            plain = await seed(home, configs, [ADMIN_KEY, *(keys or [])])
            deck = Managed(DeckApp(home, llama_server_binary, open_on_loopback=open_on_loopback), plain, http)
            started.append(deck)
            deck.app.start()
            if ready:
                await deck.ready()
            return deck

        try:
            yield make
        finally:
            for deck in started:
                deck.app.stop()
