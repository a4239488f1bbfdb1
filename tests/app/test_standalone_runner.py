"""A standalone runner outlives the app and restarts on its own; the deck always shows the truth."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.app.conftest import DeckHome
from tests.app.helpers import (
    add_model,
    fill_form,
    open_flag_list,
    see_card,
    see_no_card,
    start_model,
    stop_model,
    tap,
    uid_of,
)
from tests.processes import llama_servers
from tests.simulation import started_app
from tests.waiting import until

ROOT = Path(__file__).parents[2]
TOKEN = "standalone-test-token"


@dataclass
class StandaloneRunner:
    process: asyncio.subprocess.Process
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, path: str, body: dict[str, object]) -> dict[str, object]:
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(), method="POST",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.loads(response.read()))

    def snapshot_uids(self) -> set[str]:
        request = urllib.request.Request(f"{self.url}/v1/snapshot", headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return {process["uid"] for process in json.loads(response.read())["processes"]}

    async def terminate(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 15)


async def launch_runner(binary: Path, models_dir: Path, port: int = 0) -> StandaloneRunner:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "runner", "--host", "127.0.0.1", "--port", str(port), f"--token={TOKEN}",
        "--llama-server", str(binary), "--model-dir", str(models_dir), "--no-build",
        "--work-dir", str(models_dir.parent / "runner-work"),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    assert first.startswith("runner listening on"), first
    return StandaloneRunner(process, int(first.rsplit(":", 1)[1]))


@pytest.fixture
async def runner(llama_server_binary: Path, deck_home: DeckHome,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StandaloneRunner]:
    started = await launch_runner(llama_server_binary, deck_home.models_dir)
    monkeypatch.setenv("MODELDECK_RUNNER_URL", started.url)
    monkeypatch.setenv("MODELDECK_RUNNER_TOKEN", TOKEN)
    yield started
    await started.terminate()


async def test_an_app_restart_shows_what_the_runner_kept_and_what_changed_meanwhile(
        runner: StandaloneRunner, deck_home: DeckHome) -> None:
    async with started_app() as user:
        await user.open("/")
        await add_model(user, deck_home, "kept", ctx_size=256)
        await add_model(user, deck_home, "changed", ctx_size=256)
        for name in ("kept", "changed"):
            tap(user, uid_of(deck_home, name), "start")
        await until(lambda: {r["status"] for r in deck_home.rows()} == {"running"}, within=20)
    assert len(llama_servers(runner.process.pid)) == 2  # the app went away; the runner kept both
    # While no dashboard watches, one model is stopped: the app must learn it from the snapshot.
    assert runner.command("/v1/stop", {"uid": uid_of(deck_home, "changed")})["accepted"] is True
    await until(lambda: len(llama_servers(runner.process.pid)) == 1, within=10)
    assert deck_home.row("changed")["status"] == "running"  # stale until a dashboard reconnects
    async with started_app() as user:
        await user.open("/")
        await user.should_see("runner connected", retries=100)  # another process: slower on a loaded machine
        await until(lambda: deck_home.row("changed")["status"] == "stopped", message="the snapshot repaired it")
        assert deck_home.row("kept")["status"] == "running"
        await user.should_see("running")


async def test_a_runner_restart_shows_reconnecting_then_the_truth(runner: StandaloneRunner,
                                                                  deck_home: DeckHome,
                                                                  llama_server_binary: Path) -> None:
    async with started_app() as user:
        await user.open("/")
        await user.should_see("runner connected", retries=100)  # another process: slower on a loaded machine
        await add_model(user, deck_home, "orphan", ctx_size=256)
        tap(user, uid_of(deck_home, 'orphan'), "start")
        await until(lambda: deck_home.row("orphan")["status"] == "running", within=20)
        await runner.terminate()  # takes its llama-servers with it
        await user.should_see("runner reconnecting", retries=50)
        again = await launch_runner(llama_server_binary, deck_home.models_dir, port=runner.port)
        try:
            await user.should_see("runner connected", retries=100)
            await until(lambda: deck_home.row("orphan")["status"] in {"stopped"}, message="reconciled")
            await user.should_see("stopped")
        finally:
            await again.terminate()


async def test_a_deleted_model_leaves_the_runner_too(runner: StandaloneRunner, deck_home: DeckHome) -> None:
    async with started_app() as user:
        await user.open("/")
        await user.should_see("runner connected", retries=100)  # another process: slower on a loaded machine
        uid = await start_model(user, deck_home, "brief")
        await stop_model(user, deck_home, "brief")
        assert uid in runner.snapshot_uids()
        tap(user, uid, "delete")
        user.find(marker="confirm-ok").click()
        await until(lambda: uid not in runner.snapshot_uids(), message="the runner forgot it")


async def test_the_form_refuses_what_the_standalone_runner_refuses(runner: StandaloneRunner,
                                                                   deck_home: DeckHome) -> None:
    async with started_app() as user:
        await user.open("/")
        user.find(marker="add-model").click()
        await open_flag_list(user)  # the standalone runner's own llama-server, read by that runner
        user.find(marker="flag---temp").click()
        await fill_form(user, name="remote", model_path=str(deck_home.model_file),
                        extra_args="--temp 0.5 --mcp-servers-json {}")
        user.find(marker="form-save").click()
        await user.should_see("--mcp-servers-json is not allowed: it runs programs or tools")
    assert deck_home.rows() == []
    with pytest.raises(urllib.error.HTTPError) as refused:  # and the runner itself, to anyone who asks
        runner.command("/v1/start", {"config": {"name": "remote", "model_path": str(deck_home.model_file),
                                                "extra_args": ["--mcp-servers-json", "{}"]}})
    assert refused.value.code == 409
    assert json.loads(refused.value.read())["reason"] == "--mcp-servers-json is not allowed: it runs programs or tools"


async def test_while_the_runner_is_away_every_card_says_its_state_is_unknown_and_why_start_and_stop_wait(
        runner: StandaloneRunner, deck_home: DeckHome, llama_server_binary: Path) -> None:
    async with started_app() as user:
        await user.open("/")
        await user.should_see("runner connected", retries=100)  # another process: slower on a loaded machine
        running = await start_model(user, deck_home, "away")
        await add_model(user, deck_home, "idle", ctx_size=256)
        idle = uid_of(deck_home, "idle")
        runner.process.kill()  # gone without a word (its llama-servers die with it); nothing answers at its address
        await runner.process.wait()
        for uid, last in ((running, "running"), (idle, "stopped")):
            await see_card(user, uid, "state unknown: the runner is unreachable since", within=5)
            await see_card(user, uid, f"last known: {last}")
        tap(user, running, "stop")
        await until(lambda: user.notify.contains("away cannot be stopped now: the runner is unreachable since"),
                    message="Stop says why it cannot act")
        tap(user, idle, "start")
        await until(lambda: user.notify.contains("idle cannot be started now: the runner is unreachable since"),
                    message="Start says why it cannot act")
        assert deck_home.row("away")["status"] == "running"  # nothing was guessed meanwhile
        again = await launch_runner(llama_server_binary, deck_home.models_dir, port=runner.port)
        try:
            await user.should_see("runner connected", retries=100)
            await see_card(user, running, "stopped")  # the runner came back without it
            await see_no_card(user, running, "state unknown")
            await until(lambda: deck_home.row("away")["status"] == "stopped", message="reconciled")
        finally:
            await again.terminate()
