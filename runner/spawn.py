"""Start a process with subprocess.Popen and watch it from whichever event loop runs the runner.

Why not asyncio.create_subprocess_exec: the dashboard runs on uvloop, whose spawn knows neither
`process_group` (the lifeline needs it) nor CPython's vfork path, and on CPython 3.11 asyncio starts a
thread per child to wait for it. Popen spawns synchronously (vfork, well under a millisecond), so
the server is already starting when this returns; its output is read through the loop's pipe
transport, and its exit is seen through a pidfd (Linux 5.3+) on the loop, or a waiting thread
elsewhere. Both loops support both.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO


class Child:
    """A started process: `output` (stdout and stderr merged, when asked for), `wait()`, signals."""

    def __init__(self, popen: subprocess.Popen[bytes], output: asyncio.StreamReader | None,
                 exited: asyncio.Future[int]) -> None:
        self._popen = popen
        self.output = output
        self._exited = exited

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        """The exit code (negative: the signal that ended it) once the loop has seen the exit."""
        return self._exited.result() if self._exited.done() else None

    @property
    def stdin(self) -> IO[bytes] | None:
        return self._popen.stdin

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    def send_signal(self, sig: signal.Signals) -> None:
        """Signal the process unless it has been reaped (its pid may already be someone else's)."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._popen.send_signal(sig)


async def spawn(args: Sequence[str], *, group: int | None, env: dict[str, str] | None = None,
                cwd: Path | None = None, capture_output: bool = False, stdin_pipe: bool = False) -> Child:
    """Start `args` (a list, never a shell) in process group `group` (0: a new group it leads; None: ours).

    Raises OSError when the process cannot start (no such file, setpgid refused, ...)."""
    loop = asyncio.get_running_loop()
    popen = subprocess.Popen(  # noqa: ASYNC220 - a vfork spawn takes well under a millisecond
        args, stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture_output else None, stderr=subprocess.STDOUT if capture_output else None,
        env=env, cwd=cwd, process_group=group)
    exited = _watch_exit(loop, popen)
    output: asyncio.StreamReader | None = None
    if popen.stdout is not None:
        output = asyncio.StreamReader()
        reader = output
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), popen.stdout)
        except BaseException:  # nobody would watch it: it must not run on
            popen.kill()
            raise
    return Child(popen, output, exited)


def _watch_exit(loop: asyncio.AbstractEventLoop, popen: subprocess.Popen[bytes]) -> asyncio.Future[int]:
    """A future of the exit code; the process is reaped as soon as it exits."""
    exited: asyncio.Future[int] = loop.create_future()

    def settle(code: int) -> None:
        if not exited.done():
            exited.set_result(code)

    try:
        pidfd = os.pidfd_open(popen.pid)
    except (AttributeError, OSError):  # no pidfd here: a thread waits instead
        threading.Thread(target=lambda: loop.call_soon_threadsafe(settle, popen.wait()), daemon=True,
                         name=f"wait {popen.pid}").start()
        return exited

    def readable() -> None:  # a pidfd turns readable once the process has exited
        loop.remove_reader(pidfd)
        os.close(pidfd)
        settle(popen.wait())

    loop.add_reader(pidfd, readable)
    return exited
