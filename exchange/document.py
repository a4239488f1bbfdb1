"""ModelDeck's own export: a versioned JSON document of configurations, without secrets.

```json
{"format": "modeldeck-configurations", "version": 1, "exported_at": "2026-01-31T12:00:00+00:00",
 "configurations": [{"uid": "3f2a...", "name": "qwen", "model_path": "/srv/models/qwen.gguf", ...}]}
```
Each configuration carries every field of ModelConfig but `updated_at` (the importing database sets it).
A configuration holds no secrets by design (the allowlist refuses `--api-key`, `--hf-token` and such
variables), but one saved before the allowlist might: those values are left out of the export, and the
configuration lists what was left out in `secrets_left_out`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from exchange.candidates import Candidate, UnreadableFile
from protocol import ModelConfig

FORMAT = "modeldeck-configurations"
VERSION = 1
MODELS_MAX = 5000  # per file; a thousand configurations import in a second or two
SECRET_FLAGS = frozenset({"--api-key", "--api_key", "--hf-token", "--hf_token", "-hft"})
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|CREDENTIAL", re.IGNORECASE)
LEFT_OUT = "secrets_left_out"


def export_document(configs: Iterable[ModelConfig], exported_at: datetime) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "exported_at": exported_at.isoformat(),
            "configurations": [_exported(config) for config in configs]}


def _exported(config: ModelConfig) -> dict[str, Any]:
    values = config.model_dump(mode="json", exclude={"updated_at"})
    left_out: list[str] = []
    kept: list[str] = []
    args = iter(values["extra_args"])
    for arg in args:
        if arg in SECRET_FLAGS:
            left_out.append(arg)
            next(args, None)  # its value
        else:
            kept.append(arg)
    values["extra_args"] = kept
    left_out += [name for name in values["env"] if SECRET_NAME.search(name)]
    values["env"] = {name: value for name, value in values["env"].items() if not SECRET_NAME.search(name)}
    if left_out:
        values[LEFT_OUT] = left_out
    return values


def is_document(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def read_document(data: dict[str, Any]) -> list[Candidate]:
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UnreadableFile("the export has no valid format version")
    if version > VERSION:
        raise UnreadableFile(f"the export was written by a newer ModelDeck (format version {version}); this one "
                             f"reads version {VERSION}")
    listed = data.get("configurations")
    if not isinstance(listed, list):
        raise UnreadableFile('the export has no list of "configurations"')
    if len(listed) > MODELS_MAX:
        raise UnreadableFile(f"the export lists {len(listed)} configurations; at most {MODELS_MAX} can be imported "
                             "at once")
    candidates = []
    for index, item in enumerate(listed):
        if not isinstance(item, dict):
            candidates.append(Candidate(f"configurations[{index}]", refused="not a configuration (an object)"))
            continue
        values = {name: value for name, value in item.items() if name not in {LEFT_OUT, "updated_at"}}
        candidate = Candidate(f"configurations[{index}]", values)
        left_out = item.get(LEFT_OUT)
        if isinstance(left_out, list) and left_out:
            candidate.notes.append(f"left out of the export as secrets: {', '.join(map(str, left_out))[:200]}")
        candidates.append(candidate)
    return candidates
