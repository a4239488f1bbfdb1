"""The runner's llama-server as the dashboard knows it: found, being built (how far), or missing and why.

Every page's frame shows a build in progress or a failed one; the dashboard's About panel shows the
binary, its version, backend and devices. The state is replaced whole with each runner event.
"""

from __future__ import annotations

from collections.abc import Callable

from nicegui import binding

from protocol.messages import LlamaServerInfo
from store.errors import StoreError
from store.runner_control import RunnerControl


@binding.bindable_dataclass
class LlamaServerState:
    info: LlamaServerInfo | None = None  # None until the runner has said (or a version 1 runner never does)


class LlamaServer:
    def __init__(self, runner: Callable[[], RunnerControl]) -> None:
        self.state = LlamaServerState()
        self._runner = runner  # asked at each call: the runner link changes it

    def arrived(self, info: LlamaServerInfo | None) -> None:
        """The runner's news (its snapshot or a server event)."""
        self.state.info = info

    async def build_lines(self, limit: int = 200) -> list[str]:
        """The build's last lines, fetched from the runner when a person asks for them."""
        lines, problem = await self._runner().build_log(limit)
        if problem is not None:
            raise StoreError(f"the build's lines could not be fetched: {problem}")
        return lines
