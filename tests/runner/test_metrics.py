"""Live figures: llama-server's /metrics and /slots, psutil, and parsing of what servers print."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from protocol.config import ModelConfig
from protocol.messages import MetricsEvent, MetricsSample
from protocol.status import ModelStatus
from runner.host import HostSampler, Nvml
from runner.logs import exit_reason, parse_line
from runner.metrics import LiveSpeed, SlotProgress, parse_prometheus, read_slots
from tests.runner.conftest import RunnerClient

PROMETHEUS = """# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 12
llamacpp:tokens_predicted_total 4
llamacpp:predicted_tokens_seconds 250.5
llamacpp:requests_processing 0
labelled{a="b"} 3
garbage line here
llamacpp:nan NaN
"""


def test_prometheus_text_is_parsed_leniently() -> None:
    assert parse_prometheus(PROMETHEUS) == {"llamacpp:prompt_tokens_total": 12, "llamacpp:tokens_predicted_total": 4,
                                            "llamacpp:predicted_tokens_seconds": 250.5,
                                            "llamacpp:requests_processing": 0}


def test_log_levels_and_exit_reasons() -> None:
    lines = [parse_line("0.00.021.653 I srv  llama_server: loading model"),
             parse_line("0.00.011.433 E gguf_init_from_reader: failed to read magic"),
             parse_line("0.00.011.638 E llama_model_load: error loading model: failed to load model from /m.gguf"),
             parse_line("0.00.012.151 E srv    load_model: failed to load model, '/m.gguf'"),
             parse_line("0.00.012.861 E srv  llama_server: exiting due to model loading error\n")]
    assert [line.level for line in lines] == ["I", "E", "E", "E", "E"]
    assert lines[0].text == "srv  llama_server: loading model"
    assert exit_reason(lines, 1) == ("gguf_init_from_reader: failed to read magic "
                                     "(srv load_model: failed to load model, '/m.gguf')")
    bind = parse_line("0.00.012.000 E srv  start: couldn't bind HTTP server socket, hostname: 127.0.0.1, port: 1")
    assert exit_reason([bind], 1) == "srv start: couldn't bind HTTP server socket, hostname: 127.0.0.1, port: 1"
    assert parse_line("error: invalid argument: --no-such-flag").level == "E"
    assert exit_reason([], -9) == "killed by signal SIGKILL"
    assert exit_reason([parse_line("bye")], 3) == "bye"
    assert exit_reason([], 3) == "exited with code 3"


def test_host_sample_without_a_gpu_has_no_gpu_fields() -> None:
    sampler = HostSampler(nvml=Nvml())
    sample = sampler.sample()
    assert sample.ram_total_bytes > sample.ram_used_bytes > 0
    assert sample.disk_total_bytes
    if not sampler.nvml.available:
        assert sample.gpus == []
        assert sampler.nvml.vram_by_pid() == {}


async def test_metrics_follow_a_completion(runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    feed = await runner.feed()
    config = model_config(parallel=2)
    await runner.start(config)
    running = await feed.status(config.uid, ModelStatus.RUNNING)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://127.0.0.1:{running.port}/completion",
                                headers={"Authorization": f"Bearer {running.api_key}"},
                                json={"prompt": "hello there", "n_predict": 8, "temperature": 0}) as answer:
            assert answer.status == 200

    def counted(event: object) -> bool:
        return (isinstance(event, MetricsEvent) and event.uid == config.uid
                and (event.sample.tokens_predicted_total or 0) >= 8)

    event = await feed.wait_for(counted, within=5)
    assert isinstance(event, MetricsEvent)
    sample = event.sample
    assert sample.prompt_tokens_total and sample.prompt_tokens_total > 0
    assert sample.total_slots == 2 and sample.busy_slots == 0
    assert sample.requests_processing == 0 and sample.requests_deferred == 0
    assert sample.rss_bytes and sample.rss_bytes > 1_000_000
    assert sample.cpu_percent is not None
    _, snapshot = await runner.get("/v1/snapshot")
    assert snapshot["processes"][0]["metrics"]["total_slots"] == 2


async def test_tokens_per_second_is_live_while_a_request_generates(
        runner: RunnerClient, model_config: Callable[..., ModelConfig], tiny_model: Callable[..., Path]) -> None:
    """A long completion (800 tokens at temperature 0, a few seconds on a bigger tiny model): a metrics
    sample taken while it still runs shows the speed llama-server itself measures for those tokens.

    llama-server streams its own timings with every token (`timings_per_token`): the tokens it has
    generated and the milliseconds it spent on them. The runner's figure is the rate since it first
    saw the slot generating (the reading just before its first live figure); the same span of
    llama-server's own timings must give the same rate within 10 %. (Over the same span: on a busy
    machine a request's speed moves a lot within a second, so a rate since another moment differs.)"""
    model = tiny_model("speed.gguf", n_embd=384, n_layer=6, n_head=6, n_head_kv=6, n_ff=768, n_ctx=1024)
    config = model_config(model_path=str(model), ctx_size=1024)
    feed = await runner.feed()
    await runner.start(config)
    running = await feed.status(config.uid, ModelStatus.RUNNING, within=30)
    theirs: list[tuple[datetime, int, float]] = []  # when it came, llama-server's tokens and ms so far
    finished = asyncio.Event()

    async def generate() -> None:
        body = {"prompt": "hello", "n_predict": 800, "temperature": 0, "ignore_eos": True,
                "stream": True, "timings_per_token": True}
        async with runner.session.post(f"http://127.0.0.1:{running.port}/completion", json=body,
                                       headers={"Authorization": f"Bearer {running.api_key}"}) as answer:
            assert answer.status == 200, await answer.text()
            async for raw in answer.content:
                line = raw.decode().strip()
                if line.startswith("data: ") and "timings" in (chunk := json.loads(line[6:])):
                    timings = chunk["timings"]
                    theirs.append((datetime.now(UTC), timings["predicted_n"], timings["predicted_ms"]))
        finished.set()

    generation = asyncio.create_task(generate())
    samples: list[MetricsSample] = []

    def a_second_of_live_figures(event: object) -> bool:
        if finished.is_set():  # too late: the figures while it ran did not come
            return True
        if not isinstance(event, MetricsEvent) or event.uid != config.uid:
            return False
        samples.append(event.sample)
        live = [i for i, sample in enumerate(samples) if sample.busy_slots and sample.tokens_per_second]
        return bool(live) and (samples[-1].at - samples[live[0] - 1].at).total_seconds() >= 1.0

    await feed.wait_for(a_second_of_live_figures, within=60)
    still_running = not finished.is_set()
    await asyncio.wait_for(generation, 120)  # seconds here; bounded, so a stuck server fails rather than hangs
    assert still_running, "no live tokens/s while the request ran"
    first_live = next(i for i, sample in enumerate(samples) if sample.busy_slots and sample.tokens_per_second)
    seen_from, now = samples[first_live - 1], samples[-1]

    def llama_servers_count(at: datetime) -> tuple[int, float]:
        *_, (_, tokens, ms) = [chunk for chunk in theirs if chunk[0] <= at]
        return tokens, ms

    (tokens_then, ms_then), (tokens_now, ms_now) = llama_servers_count(seen_from.at), llama_servers_count(now.at)
    assert now.busy_slots == 1
    assert now.tokens_per_second == pytest.approx((tokens_now - tokens_then) / (ms_now - ms_then) * 1000, rel=0.10)
    assert theirs[-1][1] == 800


def _slot(task: int, decoded: int, prompt: int = 5, processing: bool = True) -> dict[int, SlotProgress]:
    return {0: SlotProgress(task=task, processing=processing, prompt_processed=prompt, decoded=decoded)}


def test_live_speed_counts_only_what_a_slot_did_while_seen_at_work() -> None:
    speed = LiveSpeed(window_s=3.0)
    assert speed.update(_slot(1, 0, prompt=0), at=10.0) == (None, None)  # one reading: no rate yet
    assert speed.update(_slot(1, 0, prompt=512), at=10.5) == (None, 1024.0)  # reading a long prompt
    assert speed.update(_slot(1, 30, prompt=600), at=11.0) == (None, None)  # the prompt's time is not generation's
    assert speed.update(_slot(1, 80, prompt=600), at=11.5) == (100.0, None)
    assert speed.update(_slot(1, 80, processing=False), at=12.0) == (None, None)  # done: the gauges speak
    assert speed.update(_slot(2, 40), at=12.5) == (None, None)  # a new request starts afresh
    assert speed.update(_slot(2, 60), at=13.0) == (40.0, None)
    for second in range(1, 8):  # the window keeps the last 3 s (plus the reading just before)
        speed.update(_slot(2, 60 + 10 * second), at=13.0 + second)
    assert speed.update(_slot(2, 200), at=21.0) == ((200 - 110) / 3, None)  # since the reading at 18 s
    assert speed.update(None, at=22.0) == (None, None)  # no answer: start afresh rather than read a burst
    assert speed.update(_slot(2, 300), at=23.0) == (None, None)


def test_slots_are_read_leniently() -> None:
    text = json.dumps([{"id": 0, "is_processing": False},
                       {"id": 1, "is_processing": True, "id_task": 7, "n_prompt_tokens_processed": 5,
                        "next_token": [{"n_decoded": 42}]},
                       "junk", {"id": 2, "is_processing": True, "next_token": "odd"}])
    assert read_slots(text) == {0: SlotProgress(task=None, processing=False, prompt_processed=0, decoded=0),
                                1: SlotProgress(task=7, processing=True, prompt_processed=5, decoded=42),
                                2: SlotProgress(task=None, processing=True, prompt_processed=0, decoded=0)}
    assert read_slots("not json") is None and read_slots("{}") is None
