"""Runner protocol messages (version 7): HTTP commands and their replies, WebSocket events.

Both sides validate with these models; an invalid message is logged and dropped. Every event
carries a sequence number per runner connection so a gap is noticed and repaired by a snapshot.
See docs/protocol.md for examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from protocol.config import ModelConfig, RestartPolicy
from protocol.llama_server import BuildStage, LlamaBackend, ServerPhase
from protocol.status import ModelStatus

LogLevel = Literal["I", "W", "E", "D", "?"]  # llama-server's own letters; "?" for a line without one

# 2: the llama-server binary's state (`server` in the snapshot, `server` events);
# 3: GET /v1/flags; a start with a refused argument or variable gets 409;
# 4: ProcessState.api_key, and the proxy route to a model's own server (the gateway);
# 5: a pending restart is its own field (ProcessState.restart), no longer a note in the reason;
# 6: ModelConfig.unload_when_idle_s (the gateway's idle unload);
# 7: POST /v1/policy: a running model's restart policy, changed without a restart
PROTOCOL_VERSION = 7
MAX_FRAME_BYTES = 4 * 1024 * 1024  # a larger WebSocket frame is refused by both sides
LAST_LINES = 50


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- commands (HTTP POST bodies) and replies ---------------------------------------------------

class StartCommand(_Message):
    config: ModelConfig


class ModelCommand(_Message):
    """stop, restart and forget name the model by its uid."""

    uid: str = Field(pattern=r"^[0-9a-f]{32}$")


class PolicyCommand(_Message):
    """A running model's restart policy and limit, applied to its run in progress (the next exit)."""

    uid: str = Field(pattern=r"^[0-9a-f]{32}$")
    restart_policy: RestartPolicy
    restart_limit: int = Field(ge=0, le=100)


class CommandReply(_Message):
    accepted: bool
    reason: str | None = None


# ---- state carried by events -------------------------------------------------------------------

class MetricsSample(_Message):
    """Live figures of one llama-server; None where the server did not say."""

    at: datetime
    tokens_per_second: float | None = None
    prompt_tokens_per_second: float | None = None
    requests_processing: int | None = None
    requests_deferred: int | None = None
    busy_slots: int | None = None
    total_slots: int | None = None
    tokens_predicted_total: int | None = None
    prompt_tokens_total: int | None = None
    kv_cache_usage: float | None = None
    rss_bytes: int | None = None
    cpu_percent: float | None = None
    vram_bytes: int | None = None


class Placement(_Message):
    """Where a model's weights went, from llama-server's own log: the devices it used, the layers on a GPU."""

    devices: list[str] = Field(default_factory=list)  # e.g. "CUDA0 (NVIDIA H200)"; empty: the CPU only
    layers_offloaded: int | None = None  # None: a build without GPU offload (it logs no such line)
    layers_total: int | None = None


class PendingRestart(_Message):
    """The runner starts the model again in `delay_s` (restart policy on-failure): attempt `attempt` of `limit`."""

    delay_s: float
    attempt: int
    limit: int

    @property
    def note(self) -> str:
        return f"restarting in {self.delay_s:.1f} s (attempt {self.attempt} of {self.limit})"


class ProcessState(_Message):
    """What the runner knows of one supervised model."""

    uid: str
    name: str
    status: ModelStatus
    pid: int | None = None
    port: int | None = None
    started_at: datetime | None = None
    exit_code: int | None = None
    reason: str | None = None
    last_lines: list[str] = Field(default_factory=list)
    restarts: int = 0
    metrics: MetricsSample | None = None
    placement: Placement | None = None  # once the server has loaded its model
    restart: PendingRestart | None = None  # with `error`: the runner will start it again
    # The server's own key for this spawn: only the runner and the dashboard's gateway hold it.
    api_key: str | None = None


class GpuSample(_Message):
    index: int
    name: str
    utilization_percent: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    temperature_c: float | None = None
    power_watts: float | None = None


@dataclass(frozen=True)
class GpuTotals:
    """A host's GPUs folded into one: mean utilisation, summed memory and power, the hottest temperature.
    None where no GPU said (or there is none)."""

    utilization_percent: float | None
    memory_used_bytes: int | None
    memory_total_bytes: int | None
    temperature_c: float | None
    power_watts: float | None


class HostSample(_Message):
    at: datetime
    cpu_percent: float
    ram_used_bytes: int
    ram_total_bytes: int
    disk_used_bytes: int | None = None
    disk_total_bytes: int | None = None
    gpus: list[GpuSample] = Field(default_factory=list)

    def gpu_totals(self) -> GpuTotals:
        utilisations = [g.utilization_percent for g in self.gpus if g.utilization_percent is not None]
        used = [g.memory_used_bytes for g in self.gpus if g.memory_used_bytes is not None]
        total = [g.memory_total_bytes for g in self.gpus if g.memory_total_bytes is not None]
        temperatures = [g.temperature_c for g in self.gpus if g.temperature_c is not None]
        power = [g.power_watts for g in self.gpus if g.power_watts is not None]
        return GpuTotals(sum(utilisations) / len(utilisations) if utilisations else None,
                         sum(used) if used else None, sum(total) if total else None,
                         max(temperatures) if temperatures else None, sum(power) if power else None)


class LogLine(_Message):
    at: datetime
    level: LogLevel = "?"
    text: str


class BuildProgress(_Message):
    """A llama-server build from source, as it goes: `step` of `steps` come from the build's own lines."""

    stage: BuildStage
    started_at: datetime
    elapsed_s: float = Field(ge=0)
    step: int | None = None  # Ninja's [56/208]; None with make, which prints only a percentage
    steps: int | None = None
    percent: float | None = Field(default=None, ge=0, le=100)  # of the compile; None before it starts
    remaining_s: float | None = None  # the estimate, once some steps are done
    last_line: str = ""


class LlamaServerInfo(_Message):
    """The runner's llama-server: where it is (or why there is none), what it runs on, a build in progress."""

    phase: ServerPhase
    path: str | None = None
    found_by: str | None = None  # "the --llama-server setting", "MODELDECK_LLAMA_SERVER", "PATH", "the cache", ...
    version: str | None = None
    devices: list[str] = Field(default_factory=list)  # from `llama-server --list-devices`; empty: the CPU only
    backend: LlamaBackend  # what a build here is (or was) for
    backend_reason: str = ""  # why that backend: the tools found, or the setting that forced it
    build: BuildProgress | None = None  # while building, and after a failed build
    reason: str | None = None  # why there is no llama-server (phase failed)

    @property
    def waiting_reason(self) -> str:
        """What a model that waits for this binary says meanwhile."""
        if self.phase is ServerPhase.BUILDING and self.build is not None:
            done = self.build.percent
            return f"llama-server is being built ({self.build.stage.value if done is None else f'{done:.0f} %'})"
        return "looking for llama-server"


class BuildLogReply(_Message):
    """GET /v1/server/build-log: the last lines of the current (or last) build, oldest first."""

    lines: list[str]


class LogsReply(_Message):
    """GET /v1/logs/{uid}: the last lines the runner keeps for one model, oldest first."""

    uid: str
    lines: list[LogLine]


# ---- events (WebSocket frames, JSON) -----------------------------------------------------------

class _Event(_Message):
    seq: int = Field(ge=0)


class SnapshotEvent(_Event):
    type: Literal["snapshot"] = "snapshot"
    protocol: int = PROTOCOL_VERSION
    runner_id: str
    processes: list[ProcessState]
    host: HostSample | None = None
    server: LlamaServerInfo | None = None  # None from a version 1 runner


class StatusEvent(_Event):
    type: Literal["status"] = "status"
    process: ProcessState


class MetricsEvent(_Event):
    type: Literal["metrics"] = "metrics"
    uid: str
    sample: MetricsSample


class LogEvent(_Event):
    """Lines are batched per model so a chatty server costs few frames."""

    type: Literal["log"] = "log"
    uid: str
    lines: list[LogLine]


class HostEvent(_Event):
    type: Literal["host"] = "host"
    sample: HostSample


class ServerEvent(_Event):
    """The llama-server binary changed: found, building (about once a second and at each step), ready or failed."""

    type: Literal["server"] = "server"
    info: LlamaServerInfo


Event = Annotated[SnapshotEvent | StatusEvent | MetricsEvent | LogEvent | HostEvent | ServerEvent,
                  Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(frame: str | bytes) -> Event:
    """Validate one WebSocket frame; raises pydantic.ValidationError on anything malformed."""
    return EVENT_ADAPTER.validate_json(frame)
