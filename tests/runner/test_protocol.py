"""The wire: token on every route, 400 with a reason, snapshot then ordered events, fan-out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
import pytest

from protocol.config import ModelConfig
from protocol.flags import FlagCatalog
from protocol.messages import PROTOCOL_VERSION, HostEvent, LogEvent, LogLine, SnapshotEvent
from protocol.status import ModelStatus
from runner.events import EventHub
from tests.runner.conftest import RunnerClient
from tests.waiting import until

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ROUTES = [("POST", "/v1/start"), ("POST", "/v1/stop"), ("POST", "/v1/restart"), ("GET", "/v1/snapshot"),
          ("GET", f"/v1/logs/{'0' * 32}"), ("GET", "/v1/flags")]


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic x", "Bearer "])
async def test_every_route_needs_the_token(runner: RunnerClient, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    for method, path in ROUTES:
        async with runner.session.request(method, runner.url + path, headers=headers, json={}) as response:
            assert response.status == 401, (method, path)
            assert (await response.json())["accepted"] is False
    async with runner.session.request("GET", runner.url + "/v1/snapshot?token=" + runner.runner.token) as response:
        assert response.status == 401  # the query token is only for the WebSocket
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await runner.session.ws_connect(f"{runner.url}/v1/events?token=wrong", headers=headers)
    assert refused.value.status == 401


async def test_websocket_accepts_the_bearer_header(runner: RunnerClient) -> None:
    async with runner.session.ws_connect(f"{runner.url}/v1/events", headers=runner.auth) as ws:
        first = await ws.receive_json(timeout=5)
        assert first["type"] == "snapshot" and first["protocol"] == PROTOCOL_VERSION


@pytest.mark.parametrize(("path", "body", "needle"), [
    ("/v1/start", b"not json", "malformed StartCommand"),
    ("/v1/start", b'{"config": {"name": "x"}}', "config.model_path"),
    ("/v1/start", b'{"config": {"name": "x", "model_path": "/m.gguf", "extra_args": ["a\\u0000b"]}}', "control"),
    ("/v1/stop", b'{"uid": "nope"}', "uid"),
    ("/v1/restart", b'{"uid": "' + b"0" * 32 + b'", "more": 1}', "more"),
])
async def test_malformed_commands_get_400_with_a_reason(runner: RunnerClient, path: str, body: bytes,
                                                        needle: str) -> None:
    async with runner.session.post(runner.url + path, data=body, headers=runner.auth) as response:
        assert response.status == 400
        reply = await response.json()
    assert reply["accepted"] is False and needle in reply["reason"]


@pytest.mark.parametrize(("extra_args", "env", "reason"), [
    (["--no-such-flag"], {}, "llama-server 0.6.0-dev has no --no-such-flag"),
    (["--host", "0.0.0.0"], {}, "--host is not allowed: ModelDeck sets it itself"),
    (["-c", "8192"], {}, "-c (--ctx-size) is not allowed: use the form's Context size field"),
    ([], {"LD_PRELOAD": "/tmp/x.so"}, "LD_PRELOAD cannot be set for a model"),
])
async def test_a_start_with_a_refused_argument_gets_409_naming_it(
        runner: RunnerClient, model_config: Callable[..., ModelConfig], extra_args: list[str], env: dict[str, str],
        reason: str) -> None:
    config = model_config(extra_args=extra_args, env=env)
    status, reply = await runner.post("/v1/start", {"config": config.model_dump(mode="json")})
    assert status == 409 and reply["accepted"] is False and reply["reason"].startswith(reason), reply
    _, snapshot = await runner.get("/v1/snapshot")
    assert snapshot["processes"] == []  # nothing was started, nothing is remembered


async def test_flags_lists_the_binarys_flags_with_the_decision_on_each(runner: RunnerClient) -> None:
    status, body = await runner.get("/v1/flags")
    assert status == 200
    catalog = FlagCatalog.model_validate(body)
    assert catalog.version.startswith("0.6.0-dev")
    mcp, temp = catalog.find("--mcp-servers-json"), catalog.find("--temp")
    assert mcp is not None and mcp.refusal == "it runs programs or tools" and mcp.category == "runs programs"
    assert temp is not None and temp.allowed and temp.category == "sampling" and temp.values == ("N",)
    assert "CUDA_VISIBLE_DEVICES" in catalog.env and "LD_PRELOAD" not in catalog.env


async def test_unknown_models_are_refused(runner: RunnerClient) -> None:
    for path in ("/v1/stop", "/v1/restart"):
        status, reply = await runner.post(path, {"uid": "0" * 32})
        assert status == 409 and reply["accepted"] is False and "no such model" in reply["reason"]


async def test_a_late_client_gets_a_snapshot_then_ordered_events(runner: RunnerClient,
                                                                 model_config: Callable[..., ModelConfig]) -> None:
    early = await runner.feed()
    config = model_config()
    await runner.start(config)
    await early.status(config.uid, ModelStatus.RUNNING)

    late = await runner.feed()
    snapshot = await late.next()
    assert isinstance(snapshot, SnapshotEvent)
    assert [(p.uid, p.status) for p in snapshot.processes] == [(config.uid, ModelStatus.RUNNING)]
    await runner.stop(config.uid)
    await late.status(config.uid, ModelStatus.STOPPED)
    await early.status(config.uid, ModelStatus.STOPPED)
    after = late.seen[1:]
    assert after[0].seq == snapshot.seq + 1  # nothing between the snapshot and the first event is lost
    assert [e.seq for e in after] == list(range(after[0].seq, after[0].seq + len(after)))
    # Both clients saw the same events with the same numbers.
    early_tail = {e.seq: e for e in early.seen if e.seq > snapshot.seq}
    assert all(early_tail[e.seq] == e for e in after if e.seq in early_tail)


async def test_host_samples_arrive(runner: RunnerClient) -> None:
    feed = await runner.feed()
    host = await feed.wait_for(lambda e: isinstance(e, HostEvent), within=3)
    assert isinstance(host, HostEvent)
    assert host.sample.ram_total_bytes > 0 and 0 <= host.sample.cpu_percent <= 100 * 64


async def test_a_slow_subscriber_is_cut_off_without_slowing_the_others() -> None:
    hub = EventHub(queue_limit=8)
    cut: list[bool] = []
    slow = hub.subscribe(on_overflow=lambda: cut.append(True))
    fast = hub.subscribe()
    received = []
    for _ in range(5):  # 5 bursts of 4: the fast one keeps up, the slow one never reads
        for _ in range(4):
            hub.publish(lambda seq: HostEvent.model_validate(
                {"seq": seq, "sample": {"at": "2026-01-01T00:00:00Z", "cpu_percent": 1,
                                        "ram_used_bytes": 1, "ram_total_bytes": 2}}))
        for _ in range(4):
            frame = await asyncio.wait_for(fast.next(), 1)
            assert frame is not None
            received.append(HostEvent.model_validate_json(frame).seq)
    assert received == list(range(1, 21))
    assert cut == [True] and slow.overflowed
    assert await asyncio.wait_for(slow.next(), 1) is None
    assert hub.subscriber_count == 1


async def test_the_status_feed_survives_a_garbage_client(runner: RunnerClient,
                                                         model_config: Callable[..., ModelConfig]) -> None:
    async with runner.session.ws_connect(f"{runner.url}/v1/events", headers=runner.auth) as rude:
        await rude.send_str("{not json")
        await rude.send_bytes(b"\x00\xff")
        feed = await runner.feed()
        config = model_config()
        await runner.start(config)
        event = await feed.status(config.uid, ModelStatus.RUNNING)
        assert event.status is ModelStatus.RUNNING
    assert isinstance((await runner.get("/v1/snapshot"))[1]["seq"], int)


async def test_a_stalled_websocket_client_is_disconnected(runner: RunnerClient) -> None:
    """A client that stops reading fills its socket, then its queue: it is cut off; the others get everything."""
    hub = runner.runner.supervisor.hub
    hub.queue_limit = 16
    async with runner.session.ws_connect(f"{runner.url}/v1/events", headers=runner.auth) as stalled:
        fast = await runner.feed()
        await fast.next()  # its snapshot
        await until(lambda: hub.subscriber_count == 2, message="both subscribed")
        text = "x" * 200_000
        published = 0
        while hub.subscriber_count == 2:  # megabytes until the stalled socket pushes back
            assert published < 1000, "the stalled client was never cut off"
            sent = hub.publish(lambda seq: LogEvent(seq=seq, uid="0" * 32, lines=[LogLine(at=NOW, text=text)]))
            published += 1
            wanted = sent.seq
            await fast.wait_for(lambda e: e.seq == wanted, within=5)  # noqa: B023 - awaited before the next loop
        closed = await stalled.receive(timeout=5)
        while closed.type is aiohttp.WSMsgType.TEXT:  # what was in flight, then the close
            closed = await stalled.receive(timeout=5)
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    sent = hub.publish(lambda seq: LogEvent(seq=seq, uid="0" * 32, lines=[LogLine(at=NOW, text="after")]))
    after = await fast.wait_for(lambda e: e.seq == sent.seq, within=5)
    assert isinstance(after, LogEvent) and after.lines[0].text == "after"
