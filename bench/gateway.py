"""What the gateway costs: the same requests sent to llama-server directly and through ModelDeck, in one run.

The real app (`python main.py`, open on loopback) runs in a process of its own with the tiny test model, and
this script is the client of both paths, interleaving them so drift hits both alike (each path first in every
other pair), and with each figure the share of the CPUs the hypervisor took meanwhile (steal). It prints:
  - a 1-token completion: added latency, p50 and p99 (goals <= 1 ms, <= 3 ms);
  - a 256-token stream: time to first token added (goal <= 2 ms) and the tokens/s ratio (goal >= 0.98);
  - 32 streams at once: the aggregate tokens/s ratio (goal >= 0.95) and, while they run, the app's event-loop
    lag p99 (goal < 50 ms), seen as the extra time a tiny page request takes (an upper bound on the lag). The
    page requests come from a process of their own (the streams' clients here would delay them too), also while
    the direct streams run: the same machine as busy, the app idle, the part of the figure that is not the app;
  - a cold start on the smallest-real model shape: request on a stopped model to its first token, against
    spawn + /health + the same request directly (goal: ratio <= 1.05); then the 256-token stream again on that
    model, whose tokens come at a real small model's pace.
Run: .venv/bin/python bench/gateway.py   (add --quick for fewer repetitions)
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import itertools
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import aiohttp
import psutil
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.runner_start import MODELS, first_200
from protocol.config import ModelConfig
from runner.binary import resolve_binary
from runner.process import free_port
from tests.browser.deck_app import DeckApp
from tests.gateway.conftest import seed
from tests.tiny_gguf import write_tiny_llama

STREAMS = 32
PROBE_EVERY_S = 0.02


@dataclass
class Route:
    """One way to a model: its base URL and the headers it needs."""

    name: str
    base: str
    headers: dict[str, str]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def server_of(app: DeckApp, model_path: str) -> psutil.Process:
    assert app.process is not None
    [server] = [p for p in psutil.Process(app.process.pid).children(recursive=True)
                if p.name() == "llama-server" and model_path in p.cmdline()]
    return server


def app_cpu_s(app: DeckApp) -> float:
    """CPU seconds the app's process has used (its own, not its llama-servers')."""
    assert app.process is not None
    used = psutil.Process(app.process.pid).cpu_times()
    return used.user + used.system


class Stolen:
    """How much of the CPUs the hypervisor gave to other machines since this was made ("steal"): on a shared host it
    slows either path by as much as the relay costs (a 256-token stream's pair ratios followed it, 3 to 33 %)."""

    def __init__(self) -> None:
        self.began, self.stolen_s = time.perf_counter(), self._stolen_s()

    @staticmethod
    def _stolen_s() -> float:
        return float(getattr(psutil.cpu_times(), "steal", 0.0))  # summed over the CPUs; Linux only

    def __str__(self) -> str:
        share = (self._stolen_s() - self.stolen_s) / ((time.perf_counter() - self.began) * (psutil.cpu_count() or 1))
        return f"steal {share:.0%}"


def direct_path(server: psutil.Process) -> Route:
    arguments = server.cmdline()
    port = arguments[arguments.index("--port") + 1]
    return Route("direct", f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {server.environ()['LLAMA_API_KEY']}"})


async def one_token(http: aiohttp.ClientSession, path: Route, model: str) -> float:
    began = time.perf_counter()
    async with http.post(f"{path.base}/v1/completions", headers=path.headers,
                         json={"model": model, "prompt": "hi", "max_tokens": 1, "temperature": 0}) as answer:
        await answer.read()
        assert answer.status == 200, answer.status
    return time.perf_counter() - began


class Streamed(NamedTuple):
    ttft_s: float  # to the first content event
    tokens_per_s: float  # generation, as the client sees it: (tokens - 1) over first to last
    tokens: int
    pace_per_s: float  # one over the median gap between tokens: the steady pace, which a stall of a few gaps
    # (the hypervisor taking a CPU for 20 ms) leaves as it is, and a cost paid on every token does not


async def stream(http: aiohttp.ClientSession, path: Route, model: str, tokens: int) -> Streamed:
    began = time.perf_counter()
    arrived: list[float] = []
    # A connection of its own, as the gateway asks for one: llama-server ends it after a stream; both paths alike.
    async with http.post(f"{path.base}/v1/completions", headers={**path.headers, "Connection": "close"}, json={
            "model": model, "prompt": "once upon a time", "max_tokens": tokens, "temperature": 0,
            "ignore_eos": True, "stream": True}) as answer:
        assert answer.status == 200, answer.status
        async for line in answer.content:
            if line.startswith(b"data: {") and b'"text":""' not in line:
                arrived.append(time.perf_counter())
    assert arrived, f"no tokens came through {path.name}"
    first, last = arrived[0], arrived[-1]
    gap = statistics.median(b - a for a, b in itertools.pairwise(arrived)) if len(arrived) > 1 else 0.0
    return Streamed(first - began, (len(arrived) - 1) / (last - first) if last > first else 0.0, len(arrived),
                    1 / gap if gap > 0 else 0.0)


async def streams_at_once(http: aiohttp.ClientSession, path: Route, model: str, tokens: int) -> float:
    began = time.perf_counter()
    results = await asyncio.gather(*(stream(http, path, model, tokens) for _ in range(STREAMS)))
    return sum(result.tokens for result in results) / (time.perf_counter() - began)


def probe_pages(url: str, control: Connection) -> None:
    """In a process of its own: between "start" and "stop", a tiny page request every PROBE_EVERY_S on one
    keep-alive connection; replies with how long each took."""
    where = urlsplit(url)
    page = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=30)
    control.send("ready")
    while control.recv() == "start":
        seen: list[float] = []
        while True:
            began = time.perf_counter()
            page.request("GET", "/manifest.webmanifest")
            page.getresponse().read()
            seen.append(time.perf_counter() - began)
            if control.poll(PROBE_EVERY_S):  # the probe's pace, and the word to stop
                break
        control.recv()
        control.send(seen)


class PageProbe:
    """How long the app takes to answer a page request, measured from outside this process."""

    def __init__(self, url: str) -> None:
        self.control, theirs = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(target=probe_pages, args=(url, theirs),
                                                                   daemon=True)

    async def open(self) -> None:
        self.process.start()
        assert await asyncio.to_thread(self.control.recv) == "ready"

    async def during(self, work: Awaitable[Any], seen: list[float]) -> Any:
        self.control.send("start")
        try:
            return await work
        finally:
            self.control.send("stop")
            seen.extend(await asyncio.to_thread(self.control.recv))

    def close(self) -> None:
        self.control.send("quit")
        self.process.join(5)


async def interleaved(n: int, direct: Callable[[], Awaitable[Any]], gateway: Callable[[], Awaitable[Any]]
                      ) -> tuple[list[Any], list[Any]]:
    """n pairs, each path first in every other one: what a run leaves behind (the server releasing its slots, the
    app writing its log lines) falls on the next run, and so on both paths alike."""
    a, b = [], []
    for i in range(n):
        if i % 2:
            b.append(await gateway())
            a.append(await direct())
        else:
            a.append(await direct())
            b.append(await gateway())
    return a, b


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def stream_figures(http: aiohttp.ClientSession, direct: Route, gateway: Route, model: ModelConfig,
                         n: int) -> None:
    stolen = Stolen()
    d, g = await interleaved(n, lambda: stream(http, direct, model.name, 256),
                             lambda: stream(http, gateway, model.name, 256))
    ttft_d, ttft_g = statistics.median(x.ttft_s for x in d), statistics.median(x.ttft_s for x in g)
    speed_d, speed_g = statistics.median(x.tokens_per_s for x in d), statistics.median(x.tokens_per_s for x in g)
    print(f"256-token stream, {model.name} ({len(d)} each): time to first token direct {ms(ttft_d)}, "
          f"gateway {ms(ttft_g)}, added {ms(ttft_g - ttft_d)} (goal <= 2 ms); {stolen}")
    print(f"  tokens/s direct {speed_d:.0f}, gateway {speed_g:.0f}: ratio {paired(d, g, lambda x: x.tokens_per_s)} "
          f"(goal >= 0.98); the steady pace (median gap) ratio {paired(d, g, lambda x: x.pace_per_s)}")


def paired(direct: list[Any], through: list[Any], figure: Callable[[Any], float]) -> str:
    """The median of each interleaved pair's ratio (gateway / direct), and the middle half of them: on this shared
    machine a run drifts (and one pair can be off by a third), which a ratio of the two medians would carry whole."""
    ratios = sorted(figure(g) / figure(d) for d, g in zip(direct, through, strict=True))
    return f"{statistics.median(ratios):.3f} (middle half {pct(ratios, .25):.3f}-{pct(ratios, .75):.3f})"


async def warm_figures(app: DeckApp, model: ModelConfig, n: int) -> None:
    gateway = Route("gateway", app.url, {})
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=4)  # llama-server ends idle ones after 5 s
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300)) as http:
        await one_token(http, gateway, model.name)  # starts it on demand
        direct = direct_path(server_of(app, model.model_path))
        for _ in range(20):
            await one_token(http, direct, model.name)
            await one_token(http, gateway, model.name)

        stolen = Stolen()
        d, g = await interleaved(n, lambda: one_token(http, direct, model.name),
                                 lambda: one_token(http, gateway, model.name))
        print(f"1-token completion ({n} each): direct p50 {ms(pct(d, .5))} p99 {ms(pct(d, .99))}; "
              f"gateway p50 {ms(pct(g, .5))} p99 {ms(pct(g, .99))}; {stolen}")
        print(f"  added: p50 {ms(pct(g, .5) - pct(d, .5))} (goal <= 1 ms), p99 {ms(pct(g, .99) - pct(d, .99))} "
              "(goal <= 3 ms)")

        await stream_figures(http, direct, gateway, model, max(n // 10, 5))

        probe = PageProbe(app.url)
        await probe.open()
        try:
            idle: list[float] = []
            await probe.during(asyncio.sleep(2.0), idle)  # how long to sample, not synchronisation
            beside_direct: list[float] = []
            lag: list[float] = []

            async def streams_seen(route: Route, seen: list[float]) -> tuple[float, float]:
                """The aggregate tokens/s, and the app's CPU seconds meanwhile."""
                used = app_cpu_s(app)
                rate = await probe.during(streams_at_once(http, route, model.name, 128), seen)
                return rate, app_cpu_s(app) - used

            rounds = max(n // 15, 4)
            stolen = Stolen()
            d_runs, g_runs = await interleaved(rounds, lambda: streams_seen(direct, beside_direct),
                                               lambda: streams_seen(gateway, lag))
        finally:
            probe.close()
        d_all, g_all = [rate for rate, _ in d_runs], [rate for rate, _ in g_runs]
        beside_cpu_s = sum(cpu_s for _, cpu_s in d_runs)  # the app's, while the direct streams run
        relaying_cpu_s = sum(cpu_s for _, cpu_s in g_runs)
        d_rate, g_rate = statistics.median(d_all), statistics.median(g_all)
        print(f"{STREAMS} streams at once ({rounds} rounds): aggregate tokens/s direct {d_rate:.0f}, "
              f"gateway {g_rate:.0f}: ratio {paired(d_all, g_all, float)} (goal >= 0.95); {stolen}")
        print(f"  a page request (from another process): idle p50 {ms(pct(idle, .5))}; while the direct streams "
              f"run p99 {ms(pct(beside_direct, .99))}; while the app relays them p50 {ms(pct(lag, .5))}, "
              f"p99 {ms(pct(lag, .99))}")
        print(f"  loop lag p99 <= {ms(pct(lag, .99) - pct(idle, .5))} (goal < 50 ms); of it the busy machine alone "
              f"(app idle) {ms(pct(beside_direct, .99) - pct(idle, .5))}")
        tokens = rounds * STREAMS * 128  # ignore_eos: every stream is 128 tokens long
        per_token = relaying_cpu_s / tokens
        # What the app spends anyway (the page probe's requests, its own timers), at its rate beside the direct
        # streams, is not the relay's: what remains is.
        beside_rate = beside_cpu_s / sum(STREAMS * 128 / rate for rate in d_all)
        own = (relaying_cpu_s - beside_rate * sum(STREAMS * 128 / rate for rate in g_all)) / tokens
        print(f"  the app's CPU time per relayed token {per_token * 1e6:.0f} us ({per_token * g_rate:.0%} of one core "
              f"at the gateway's rate), of it the relay's own {own * 1e6:.0f} us (beside the direct streams the app "
              f"used {beside_rate:.0%} of a core: the page probe, its timers)")


async def stop_server(app: DeckApp, http: aiohttp.ClientSession, model: ModelConfig) -> None:
    """Stop the model as a person would (the management API: the deck's stop, which kills a server that does not
    end in time), then wait for the gateway to say so. (A SIGTERM sent by hand right after /health turned 200 once
    left a llama-server that had closed its port but never exited, and this bench waiting on it.)"""
    async with http.get(f"{app.url}/api/models") as answer:
        [uid] = [m["uid"] for m in await answer.json() if m["name"] == model.name]
    async with http.post(f"{app.url}/api/models/{uid}/stop") as answer:
        assert answer.status == 202, (answer.status, await answer.text())
    while True:
        async with http.get(f"{app.url}/v1/models") as answer:
            listed = {m["id"]: m["status"] for m in (await answer.json())["data"]}
        if listed[model.name] == "stopped":
            return
        await asyncio.sleep(0.05)  # polling the status is the condition here


async def cold_figures(app: DeckApp, model: ModelConfig, n: int, streams: int) -> None:
    gateway = Route("gateway", app.url, {})
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300),
                                     connector=aiohttp.TCPConnector(keepalive_timeout=4)) as http:
        await one_token(http, gateway, model.name)
        arguments = server_of(app, model.model_path).cmdline()
        await stop_server(app, http, model)

        async def spawned_directly() -> float:
            port = free_port()
            args = [*arguments]
            args[args.index("--port") + 1] = str(port)
            key = "bench-key"
            began = time.perf_counter()
            proc = subprocess.Popen(args, env={"LLAMA_API_KEY": key}, stdout=subprocess.DEVNULL,  # noqa: ASYNC220
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                healthy = await first_200(port, proc) - began
                ttft = (await stream(http, Route("direct", f"http://127.0.0.1:{port}",
                                                 {"Authorization": f"Bearer {key}"}), model.name, 2)).ttft_s
                return healthy + ttft
            finally:
                proc.terminate()
                proc.wait()

        async def started_on_demand() -> float:
            ttft = (await stream(http, gateway, model.name, 2)).ttft_s
            await stop_server(app, http, model)
            return ttft

        stolen = Stolen()
        d, g = await interleaved(n, spawned_directly, started_on_demand)
        size = Path(model.model_path).stat().st_size / 1e6  # noqa: ASYNC240 - once
        print(f"cold start, {size:.0f} MB model ({n} each): spawn + /health + request direct "
              f"{ms(statistics.median(d))}, request on a stopped model through the gateway {ms(statistics.median(g))}: "
              f"ratio {paired(d, g, float)} (goal <= 1.05); {stolen}")
        # The same stream as the tiny model's, at the pace of a real small model (the tiny one makes a token every
        # ~175 us, so there the ratio weighs the relay's CPU per event; here, what a person would see).
        await one_token(http, gateway, model.name)
        await stream_figures(http, direct_path(server_of(app, model.model_path)), gateway, model, streams)


async def main(quick: bool, parts: list[str]) -> None:
    binary = resolve_binary()
    with tempfile.TemporaryDirectory(prefix="modeldeck-bench-gateway-") as tmp:
        home = Path(tmp)
        tiny = write_tiny_llama(home / "models" / "tiny.gguf", n_ctx=8192)
        real = MODELS["smallest-real"].write(home / "models" / "smallest-real.gguf")
        # One thread, as in bench/runner_start.py: on a 2-core machine the server leaves the other core to the
        # clients and the app, as a GPU or a many-core server would; the same model serves both paths.
        warm = ModelConfig(name="tiny", model_path=str(tiny), ctx_size=STREAMS * 512, parallel=STREAMS,
                           batch_size=2048, threads=1)
        cold = ModelConfig(name="small", model_path=str(real), ctx_size=512, threads=1, batch_size=64)
        await seed(home, [warm, cold], [])
        app = DeckApp(home, binary)
        app.start()
        try:
            print(f"binary {binary}; {psutil.cpu_count()} CPUs; the app as `python main.py` on loopback", flush=True)
            if "warm" in parts:
                await warm_figures(app, warm, 100 if quick else 300)
            if "cold" in parts:
                await cold_figures(app, cold, 6 if quick else 20, 3 if quick else 10)
        finally:
            app.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--parts", nargs="+", choices=["warm", "cold"], default=["warm", "cold"])
    options = parser.parse_args()
    uvloop.run(main(options.quick, options.parts))
