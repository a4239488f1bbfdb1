"""The narrow interface through which the store asks a runner to start, stop or forget a model."""

from __future__ import annotations

from typing import Protocol

from protocol import ModelConfig
from protocol.flags import FlagCatalog
from protocol.messages import CommandReply, PolicyCommand


class RunnerControl(Protocol):
    async def start(self, config: ModelConfig) -> CommandReply: ...

    async def stop(self, uid: str) -> CommandReply: ...

    async def forget(self, uid: str) -> CommandReply: ...

    async def policy(self, command: PolicyCommand) -> CommandReply:
        """A running model's restart policy, changed without a restart (refused by a runner before version 7)."""
        ...

    async def build_log(self, limit: int) -> tuple[list[str], str | None]:
        """The last lines of the runner's llama-server build, or why they cannot be had."""
        ...

    async def flags(self) -> FlagCatalog | None: ...


class NoRunner:
    """Used until a runner is connected: every command is refused, nothing pretends to run."""

    async def start(self, config: ModelConfig) -> CommandReply:
        return CommandReply(accepted=False, reason="the runner is not connected")

    async def stop(self, uid: str) -> CommandReply:
        return CommandReply(accepted=False, reason="the runner is not connected")

    async def forget(self, uid: str) -> CommandReply:
        return CommandReply(accepted=False, reason="the runner is not connected")

    async def policy(self, command: PolicyCommand) -> CommandReply:
        return CommandReply(accepted=False, reason="the runner is not connected")

    async def build_log(self, limit: int) -> tuple[list[str], str | None]:
        return [], "the runner is not connected"

    async def flags(self) -> FlagCatalog | None:
        return None
