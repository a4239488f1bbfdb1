"""The runner inside another process (the dashboard's): loopback only, a random port and token.

    runner = await start_embedded_runner(llama_server=settings.llama_server,
                                         model_dirs=settings.allowed_model_dirs)
    ... connect to runner.url with runner.token ...
    await runner.stop_models()  # optional: every llama-server stopped, the feed still reporting
    await runner.close()   # stops every llama-server it started, then serving
"""

from __future__ import annotations

import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from protocol.llama_server import LlamaBackend
from runner.binary import BinarySource
from runner.connections import LINGER_S, TRUSTED_IDLE_S, GuardedSite
from runner.process import Timing
from runner.server import GUARD, create_app
from runner.supervisor import Supervisor


@dataclass
class EmbeddedRunner:
    url: str  # e.g. http://127.0.0.1:41234 ; the feed is url + "/v1/events"
    token: str
    supervisor: Supervisor
    _site_runner: web.AppRunner
    _temporary_work_dir: bool = False

    async def stop_models(self) -> None:
        """Stop every model; the feeds stay open and report each one stopped."""
        await self.supervisor.stop_all()

    async def close(self) -> None:
        """Stop every model, then the HTTP server (so clients see the final statuses first)."""
        await self.supervisor.close()
        await self._site_runner.cleanup()
        if self._temporary_work_dir:
            shutil.rmtree(self.supervisor.work_dir, ignore_errors=True)


async def serve(supervisor: Supervisor, token: str, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Open the supervisor and serve it on host:port (0: any free port); returns the bound port."""
    await supervisor.open()
    app = create_app(supervisor, token)
    # Handler cancellation: a client that goes away mid-request (a proxied generation) cancels its handler.
    app_runner = web.AppRunner(app, handle_signals=False, access_log=None, keepalive_timeout=TRUSTED_IDLE_S,
                               lingering_time=LINGER_S, handler_cancellation=True)
    await app_runner.setup()
    sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    site = GuardedSite(app_runner, sock, app[GUARD])
    await site.start()
    return app_runner, int(sock.getsockname()[1])


async def start_embedded_runner(*, llama_server: str | Path | None = None, model_dirs: Iterable[Path] = (),
                                work_dir: Path | None = None, metrics_interval: float = 1.0,
                                token: str | None = None, allow_build: bool = True,
                                backend: LlamaBackend | None = None, timing: Timing | None = None) -> EmbeddedRunner:
    """Start a runner on 127.0.0.1 with a random free port and a fresh token.

    The llama-server binary is resolved in the background from the start (built for `backend`, or
    for the accelerator found, when allowed and nothing else is found), so the dashboard comes up at
    once even on a fresh machine; start commands meanwhile wait for it. Each server runs in an empty
    folder of its own under `work_dir` (default: a temporary folder, removed at close).
    """
    token = token or secrets.token_urlsafe(32)
    temporary = work_dir is None
    binary = BinarySource(llama_server, allow_build=allow_build, backend=backend)
    supervisor = Supervisor(binary, work_dir=work_dir or Path(tempfile.mkdtemp(prefix="modeldeck-runner-")),
                            allowed_dirs=tuple(model_dirs), metrics_interval=metrics_interval, timing=timing)
    app_runner, port = await serve(supervisor, token, "127.0.0.1", 0)
    return EmbeddedRunner(url=f"http://127.0.0.1:{port}", token=token, supervisor=supervisor,
                          _site_runner=app_runner, _temporary_work_dir=temporary)
