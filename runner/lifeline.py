"""Tie every llama-server's life to the runner's: when the runner dies, even by kill -9, its servers die.

Why a keeper process: a SIGKILLed runner runs no cleanup (no atexit, no finally, no signal handler).
A small keeper (keeper.py) leads a process group and holds the read end of a pipe whose only write
end stays in the runner; when the runner dies, by any means, the kernel closes that end, the keeper
reads EOF and SIGKILLs its group. Each llama-server is spawned straight into that group
(`process_group=`: setpgid happens in the child before exec). There is no window in which a
runner's death leaves one behind: until its exec the child holds a copy of the pipe's write end
(close-on-exec), so the keeper cannot see EOF before the child is in the group. A wrapper such as
`setpriv --pdeathsig` would leave one, as it sets its lifeline only once it runs.

Why not prctl(PR_SET_PDEATHSIG) in a preexec_fn: any preexec_fn makes subprocess fork instead of
vfork and run Python in the child, about 8 ms in the dashboard's large process against 1 ms without,
a third of a tiny model's whole start. process_group keeps the vfork path. The group is also
outside the terminal's foreground group, so a Ctrl-C reaches the runner, which stops its servers.

If the keeper itself is killed, servers started before stay up without a lifeline (logged); the next
spawn starts a new keeper.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from runner.spawn import Child, spawn

log = logging.getLogger(__name__)

KEEPER = Path(__file__).with_name("keeper.py")


class Lifeline:
    """The keeper process of one supervisor; `group()` is the process group to spawn servers into."""

    def __init__(self) -> None:
        self._keeper: Child | None = None
        self._watch: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        """A keeper is running (then `group()` returns at once)."""
        return self._keeper is not None and self._keeper.returncode is None

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
            log.error("the lifeline keeper exited (%s); servers started before now would outlive a crash "
                      "of the runner", code)

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
