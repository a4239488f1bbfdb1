"""How far a build is, from its own output: Ninja's ``[56/208] Building ...`` or make's ``[ 27%] Building ...``.

The estimate is the compile's average pace so far applied to what is left; it is shown only once a
few steps are done (the first steps say little about a long build).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from protocol.llama_server import BuildStage
from protocol.messages import BuildProgress

NINJA_STEP = re.compile(r"^\[(\d+)/(\d+)\] ")
MAKE_PERCENT = re.compile(r"^\[\s*(\d{1,3})%\] ")
ESTIMATE_AFTER = 0.02  # of the compile done before there is an estimate
FAILURE = re.compile(r"(?:^|\W)(error|failed)(?:\W|$)", re.IGNORECASE)
MAX_REASON_CHARS = 400


@dataclass(frozen=True)
class Step:
    percent: float
    step: int | None = None
    steps: int | None = None


def parse_step(line: str) -> Step | None:
    """The progress a build line announces, or None when it announces none."""
    if match := NINJA_STEP.match(line):
        step, steps = int(match.group(1)), int(match.group(2))
        if 0 < steps and step <= steps:
            return Step(step * 100 / steps, step, steps)
        return None
    if match := MAKE_PERCENT.match(line):
        percent = int(match.group(1))
        return Step(float(percent)) if percent <= 100 else None
    return None


class BuildTracker:
    """The progress of one build: its stage, the last step seen, and the clock."""

    def __init__(self, clock: float, stage: BuildStage = BuildStage.DOWNLOADING) -> None:
        self.started_at = datetime.now(UTC)
        self._began = clock
        self._compile_began: float | None = None
        self.stage = stage
        self.step: Step | None = None
        self.last_line = ""

    def enter(self, stage: BuildStage, clock: float) -> None:
        self.stage = stage
        if stage is BuildStage.COMPILING:
            self._compile_began = clock

    def line(self, text: str) -> bool:
        """Take one output line; True when it moved the progress."""
        self.last_line = text
        step = parse_step(text) if self.stage is BuildStage.COMPILING else None
        if step is None or (self.step is not None and step.percent <= self.step.percent):
            return False
        self.step = step
        return True

    def progress(self, clock: float) -> BuildProgress:
        percent = self.step.percent if self.step is not None else None
        remaining = None
        if percent is not None and self._compile_began is not None and ESTIMATE_AFTER * 100 <= percent < 100:
            spent = clock - self._compile_began
            remaining = spent * (100 - percent) / percent
        return BuildProgress(stage=self.stage, started_at=self.started_at, elapsed_s=max(clock - self._began, 0.0),
                             step=self.step.step if self.step else None, steps=self.step.steps if self.step else None,
                             percent=percent, remaining_s=remaining, last_line=self.last_line[:500])


def failure_reason(lines: list[str]) -> str | None:
    """The line that says why a build step failed (a compiler's `error:`, `CMake Error at ...` and its message,
    ninja's `FAILED:`, pip's `ERROR:`), or None when no line says."""
    for index, line in enumerate(lines):
        text = line.strip()
        if not FAILURE.search(text) or text.startswith("-- "):  # cmake's "-- Looking for ... - failed" is no error
            continue
        if text.startswith("FAILED:"):  # ninja names the command; the compiler's own error follows
            continue
        if text.endswith(":") and index + 1 < len(lines):  # "CMake Error at CMakeLists.txt:3 (project):"
            following = next((more.strip() for more in lines[index + 1:] if more.strip()), "")
            text = f"{text} {following}"
        return text[:MAX_REASON_CHARS]
    return None
