"""Standalone runner: ``python -m runner --host H --port P --token T [--llama-server PATH] [--model-dir DIR ...]
[--work-dir DIR]``.

Runs until SIGINT or SIGTERM, then stops every llama-server it started. Without --token (or
MODELDECK_RUNNER_TOKEN) a fresh token is generated and printed once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
from collections.abc import Sequence
from pathlib import Path

import uvloop

from protocol.llama_server import LlamaBackend
from runner.binary import BinarySource
from runner.embedded import serve
from runner.supervisor import Supervisor

log = logging.getLogger("runner")
DEFAULT_WORK_DIR = Path("~/.cache/modeldeck/runner").expanduser()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m runner", description="ModelDeck runner: supervises llama-server")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument("--token", default=os.environ.get("MODELDECK_RUNNER_TOKEN"),
                        help="bearer token clients must send (MODELDECK_RUNNER_TOKEN; default: generated)")
    parser.add_argument("--llama-server", type=Path, default=None, help="llama-server binary")
    parser.add_argument("--model-dir", type=Path, action="append", default=[], dest="model_dirs",
                        help="allowed model folder, repeatable (none given: no folder check)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR,
                        help=f"each llama-server runs in an empty folder of its own under this one "
                             f"(default {DEFAULT_WORK_DIR})")
    parser.add_argument("--metrics-interval", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--no-build", action="store_true", help="never build llama-server from source")
    parser.add_argument("--llama-backend", type=LlamaBackend, choices=list(LlamaBackend),
                        default=os.environ.get("MODELDECK_LLAMA_BACKEND") or None,
                        help="build llama-server for this backend (MODELDECK_LLAMA_BACKEND; default: what is found)")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    token = args.token or secrets.token_urlsafe(32)
    binary = BinarySource(args.llama_server, allow_build=not args.no_build, backend=args.llama_backend)
    supervisor = Supervisor(binary, work_dir=args.work_dir.expanduser().resolve(), allowed_dirs=tuple(args.model_dirs),
                            metrics_interval=args.metrics_interval)
    app_runner, port = await serve(supervisor, token, args.host, args.port)
    # The first line is machine-readable so a parent process (or a test) can find the port.
    print(f"runner listening on http://{args.host}:{port}", flush=True)
    if not args.token:
        print(f"token: {token}", flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    try:
        await done.wait()
    finally:
        log.info("stopping every model")
        await supervisor.close()
        await app_runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvloop.run(run(args))  # the loop the dashboard runs on (uvicorn's choice), so one spawn path is tested


if __name__ == "__main__":
    main()
