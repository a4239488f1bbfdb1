"""Server-side settings, from command-line flags with MODELDECK_* environment variables as defaults.

Nothing here can be changed from a browser: the llama-server binary and the model folders are
chosen by whoever starts ModelDeck.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from protocol.llama_server import LlamaBackend


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 8080
    data_dir: Path = Path("data")
    model_dirs: tuple[Path, ...] = ()
    llama_server: Path | None = None
    llama_backend: LlamaBackend | None = None  # None: build for the accelerator found
    runner_url: str | None = None  # None: run the embedded runner on loopback
    runner_token: str | None = None
    open_on_loopback: bool = True
    history_days: float = 7.0  # metrics, host samples, log lines and crashes older than this are removed
    log_lines_per_model: int = 10_000  # kept in the database; the newest win
    new_database: bool = False  # begin with an empty database where one was kept but has gone missing
    start_timeout: float = 120.0  # seconds a gateway request waits for its model to start
    # How often the model folders are looked at for new, changed or removed files; a look at 1,000 files
    # costs a few hundredths of a second of one core (bench/discovery_scan.py).
    rescan_s: float = 5.0
    max_running: int | None = None  # the most models running at once (None: as many as fit)
    queue_limit: int = 64  # gateway requests that may wait for one model; more get 429

    @property
    def db_path(self) -> Path:
        return self.data_dir / "modeldeck.sqlite3"

    @property
    def runner_work_dir(self) -> Path:
        """The embedded runner's folder: each llama-server runs in an empty runner/<uid> of its own."""
        return (self.data_dir / "runner").resolve()

    @property
    def allowed_model_dirs(self) -> tuple[Path, ...]:
        return self.model_dirs or (self.data_dir / "models",)


DEFAULT = Settings()  # each default is stated once, above; the flags and the environment start from it


def _env(name: str) -> str | None:
    """MODELDECK_<name>; None when unset or empty."""
    return os.environ.get(f"MODELDECK_{name}") or None


def _on(value: str | None, default: bool) -> bool:
    return default if value is None else value.lower() not in {"0", "false", "no", "off"}


def _count(text: str) -> int:
    """A whole number >= 0, or a clear error from argparse (which also reads string defaults, the environment's,
    through it)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(prog="modeldeck", description="ModelDeck: manage llama-server models")
    parser.add_argument("--host", default=_env("HOST") or DEFAULT.host, help="bind address (MODELDECK_HOST)")
    parser.add_argument("--port", type=int, default=int(_env("PORT") or DEFAULT.port), help="MODELDECK_PORT")
    parser.add_argument("--data-dir", type=Path, default=Path(_env("DATA_DIR") or DEFAULT.data_dir),
                        help="database, secrets and default model folder (MODELDECK_DATA_DIR)")
    parser.add_argument("--model-dir", action="append", type=Path, dest="model_dirs",
                        help="an allowed model folder, repeatable (MODELDECK_MODEL_DIRS, ':'-separated)")
    parser.add_argument("--llama-server", type=Path, default=_env("LLAMA_SERVER") or DEFAULT.llama_server,
                        help="path of the llama-server binary (MODELDECK_LLAMA_SERVER)")
    parser.add_argument("--llama-backend", type=LlamaBackend, choices=list(LlamaBackend),
                        default=_env("LLAMA_BACKEND") or DEFAULT.llama_backend,
                        help="build llama-server for this backend when it has to be built (MODELDECK_LLAMA_BACKEND; "
                             "default: CUDA, ROCm, Vulkan or Metal when found, else the CPU)")
    parser.add_argument("--runner-url", default=_env("RUNNER_URL") or DEFAULT.runner_url,
                        help="use a standalone runner at this URL instead of the embedded one")
    parser.add_argument("--runner-token", default=_env("RUNNER_TOKEN") or DEFAULT.runner_token,
                        help="token of that runner")
    parser.add_argument("--open-on-loopback", action=argparse.BooleanOptionalAction,
                        default=_on(_env("OPEN_ON_LOOPBACK"), DEFAULT.open_on_loopback),
                        help="bound to loopback, skip sign-in: everyone on this machine is admin "
                             "(MODELDECK_OPEN_ON_LOOPBACK; default on)")
    parser.add_argument("--history-days", type=float, default=float(_env("HISTORY_DAYS") or DEFAULT.history_days),
                        help="keep metrics history, logs and crashes this many days (MODELDECK_HISTORY_DAYS)")
    parser.add_argument("--log-lines-per-model", type=int,
                        default=int(_env("LOG_LINES_PER_MODEL") or DEFAULT.log_lines_per_model),
                        help="log lines kept in the database per model (MODELDECK_LOG_LINES_PER_MODEL)")
    parser.add_argument("--new-database", action="store_true",
                        default=_on(_env("NEW_DATABASE"), DEFAULT.new_database),
                        help="where a database was kept but has gone missing, begin with an empty one instead of "
                             "refusing to start (MODELDECK_NEW_DATABASE)")
    parser.add_argument("--start-timeout", type=float, default=float(_env("START_TIMEOUT") or DEFAULT.start_timeout),
                        help="seconds a gateway request waits for its model to start (MODELDECK_START_TIMEOUT)")
    parser.add_argument("--rescan-seconds", type=float, default=float(_env("RESCAN_SECONDS") or DEFAULT.rescan_s),
                        help="look at the model folders for new files this often (MODELDECK_RESCAN_SECONDS)")
    parser.add_argument("--max-running", type=_count, default=_env("MAX_RUNNING") or "0",
                        help="the most models running at once; an on-demand start beyond it first stops the least "
                             "recently used idle model (MODELDECK_MAX_RUNNING; default 0: no limit but the memory)")
    parser.add_argument("--queue-limit", type=_positive, default=_env("QUEUE_LIMIT") or str(DEFAULT.queue_limit),
                        help="gateway requests that may wait for one model; beyond it 429 (MODELDECK_QUEUE_LIMIT)")
    args = parser.parse_args(argv)
    model_dirs = args.model_dirs or [Path(p) for p in (_env("MODEL_DIRS") or "").split(":") if p] or DEFAULT.model_dirs
    return Settings(host=args.host, port=args.port, data_dir=args.data_dir, model_dirs=tuple(model_dirs),
                    llama_server=args.llama_server, llama_backend=args.llama_backend, runner_url=args.runner_url,
                    runner_token=args.runner_token, open_on_loopback=args.open_on_loopback,
                    history_days=args.history_days, log_lines_per_model=args.log_lines_per_model,
                    new_database=args.new_database, start_timeout=args.start_timeout,
                    rescan_s=max(args.rescan_seconds, 0.1), max_running=args.max_running or None,
                    queue_limit=args.queue_limit)
