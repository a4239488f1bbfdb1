"""The runner's HTTP API under hostile bodies: refused with a reason, or run as a literal argument list.

The "llama-server" here is a stub that writes its arguments to a file and exits, so a test can see
exactly what would have been executed; a shell that interpreted anything would create the canary.
Asked for --help or --version it answers as the real binary does, so the runner knows its flags.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from protocol.config import ModelConfig
from protocol.status import ModelStatus
from runner.binary import BinarySource
from runner.server import create_app
from runner.supervisor import Supervisor
from tests.security.hostile import hostile_inputs
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import until

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Stage:
    def __init__(self, root: Path, real: Path) -> None:
        self.models = root / "models"
        self.model = write_tiny_llama(self.models / "tiny.gguf")
        self.outside = write_tiny_llama(root / "outside" / "real.gguf")
        (self.models / "escape.gguf").symlink_to(self.outside)
        self.canary = root / "canary"
        self.argv_log = root / "argv.log"
        self.stub = root / "llama-server"
        # Each argument on its own line, NUL-terminated, exactly as received.
        self.stub.write_text(f"#!/bin/sh\ncase \"$1\" in --help|--version) exec '{real}' \"$1\";; esac\n"
                             f"printf '%s\\0' \"$@\" > '{self.argv_log}'\nexit 3\n")
        self.stub.chmod(0o755)


@pytest.fixture
async def stage(tmp_path: Path, llama_server_binary: Path) -> Stage:
    return Stage(tmp_path, llama_server_binary)


@pytest.fixture
async def api(stage: Stage) -> AsyncIterator[tuple[TestClient, Supervisor]]:
    supervisor = Supervisor(BinarySource(stage.stub, allow_build=False), work_dir=stage.models.parent / "runner",
                            allowed_dirs=(stage.models,))
    await supervisor.open()  # finds the stub, reads its flags
    async with TestClient(TestServer(create_app(supervisor, TOKEN))) as client:
        try:
            await until(lambda: supervisor.launch_problem(
                ModelConfig(name="m", model_path=str(stage.model), extra_args=["--foo"])) is not None,
                within=30, message="the runner knows the stub's flags")
            yield client, supervisor
        finally:
            await supervisor.close()


def _ended(supervisor: Supervisor, uid: str) -> bool:
    return not supervisor.servers[uid].busy


def _bodies(stage: Stage) -> list[dict[str, object]]:
    """One start command per hostile value in each place a browser's text reaches the runner."""
    bodies: list[dict[str, object]] = []
    values = [*hostile_inputs(str(stage.canary)), str(stage.models / "escape.gguf")]
    for value in values:
        for place in ("name", "model_path", "extra_args", "env", "notes", "family", "cache_type_k"):
            config: dict[str, object] = {"uid": uuid.uuid4().hex, "name": "m", "model_path": str(stage.model)}
            config[place] = [value] if place == "extra_args" else {"X": value} if place == "env" else value
            bodies.append(config)
    return bodies


async def test_hostile_start_commands_are_refused_or_run_literally(api: tuple[TestClient, Supervisor],
                                                                   stage: Stage) -> None:
    client, supervisor = api
    started = 0
    for config in _bodies(stage):
        stage.argv_log.unlink(missing_ok=True)
        response = await client.post("/v1/start", json={"config": config}, headers=AUTH)
        if response.status == 413:  # larger than any command may be
            continue
        reply = await response.json()
        if response.status == 400:
            assert reply["accepted"] is False and reply["reason"].startswith("malformed StartCommand")
            continue
        if response.status == 409:  # an argument or variable that is not allowed: refused before anything runs
            assert reply["accepted"] is False and reply["reason"]
            assert config["uid"] not in supervisor.servers
            continue
        assert response.status == 200, reply
        uid = str(config["uid"])
        await until(partial(_ended, supervisor, uid), message="the start attempt ended")
        state = supervisor.servers[uid].state
        assert state.status is ModelStatus.ERROR and state.reason
        if stage.argv_log.exists():  # it got as far as the binary: every argument arrived as one literal
            started += 1
            argv = stage.argv_log.read_bytes().split(b"\0")[:-1]
            raw = config.get("extra_args")
            extra = [str(arg).strip() for arg in raw] if isinstance(raw, list) else []
            if extra:  # they come last, before --host 127.0.0.1 --port N --metrics
                assert [a.decode() for a in argv[-len(extra) - 5:-5]] == extra
            assert argv[argv.index(b"--host") + 1] == b"127.0.0.1"
            assert argv[argv.index(b"--model") + 1] == str(stage.model).encode()
        else:  # refused before spawning: a path outside the folders
            assert any(why in str(state.reason) for why in ("outside the allowed", "no such file", "cannot resolve"))
    assert started > 0  # the harmless ones did reach the stub
    assert not stage.canary.exists()
    snapshot = await client.get("/v1/snapshot", headers=AUTH)
    assert snapshot.status == 200  # still answering


@pytest.mark.parametrize("body", [
    b"", b"\x00" * 100, b"{" * 100_000, b"[" * 100_000 + b"]" * 100_000, b'{"config": ' + b'"x' * 3_000_000 + b'"}',
    json.dumps({"config": {"name": "a\u0000b", "model_path": "/m.gguf"}}).encode(),
    json.dumps({"config": {"name": "m", "model_path": "/m.gguf", "extra_args": "--host 0.0.0.0"}}).encode(),
])
async def test_garbage_bodies_get_a_clear_refusal(api: tuple[TestClient, Supervisor], body: bytes) -> None:
    client, supervisor = api
    response = await client.post("/v1/start", data=body, headers=AUTH)
    assert response.status in {400, 413}
    if response.status == 400:
        assert (await response.json())["accepted"] is False
    assert supervisor.servers == {}
    assert (await client.get("/v1/snapshot", headers=AUTH)).status == 200
