"""Host figures: CPU, RAM, disk (psutil) and NVIDIA GPUs (nvidia-ml-py), when there are any.

NVML is optional: without the library, the driver or a GPU, samples simply have no GPU entries.
Every NVML call may raise NVMLError (a GPU can fall off the bus); a failing figure becomes None.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psutil

from protocol.messages import GpuSample, HostSample

log = logging.getLogger(__name__)
T = TypeVar("T")


class Nvml:
    """A lazily initialised NVML; `available` is False when there is no NVIDIA GPU to talk to."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._tried = False

    @property
    def available(self) -> bool:
        if not self._tried:
            self._tried = True
            try:
                import pynvml  # noqa: PLC0415 - optional: most hosts have no NVIDIA driver

                pynvml.nvmlInit()
                self._nvml = pynvml
            except Exception as exc:  # ImportError, NVMLError (no driver, no GPU), OSError...
                log.info("no NVIDIA GPU figures: %s", exc)
                self._nvml = None
        return self._nvml is not None

    @staticmethod
    def _try(call: Callable[..., T], *args: Any) -> T | None:
        try:
            return call(*args)
        except Exception:  # NVMLError_NotSupported and friends: that figure is unknown
            return None

    def gpus(self) -> list[GpuSample]:
        if not self.available:
            return []
        nv = self._nvml
        count = self._try(nv.nvmlDeviceGetCount) or 0
        samples = []
        for index in range(count):
            handle = self._try(nv.nvmlDeviceGetHandleByIndex, index)
            if handle is None:
                continue
            name = self._try(nv.nvmlDeviceGetName, handle) or f"GPU {index}"
            rates = self._try(nv.nvmlDeviceGetUtilizationRates, handle)
            util = getattr(rates, "gpu", None)
            mem = self._try(nv.nvmlDeviceGetMemoryInfo, handle)
            temp = self._try(nv.nvmlDeviceGetTemperature, handle, nv.NVML_TEMPERATURE_GPU)
            power = self._try(nv.nvmlDeviceGetPowerUsage, handle)
            samples.append(GpuSample(
                index=index, name=name if isinstance(name, str) else name.decode(),
                utilization_percent=float(util) if util is not None else None,
                memory_used_bytes=int(mem.used) if mem is not None else None,
                memory_total_bytes=int(mem.total) if mem is not None else None,
                temperature_c=float(temp) if temp is not None else None,
                power_watts=power / 1000.0 if power is not None else None))
        return samples

    def vram_by_pid(self) -> dict[int, int]:
        """Bytes of GPU memory per process, summed over GPUs, where the driver reports it."""
        if not self.available:
            return {}
        nv = self._nvml
        usage: dict[int, int] = {}
        for index in range(self._try(nv.nvmlDeviceGetCount) or 0):
            handle = self._try(nv.nvmlDeviceGetHandleByIndex, index)
            if handle is None:
                continue
            procs = self._try(nv.nvmlDeviceGetComputeRunningProcesses, handle) or []
            for proc in procs:
                used = getattr(proc, "usedGpuMemory", None)
                if isinstance(used, int) and used >= 0:
                    usage[proc.pid] = usage.get(proc.pid, 0) + used
        return usage

    def close(self) -> None:
        if self._nvml is not None:
            self._try(self._nvml.nvmlShutdown)
            self._nvml = None


class HostSampler:
    """One HostSample per call; CPU% is measured since the previous call (psutil keeps the state)."""

    def __init__(self, disk_path: Path | str = "/", nvml: Nvml | None = None) -> None:
        self.disk_path = Path(disk_path)
        self.nvml = nvml or Nvml()
        psutil.cpu_percent(interval=None)  # prime: the first reading is meaningless otherwise

    def sample(self) -> HostSample:
        memory = psutil.virtual_memory()
        try:
            disk = psutil.disk_usage(str(self.disk_path))
            disk_used, disk_total = int(disk.used), int(disk.total)
        except OSError:
            disk_used = disk_total = None  # type: ignore[assignment]
        return HostSample(at=datetime.now(UTC), cpu_percent=psutil.cpu_percent(interval=None),
                          ram_used_bytes=int(memory.total - memory.available), ram_total_bytes=int(memory.total),
                          disk_used_bytes=disk_used, disk_total_bytes=disk_total, gpus=self.nvml.gpus())
