"""llama-server's output, line by line: level parsing, a bounded buffer, and why a server died.

llama-server writes ``0.00.021.653 I srv  llama_server: ...`` (levels I, W, E, D) once its logger
is up; argument errors come earlier as plain ``error: ...`` lines, which count as E here.
"""

from __future__ import annotations

import re
import signal
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import cast

from protocol.messages import LogLevel, LogLine, Placement

MAX_LINE_CHARS = 4000
_PREFIXED = re.compile(r"^\s*\d+\.\d+\.\d+\.\d+ ([IWED]) (.*)$")
_USING_DEVICE = re.compile(r"using device (\S+) \(([^)]*)\)")
_OFFLOADED = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")


def parse_line(raw: str, at: datetime | None = None) -> LogLine:
    """One output line as a LogLine; the timestamp prefix is dropped (`at` carries the time)."""
    raw = raw.rstrip("\r\n")[:MAX_LINE_CHARS]
    at = at or datetime.now(UTC)
    match = _PREFIXED.match(raw)
    if match:
        return LogLine(at=at, level=cast(LogLevel, match.group(1)), text=match.group(2))
    lowered = raw.lstrip().lower()
    level: LogLevel = "E" if lowered.startswith(("error", "fatal", "terminate called")) else "?"
    return LogLine(at=at, level=level, text=raw)


def read_placement(text: str, placement: Placement | None) -> Placement | None:
    """Where the model goes, from the lines llama-server logs while loading it: ``using device CUDA0 (NVIDIA
    H200) ...`` per GPU and ``offloaded 33/33 layers to GPU`` (a build without GPU offload prints neither)."""
    if "using device " in text and (match := _USING_DEVICE.search(text)):
        placement = placement or Placement()
        return placement.model_copy(update={"devices": [*placement.devices, f"{match.group(1)} ({match.group(2)})"]})
    if "offloaded " in text and (match := _OFFLOADED.search(text)):
        placement = placement or Placement()
        return placement.model_copy(update={"layers_offloaded": int(match.group(1)),
                                            "layers_total": int(match.group(2))})
    return placement


class LogBuffer:
    """The last `maxlen` lines of one model; old lines fall off so memory stays bounded."""

    def __init__(self, maxlen: int = 2000) -> None:
        self._lines: deque[LogLine] = deque(maxlen=maxlen)

    def append(self, line: LogLine) -> None:
        self._lines.append(line)

    def tail(self, limit: int) -> list[LogLine]:
        if limit <= 0:
            return []
        return list(self._lines)[-limit:]

    def clear(self) -> None:
        self._lines.clear()


_FAREWELLS = ("exiting due to", "main: exiting")
_WRAPPERS = ("failed to load model", "error loading model", "encountered an error while trying")


def exit_reason(lines: Iterable[LogLine], returncode: int | None) -> str:
    """Why a server stopped, for a person: its last error line, else the signal, else its last words."""
    lines = list(lines)
    errors = [" ".join(line.text.split()) for line in lines if line.level == "E" and line.text.strip()]
    errors = [text for text in errors if not any(g in text for g in _FAREWELLS)]
    if errors:
        # llama.cpp logs a cascade: the cause first (a gguf or bind error), then wrappers up the
        # call stack; the last wrapper names the file. "cause (last wrapper)" says both.
        causes = [text for text in errors if not any(w in text for w in _WRAPPERS)]
        cause, last = (causes or errors)[0], errors[-1]
        return cause if cause == last else f"{cause} ({last})"
    if returncode is not None and returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    words = [line.text.strip() for line in lines if line.text.strip()]
    if words:
        return words[-1]
    return f"exited with code {returncode}"
