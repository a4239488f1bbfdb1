"""Commands to a runner over HTTP; every failure is a refused reply with a reason, never an exception."""

from __future__ import annotations

import aiohttp
from pydantic import ValidationError

from protocol import ModelConfig
from protocol.flags import FlagCatalog
from protocol.messages import BuildLogReply, CommandReply, ModelCommand, PolicyCommand, StartCommand

COMMAND_TIMEOUT = aiohttp.ClientTimeout(total=10)


class RunnerClient:
    """Implements store.runner_control.RunnerControl against a runner's HTTP API."""

    def __init__(self, base_url: str, token: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.headers = {"Authorization": f"Bearer {token}"}

    async def _post(self, path: str, body: str) -> CommandReply:
        try:
            async with self.session.post(f"{self.base_url}{path}", data=body, headers=self.headers,
                                         timeout=COMMAND_TIMEOUT) as response:
                text = await response.text()
                if response.status == 401:
                    return CommandReply(accepted=False, reason="the runner refused our token")
                return CommandReply.model_validate_json(text)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return CommandReply(accepted=False, reason=f"the runner is unreachable ({exc.__class__.__name__})")
        except ValidationError:
            return CommandReply(accepted=False, reason="the runner sent an answer we do not understand")

    async def start(self, config: ModelConfig) -> CommandReply:
        return await self._post("/v1/start", StartCommand(config=config).model_dump_json())

    async def stop(self, uid: str) -> CommandReply:
        return await self._post("/v1/stop", ModelCommand(uid=uid).model_dump_json())

    async def forget(self, uid: str) -> CommandReply:
        return await self._post("/v1/forget", ModelCommand(uid=uid).model_dump_json())

    async def policy(self, command: PolicyCommand) -> CommandReply:
        return await self._post("/v1/policy", command.model_dump_json())

    async def build_log(self, limit: int) -> tuple[list[str], str | None]:
        try:
            async with self.session.get(f"{self.base_url}/v1/server/build-log", params={"limit": str(limit)},
                                        headers=self.headers, timeout=COMMAND_TIMEOUT) as response:
                if response.status != 200:
                    return [], f"the runner answered {response.status}"
                return BuildLogReply.model_validate_json(await response.read()).lines, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return [], f"the runner is unreachable ({exc.__class__.__name__})"
        except ValidationError:
            return [], "the runner sent an answer we do not understand"

    async def flags(self) -> FlagCatalog | None:
        """The runner's llama-server flags and ModelDeck's decision on each; None while it cannot say
        (no binary built yet, unreachable, an answer we do not understand)."""
        try:
            async with self.session.get(f"{self.base_url}/v1/flags", headers=self.headers,
                                        timeout=COMMAND_TIMEOUT) as response:
                if response.status != 200:
                    return None
                return FlagCatalog.model_validate_json(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValidationError):
            return None
