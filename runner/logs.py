"""llama-server's output, line by line: level parsing, a bounded buffer, and why a server died.

llama-server writes ``0.00.021.653 I srv  llama_server: ...`` (levels I, W, E, D) once its logger
is up; argument errors come earlier as plain ``error: ...`` lines, which count as E here. The runner
adds lines of its own to a model's log (``ModelDeck: stopped (SIGTERM) after 12 ms``), with a level.
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

OWN_PREFIX = "ModelDeck: "

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


def own_line(text: str, level: LogLevel = "I") -> LogLine:
    """A line ModelDeck itself writes into a model's log: what it did to the server, or saw it do."""
    return LogLine(at=datetime.now(UTC), level=level, text=OWN_PREFIX + text)


def duration(seconds: float) -> str:
    """`12 ms`, `1.2 s`, `3 min 5 s`: as a person reads how long something took."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def signal_name(returncode: int) -> str:
    """`SIGKILL` for a return code of -9."""
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def how_it_ended(returncode: int | None) -> str:
    """`exit code 0`, or `ended by SIGTERM` when the signal's default action ended it (one that lands
    before llama-server installs its handler, just as /health turns 200)."""
    if returncode is None:
        return "exit status unknown"
    return f"ended by {signal_name(returncode)}" if returncode < 0 else f"exit code {returncode}"


def exit_line(returncode: int | None, ran_s: float) -> LogLine:
    """What the runner writes when a server ends without being asked to."""
    ran = f"after running {duration(ran_s)}"
    if returncode is None:
        return own_line(f"llama-server ended {ran}", "E")
    if returncode < 0:
        return own_line(f"llama-server was killed by {signal_name(returncode)} {ran}", "E")
    if returncode == 0:
        return own_line(f"llama-server exited on its own (code 0) {ran}")
    return own_line(f"llama-server exited with code {returncode} {ran}", "E")


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
    """Why a server stopped, for a person: its last error line, else the signal, else its last words
    (its own: what the runner wrote beside them says nothing new)."""
    lines = [line for line in lines if not line.text.startswith(OWN_PREFIX)]
    errors = [" ".join(line.text.split()) for line in lines if line.level == "E" and line.text.strip()]
    errors = [text for text in errors if not any(g in text for g in _FAREWELLS)]
    if errors:
        # llama.cpp logs a cascade: the cause first (a gguf or bind error), then wrappers up the
        # call stack; the last wrapper names the file. "cause (last wrapper)" says both.
        causes = [text for text in errors if not any(w in text for w in _WRAPPERS)]
        cause, last = (causes or errors)[0], errors[-1]
        return cause if cause == last else f"{cause} ({last})"
    if returncode is not None and returncode < 0:
        return f"killed by signal {signal_name(returncode).removeprefix('signal ')}"
    words = [line.text.strip() for line in lines if line.text.strip()]
    if words:
        return words[-1]
    return f"exited with code {returncode}"
