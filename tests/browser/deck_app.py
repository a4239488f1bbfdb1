"""A real ModelDeck process for browser tests: started like a person would start it, stopped at the end."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).parents[2]
SETUP_LINK = re.compile(r"(http://\S+/setup\?token=\S+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DeckApp:
    """`python main.py ...` in a folder of its own; `url` answers once `start` returns."""

    home: Path
    llama_server: Path | None  # None: none given, as on a first run (found, or built by the runner)
    host: str = "127.0.0.1"
    open_on_loopback: bool = True
    port: int = field(default_factory=free_port)
    data_dir: Path | None = None  # default: home/data
    env: dict[str, str] = field(default_factory=dict)  # set on top of the tests' environment (PATH, ...)
    process: subprocess.Popen[bytes] | None = None
    extra_args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def log_path(self) -> Path:
        return self.home / "modeldeck.log"

    def start(self, within: float = 30.0) -> None:
        self.launch()
        self._wait_until_answering(within)

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the process and return at once (its output goes to `log_path`)."""
        self.models_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, str(ROOT / "main.py"), "--host", self.host, "--port", str(self.port),
                   "--data-dir", str(self.data_dir or self.home / "data"), "--model-dir", str(self.models_dir),
                   *(["--llama-server", str(self.llama_server)] if self.llama_server else []),
                   "--open-on-loopback" if self.open_on_loopback else "--no-open-on-loopback", *self.extra_args]
        env = {key: value for key, value in os.environ.items()  # the app as a person starts it, not under pytest
               if not key.startswith(("MODELDECK_", "PYTEST_", "NICEGUI_"))}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env={**env, **self.env, "PYTHONUNBUFFERED": "1"},
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self.process

    def _wait_until_answering(self, within: float) -> None:
        deadline = time.monotonic() + within
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"ModelDeck exited ({self.process.returncode}):\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/manifest.webmanifest", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"ModelDeck did not answer within {within} s:\n{self.output()}")
            time.sleep(0.1)  # polling the port: the condition is the answer above

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def setup_link(self) -> str:
        """The one-time link for the first admin account, as printed at first start (LAN address swapped)."""
        match = SETUP_LINK.search(self.output())
        assert match, f"no setup link printed:\n{self.output()}"
        return re.sub(r"^http://[^/]+", self.url, match.group(1))

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
