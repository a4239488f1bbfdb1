#!/usr/bin/env bash
# One short check for a machine with an NVIDIA GPU (never part of CI: it needs the GPU):
#  1. builds llama-server with CUDA for this GPU's architecture only (CMAKE_CUDA_ARCHITECTURES from
#     nvidia-smi's compute_cap; the same build ModelDeck's runner makes on such a machine), and times it;
#  2. starts a model through ModelDeck's runner with every layer offloaded, then the same model on the CPU;
#  3. prints what the model card shows (where it runs, layers offloaded, VRAM from NVML, tokens/s) beside
#     nvidia-smi's own view of the process, and the GPU's speed as a ratio of the CPU's in the same run.
#
# Usage: bench/gpu_check.sh [MODEL.gguf]    (default: a generated 12-layer llama, about 600 MB)
# Env:   LLAMA_SOURCE=llama.cpp.tar.gz      a source archive, for a machine where pip cannot reach an index
#        GPU_CHECK_CPU_ONLY=1               run the same steps without a GPU (a dry run of this script)
#        PY=python                          the interpreter with ModelDeck's dependencies (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "gpu_check: $*" >&2; exit 2; }
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
"$PY" -c "import aiohttp, pydantic, psutil, gguf, nicegui" 2>/dev/null \
    || fail "$PY lacks ModelDeck's dependencies: run 'make setup' (or set PY)"

if [ -z "${GPU_CHECK_CPU_ONLY:-}" ]; then
    command -v nvidia-smi >/dev/null || fail "no nvidia-smi: this check needs an NVIDIA GPU and its driver"
    nvidia-smi --query-gpu=index,name,compute_cap,driver_version,memory.total --format=csv \
        || fail "nvidia-smi cannot talk to the driver"
    command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || [ -n "${CUDA_HOME:-}" ] \
        || fail "no nvcc (CUDA toolkit): not on PATH, not in /usr/local/cuda/bin, no CUDA_HOME"
    export MODELDECK_LLAMA_BACKEND=cuda  # what the runner would choose here anyway; forced so a miss is loud
fi
[ -z "${LLAMA_SOURCE:-}" ] || export MODELDECK_LLAMA_SOURCE="$LLAMA_SOURCE"
unset MODELDECK_LLAMA_SERVER

echo "== build (or find in the cache) llama-server for this machine"
began=$(date +%s)
binary=$("$PY" -m runner.llama_build | tee /dev/stderr | tail -n 1)
[ -x "$binary" ] || fail "no binary came out of the build"
echo "build: $(( $(date +%s) - began )) s -> $binary"
"$binary" --list-devices || true

echo "== a model through ModelDeck's runner, all layers offloaded, then on the CPU"
"$PY" - "$binary" "${1:-}" <<'PYTHON'
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

sys.path.insert(0, os.getcwd())
from protocol.config import ModelConfig
from protocol.messages import ProcessState, StatusEvent, parse_event
from protocol.status import ModelStatus
from runner.embedded import start_embedded_runner
from tests.tiny_gguf import write_tiny_llama
from protocol.units import format_bytes
from ui.components.card_face import placement_line

BINARY, GIVEN = Path(sys.argv[1]), sys.argv[2]
COMPLETIONS, TOKENS = 3, 128


def nvidia_smi_view(pid: int | None) -> str:
    if shutil.which("nvidia-smi") is None:
        return "nvidia-smi: not here"
    apps = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,process_name,used_memory",
                           "--format=csv,noheader"], capture_output=True, text=True, check=False).stdout
    mine = [line for line in apps.splitlines() if line.split(",")[0].strip() == str(pid)]
    gpus = subprocess.run(["nvidia-smi", "--query-gpu=index,name,memory.used,utilization.gpu",
                           "--format=csv,noheader"], capture_output=True, text=True, check=False).stdout
    return f"nvidia-smi: process {mine or 'not listed'}; GPUs {gpus.strip().splitlines()}"


async def until_status(ws: aiohttp.ClientWebSocketResponse, uid: str) -> ProcessState:
    async with asyncio.timeout(600):  # a big model takes a while to load
        async for message in ws:
            event = parse_event(message.data)
            if isinstance(event, StatusEvent) and event.process.uid == uid and event.process.status in (
                    ModelStatus.RUNNING, ModelStatus.ERROR, ModelStatus.STOPPED):
                return event.process
    raise RuntimeError("the runner's feed ended")


async def run(label: str, config: ModelConfig, runner, session: aiohttp.ClientSession) -> float:
    auth = {"Authorization": f"Bearer {runner.token}"}
    async with session.ws_connect(f"{runner.url}/v1/events?token={runner.token}") as ws:
        reply = await session.post(f"{runner.url}/v1/start", json={"config": config.model_dump(mode="json")},
                                   headers=auth)
        assert (await reply.json())["accepted"], await reply.text()
        state = await until_status(ws, config.uid)
    if state.status is not ModelStatus.RUNNING:
        raise RuntimeError(f"{label}: {state.status}: {state.reason}")
    speeds = []
    for _ in range(COMPLETIONS):
        answer = await session.post(f"http://127.0.0.1:{state.port}/completion",
                                    json={"prompt": "Once upon a time", "n_predict": TOKENS, "temperature": 0},
                                    headers={"Authorization": f"Bearer {state.api_key}"})  # every server has its own key
        speeds.append((await answer.json())["timings"]["predicted_per_second"])
    await asyncio.sleep(1.5)  # one metrics interval, so the card's figures (tok/s, VRAM) are this run's
    snapshot = await (await session.get(f"{runner.url}/v1/snapshot", headers=auth)).json()
    process = ProcessState.model_validate(next(p for p in snapshot["processes"] if p["uid"] == config.uid))
    figures = process.metrics
    print(f"-- {label} (--n-gpu-layers {config.gpu_layers})")
    print(f"   card: {process.status} · {placement_line(process.placement) or 'where: not said'} · "
          f"{figures.tokens_per_second if figures else None} tok/s (last sample) · "
          f"RAM {format_bytes(figures and figures.rss_bytes)} · VRAM {format_bytes(figures and figures.vram_bytes)} (NVML)")
    print(f"   llama-server's own timings: {max(speeds):.1f} tok/s best of {COMPLETIONS} x {TOKENS} tokens")
    print(f"   {nvidia_smi_view(process.pid)}")
    await session.post(f"{runner.url}/v1/stop", json={"uid": config.uid}, headers=auth)
    return max(speeds)


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="modeldeck-gpu-check-") as tmp:
        if GIVEN:
            model = Path(GIVEN).resolve()
        else:
            model = write_tiny_llama(Path(tmp) / "check.gguf", n_embd=1024, n_layer=12, n_head=16, n_head_kv=16,
                                     n_ff=2816)
        print(f"model: {model} ({model.stat().st_size / 1e6:.0f} MB)")
        runner = await start_embedded_runner(llama_server=BINARY, model_dirs=[model.parent], metrics_interval=1.0,
                                             allow_build=False)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
                base = dict(model_path=str(model), ctx_size=2048, batch_size=512)
                gpu = await run("all layers offloaded", ModelConfig(name="gpu-check", gpu_layers=999, **base),
                                runner, session)
                cpu = await run("the CPU", ModelConfig(name="cpu-baseline", gpu_layers=0, **base), runner, session)
            print(f"== generation speed, all layers offloaded / the CPU: {gpu / cpu:.2f}x")
        finally:
            await runner.close()


asyncio.run(main())
PYTHON
