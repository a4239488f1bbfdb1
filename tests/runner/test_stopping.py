"""Stopping when the first SIGTERM is lost.

llama-server drops a SIGTERM that lands between installing its handler and starting its loop, just
after /health turns 200, and a real server cannot be made to hit that window on demand. So the
"llama-server" here is a stub with exactly that fault: /health answers 200, the first SIGTERM is
lost, the second ends it. Asked for --help or --version it answers as the real binary does, so the
runner knows its flags. Stopping a real server is tested in test_lifecycle.py.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from protocol.config import ModelConfig
from protocol.messages import LogEvent
from protocol.status import ModelStatus
from runner.process import Timing
from tests.processes import gone
from tests.runner.conftest import RunnerClient, serving

LOSES_FIRST_SIGTERM = """\
import http.server, os, signal, sys

if sys.argv[1:] in (["--help"], ["--version"]):
    os.execv(REAL, [REAL, *sys.argv[1:]])
port = int(sys.argv[sys.argv.index("--port") + 1])
terms = []

def on_sigterm(signum, frame):
    terms.append(signum)
    if len(terms) == 2:  # like llama-server: a second signal ends it at once
        os._exit(1)

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass

signal.signal(signal.SIGTERM, on_sigterm)
print("main: server is listening", flush=True)
http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""


@pytest.fixture
async def stub_runner(tmp_path: Path, llama_server_binary: Path) -> AsyncIterator[RunnerClient]:
    stub = tmp_path / "llama-server"
    stub.write_text(f"#!{sys.executable}\nREAL = {str(llama_server_binary)!r}\n{LOSES_FIRST_SIGTERM}")
    stub.chmod(0o755)
    # A SIGKILL would come only after a minute: a stop that ends sooner was ended by the second SIGTERM.
    async with serving(stub, tmp_path, Timing(term_again_s=0.3, stop_timeout_s=60)) as client:
        yield client


async def test_a_lost_sigterm_is_sent_again_rather_than_waiting_for_the_kill(
        stub_runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    feed = await stub_runner.feed()
    config = model_config()
    assert (await stub_runner.start(config))["accepted"] is True
    pid = (await feed.status(config.uid, ModelStatus.RUNNING)).pid
    assert pid is not None

    assert (await stub_runner.stop(config.uid))["accepted"] is True
    await feed.status(config.uid, ModelStatus.STOPPED, within=5)
    assert gone(pid)
    said = [(line.level, line.text) for event in feed.seen if isinstance(event, LogEvent) and event.uid == config.uid
            for line in event.lines if line.text.startswith("ModelDeck: ")]
    assert ("W", "ModelDeck: still up 300 ms after SIGTERM: sending another") in said
    assert said[-1][0] == "W" and said[-1][1].startswith("ModelDeck: stopped (a second SIGTERM) after "), said
