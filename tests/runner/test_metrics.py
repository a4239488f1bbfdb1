"""Live figures: llama-server's /metrics and /slots, psutil, and parsing of what servers print."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from protocol.config import ModelConfig
from protocol.messages import MetricsEvent
from protocol.status import ModelStatus
from runner.host import HostSampler, Nvml
from runner.logs import exit_reason, parse_line
from runner.metrics import parse_prometheus
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
