"""Which kind of file this is, read within limits: ModelDeck's JSON, llama-swap's YAML or a llama-server preset.

The kind is told by the content type when it names one (JSON, YAML, INI), else by the content itself. Before
any parsing the file must be at most FILE_MAX bytes of UTF-8 text; JSON and YAML are then refused past
DEPTH_MAX levels of nesting (YAML's aliases are bounded too: exchange.safe_yaml).
"""

from __future__ import annotations

import json
from typing import Any

from exchange.candidates import ImportFile, UnreadableFile
from exchange.document import is_document, read_document
from exchange.llama_swap import is_llama_swap, read_llama_swap
from exchange.presets import looks_like_presets, read_presets
from exchange.safe_yaml import DEPTH_MAX, load_yaml
from protocol.flags import FlagCatalog

FILE_MAX = 4 * 1024 * 1024  # a thousand configurations are about 1 MB of JSON
JSON_TYPES = frozenset({"application/json"})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
INI_TYPES = frozenset({"text/x-ini", "application/x-ini", "text/ini"})
KINDS = ("ModelDeck's own export (JSON), a llama-swap config.yaml, or a llama-server models preset (INI)")


def _text(data: bytes) -> str:
    if len(data) > FILE_MAX:
        raise UnreadableFile(f"the file is {len(data) / 1024 / 1024:.1f} MiB; at most {FILE_MAX // 1024 // 1024} MiB "
                             "can be imported")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(f"the file is not text (UTF-8); ModelDeck reads {KINDS}") from None
    if "\x00" in text:
        raise UnreadableFile(f"the file is not text (it holds NUL bytes); ModelDeck reads {KINDS}")
    return text


def _depth(data: Any) -> int:
    """How deeply containers nest (iteratively: a deep document cannot exhaust the stack here)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > DEPTH_MAX:
                break
            stack += [(child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _json(text: str) -> Any:
    try:
        data = json.loads(text)
    except RecursionError:
        raise UnreadableFile(f"the JSON is nested more than {DEPTH_MAX} levels deep") from None
    except ValueError as exc:
        raise UnreadableFile(f"not valid JSON: {exc}") from None
    if _depth(data) > DEPTH_MAX:
        raise UnreadableFile(f"the JSON is nested more than {DEPTH_MAX} levels deep")
    return data


def read_import(data: bytes, content_type: str | None, catalog: FlagCatalog) -> ImportFile:
    """Every model the file describes, as candidates; UnreadableFile (with the reason) when the file as a whole
    cannot be read."""
    text = _text(data)
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in INI_TYPES or (kind not in JSON_TYPES | YAML_TYPES and looks_like_presets(text)):
        return read_presets(text, catalog)
    if kind in JSON_TYPES or (kind not in YAML_TYPES and text.lstrip().startswith("{")):
        document = _json(text)
    else:
        document = load_yaml(text)
    if is_document(document):
        return ImportFile("modeldeck", read_document(document))
    if is_llama_swap(document):
        return read_llama_swap(document, catalog)
    raise UnreadableFile(f"this is not a configuration file ModelDeck knows; it reads {KINDS}")
