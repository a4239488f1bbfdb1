"""Tie every llama-server's life to the runner's: when the runner dies, even by kill -9, its servers die.

Two lifelines, so that no single helper process is the only one (kill -9 of the runner together with its
keeper, as `pkill -9 -f runner` does, left every server running when the keeper was the only one):

1. The kernel. Each server is started behind util-linux's `setpriv --pdeathsig KILL`, which sets
   PR_SET_PDEATHSIG and then execs llama-server (the setting survives that exec): the kernel SIGKILLs
   the server when the thread that spawned it ends. That thread is the event loop's (spawn.py spawns
   on the loop), so the server dies when the runner's process does, whoever kills it and whatever
   else dies with it. Never spawn a server from a worker thread: its end would kill the server.
2. The keeper. A small process (keeper.py) leads a process group and holds the read end of a pipe
   whose only write end stays in the runner; when the runner dies, the kernel closes that end, the
   keeper reads EOF and SIGKILLs its group. Each server is spawned straight into that group
   (`process_group=`: setpgid happens in the child before exec). It covers the instant in which
   setpriv has not yet set its death signal: until its exec the child holds a copy of the pipe's
   write end (close-on-exec), so the keeper cannot see EOF before the child is in the group.

Only if the runner and its keeper both die within the millisecond in which a server is being spawned
can that one server be left. Without setpriv (not util-linux) the keeper alone remains, with a warning.

Why not prctl(PR_SET_PDEATHSIG) in a preexec_fn: any preexec_fn makes subprocess fork instead of
vfork and run Python in the child, about 8 ms in the dashboard's large process against 1 ms without,
a third of a tiny model's whole start. setpriv is one more exec on the vfork path, and process_group
keeps that path. The group is also outside the terminal's foreground group, so a Ctrl-C reaches the
runner, which stops its servers.

If the keeper itself is killed, the servers keep their first lifeline (its loss is logged); the next
spawn starts a new keeper.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from runner.spawn import Child, spawn

log = logging.getLogger(__name__)

KEEPER = Path(__file__).with_name("keeper.py")


@functools.cache
def _death_signal_prefix() -> tuple[str, ...]:
    """The words that start a program with PR_SET_PDEATHSIG set to SIGKILL; empty where setpriv cannot."""
    setpriv = shutil.which("setpriv")
    usage = subprocess.run([setpriv, "--help"], capture_output=True, text=True, check=False).stdout if setpriv else ""
    if setpriv and "--pdeathsig" in usage:
        return (setpriv, "--pdeathsig", "KILL", "--")
    log.warning("util-linux's setpriv with --pdeathsig is missing: a llama-server would outlive a runner "
                "killed together with its keeper")
    return ()


class Lifeline:
    """The keeper process of one supervisor; `group()` is the process group to spawn servers into."""

    def __init__(self) -> None:
        self._prefix = _death_signal_prefix()
        self._keeper: Child | None = None
        self._watch: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        """A keeper is running (then `group()` returns at once)."""
        return self._keeper is not None and self._keeper.returncode is None

    def tied(self, args: Sequence[str]) -> list[str]:
        """`args` started so that the kernel kills the program when the spawning thread (the loop's) ends."""
        return [*self._prefix, *args]

    async def group(self) -> int:
        """The keeper's process group id, starting a keeper when there is none alive."""
        async with self._lock:
            if not self.alive:
                self._keeper = await spawn([sys.executable, "-I", "-S", str(KEEPER)], group=0, stdin_pipe=True)
                self._watch = asyncio.create_task(self._watch_keeper(self._keeper))
            assert self._keeper is not None
            return self._keeper.pid

    async def _watch_keeper(self, keeper: Child) -> None:
        code = await keeper.wait()
        if keeper is self._keeper:  # not a close(): somebody killed it
            log.error("the lifeline keeper exited (%s); servers started before now have only the kernel's "
                      "lifeline left until the next start", code)

    async def close(self) -> None:
        """End the keeper (call once the servers are stopped): closing the pipe is its signal."""
        keeper, self._keeper = self._keeper, None
        if keeper is None:
            return
        assert keeper.stdin is not None
        keeper.stdin.close()
        await keeper.wait()
        if self._watch is not None:
            await self._watch
