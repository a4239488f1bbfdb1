"""What a model's answer says about its own cost: tokens in and out, cached prompt tokens, speed.

llama-server puts OpenAI's `usage` (when asked for it) and its own `timings` (always) in a whole answer
and in the last event of a stream. The proxy keeps only a stream's last few chunks and reads them once
the stream has ended, so parsing never slows the stream.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    tokens_per_second: float | None = None  # generation speed, as llama-server measured it


NOTHING = Usage()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def usage_of(answer: Any) -> Usage:
    """From one JSON object (a whole answer or a stream's event); timings win over usage where both say."""
    if not isinstance(answer, dict):
        return NOTHING
    usage, timings = _dict(answer.get("usage")), _dict(answer.get("timings"))
    details = _dict(usage.get("prompt_tokens_details"))
    cached = _int(timings.get("cache_n"))
    prompt_n = _int(timings.get("prompt_n"))
    prompt = prompt_n + (cached or 0) if prompt_n is not None else _int(usage.get("prompt_tokens"))
    if prompt is None:
        prompt = _int(usage.get("input_tokens"))  # /v1/messages speaks Anthropic
    completion = _int(timings.get("predicted_n"))
    if completion is None:
        completion = _int(usage.get("completion_tokens")) or _int(usage.get("output_tokens"))
    return Usage(prompt_tokens=prompt, completion_tokens=completion,
                 cached_tokens=cached if cached is not None else _int(details.get("cached_tokens")),
                 tokens_per_second=_float(timings.get("predicted_per_second")))


def usage_of_body(body: bytes) -> Usage:
    try:
        return usage_of(orjson.loads(body))
    except orjson.JSONDecodeError:
        return NOTHING


def usage_of_stream_tail(chunks: Iterable[bytes]) -> Usage:
    """From the last events of a server-sent stream: the newest event that says anything wins."""
    for line in reversed(b"".join(chunks).split(b"\n")):
        if not line.startswith(b"data:") or (b'"timings"' not in line and b'"usage"' not in line):
            continue
        try:
            found = usage_of(orjson.loads(line[5:]))
        except orjson.JSONDecodeError:
            continue  # the oldest kept chunk may begin mid-event
        if found != NOTHING:
            return found
    return NOTHING
