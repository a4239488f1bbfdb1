"""A llama-swap `config.yaml` read as configurations (llama-swap's documented format, config.example.yaml).

Each entry of `models` is one configuration named by its key (the model ID clients ask for). Its `cmd` is
read with its macros expanded: the file's `macros`, the model's own (which win), `${MODEL_ID}`, and
`${PORT}`, which becomes ModelDeck's automatic port. `${env.NAME}` is refused rather than read: it would take
a value from the environment of the machine ModelDeck runs on, which a file from elsewhere must not reach.
`aliases` (plain strings or `{id: ...}`) become aliases, `env` ("NAME=value" strings) the environment,
`ttl` the idle unload, `name` and `description` the notes. A key llama-swap does not document is refused.
"""

from __future__ import annotations

import re
from typing import Any

from exchange.candidates import Candidate, ImportFile, UnreadableFile
from exchange.command_line import AUTO_PORT, NotLlamaServer, read_command_line, split_command_line
from exchange.document import MODELS_MAX
from protocol.flags import FlagCatalog

FORMAT = "llama-swap"
MACRO = re.compile(r"\$\{([^}]*)\}")
MACRO_NAME = re.compile(r"[a-zA-Z0-9_-]{1,63}")
RESERVED = frozenset({"PORT", "MODEL_ID", "PID"})
EXPANSIONS_MAX = 10_000  # characters a command may grow to through its macros
MACRO_DEPTH_MAX = 16
# Everything llama-swap documents for a model, and what ModelDeck does with the ones it has no use for.
READ = frozenset({"cmd", "name", "description", "aliases", "env", "ttl", "macros"})
IGNORED_SILENTLY = frozenset({"proxy", "checkEndpoint", "metadata", "timeouts"})  # llama-swap's own plumbing
NOT_IMPORTED = frozenset({"cmdStop", "useModelName", "filters", "concurrencyLimit", "unlisted", "sendLoadingState"})
FILE_SETTINGS_NOT_IMPORTED = ("groups", "matrix", "hooks", "peers", "apiKeys", "startPort", "healthCheckTimeout")


class Refused(ValueError):
    """This model cannot be imported; the message says why."""


def is_llama_swap(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("models"), dict)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _macros(raw: Any, where: str, inherited: dict[str, str]) -> dict[str, str]:
    """Macro name -> its text, unexpanded: a macro is expanded where a model uses it, so one that cannot be
    (`${env.HOME}`) refuses only the models that use it."""
    if raw is None:
        return dict(inherited)
    if not isinstance(raw, dict):
        raise Refused(f"{where} must map names to values")
    macros = dict(inherited)
    for key, value in raw.items():
        name = str(key)
        if not MACRO_NAME.fullmatch(name) or name in RESERVED:
            raise Refused(f"{name[:64]!r} in {where} is not a macro name llama-swap allows")
        if isinstance(value, dict | list) or value is None:
            raise Refused(f"the macro {name} in {where} must be a string, number or boolean")
        macros[name] = _scalar(value)
    return macros


def _expand(text: str, macros: dict[str, str], model_id: str) -> str:
    """`text` with every macro replaced; each macro is expanded once, and no text may grow past
    EXPANSIONS_MAX characters (a macro repeating another a thousand times, ten levels deep, stops at once)."""
    expanded: dict[str, str] = {}

    def expand(text: str, depth: int) -> str:
        if depth > MACRO_DEPTH_MAX:
            raise Refused(f"its macros refer to macros more than {MACRO_DEPTH_MAX} levels deep (or to themselves)")
        size = 0

        def one(match: re.Match[str]) -> str:
            nonlocal size
            piece = _value_of(match.group(1), depth)
            size += len(piece) - len(match.group(0))
            if len(text) + size > EXPANSIONS_MAX:
                raise Refused(f"its command grows past {EXPANSIONS_MAX:,} characters through its macros")
            return piece

        return MACRO.sub(one, text)

    def _value_of(name: str, depth: int) -> str:
        if name.startswith("env."):
            raise Refused(f"${{{name[:64]}}} reads the environment of the machine llama-swap ran on; write the "
                          "value itself instead")
        if name == "PORT":
            return AUTO_PORT
        if name == "MODEL_ID":
            return model_id
        if name not in macros:
            raise Refused(f"${{{name[:64]}}} is not a macro this file defines")
        if name not in expanded:
            expanded[name] = expand(macros[name], depth + 1)
        return expanded[name]

    return expand(text, 0)


def _aliases(raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Refused("aliases must be a list")
    aliases = []
    for item in raw:
        alias = item.get("id") if isinstance(item, dict) else item
        if not isinstance(alias, str | int) or isinstance(alias, bool):
            raise Refused("each alias must be a name, or {id: name}")
        aliases.append(str(alias))
    return aliases


def _env(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise Refused('env must be a list of "NAME=value" strings')
    env = {}
    for item in raw:
        name, equals, value = str(item).partition("=")
        if not equals:
            raise Refused(f"{str(item)[:64]!r} in env is not NAME=value")
        env[name.strip()] = value
    return env


def _model(model_id: str, entry: Any, macros: dict[str, str], ttl_default: int, catalog: FlagCatalog) -> Candidate:
    candidate = Candidate(f"models.{model_id}"[:200], {"name": model_id})
    try:
        if not isinstance(entry, dict):
            raise Refused("a model must be a mapping of settings (cmd: ...)")
        unknown = sorted(set(map(str, entry)) - READ - IGNORED_SILENTLY - NOT_IMPORTED)
        if unknown:
            raise Refused(f"unknown key {unknown[0][:64]!r}: llama-swap documents no such model setting")
        cmd = entry.get("cmd")
        if not isinstance(cmd, str) or not cmd.strip():
            raise Refused("it has no cmd")
        own = _macros(entry.get("macros"), f"models.{model_id}.macros", macros)
        line = read_command_line(split_command_line(_expand(cmd, own, model_id)), catalog)
    except (Refused, NotLlamaServer, ValueError) as exc:
        candidate.refused = str(exc)
        return candidate
    values, notes = candidate.values, candidate.notes
    values.update(line.values)
    notes += line.notes
    try:
        values["aliases"] = [*values.get("aliases", []), *_aliases(entry.get("aliases"))]
        values["env"] = _env(entry.get("env"))
    except Refused as exc:
        candidate.refused = str(exc)
        return candidate
    described = [str(entry[key]).strip() for key in ("name", "description") if entry.get(key)]
    if described:
        values["notes"] = "\n".join(described)
    ttl = entry.get("ttl", -1)
    ttl = ttl_default if ttl in (-1, None) else ttl
    if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl > 0:  # llama-swap's 0: never unloaded
        values["unload_when_idle_s"] = ttl  # out of range: the plan refuses it with the field's message
    ignored = sorted(key for key in map(str, entry) if key in NOT_IMPORTED)
    if ignored:
        notes.append(f"not imported (ModelDeck has no such setting): {', '.join(ignored)}")
    return candidate


def read_llama_swap(data: dict[str, Any], catalog: FlagCatalog) -> ImportFile:
    models: dict[Any, Any] = data["models"]
    if len(models) > MODELS_MAX:
        raise UnreadableFile(f"the file lists {len(models)} models; at most {MODELS_MAX} can be imported at once")
    notes = [f"{key} not imported: ModelDeck has no such setting" for key in FILE_SETTINGS_NOT_IMPORTED
             if data.get(key)]
    ttl_default = data.get("globalTTL", 0)
    try:
        macros = _macros(data.get("macros"), "macros", {})
    except Refused as exc:
        raise UnreadableFile(str(exc)) from None
    candidates = [_model(str(model_id), entry, macros, ttl_default if isinstance(ttl_default, int) else 0, catalog)
                  for model_id, entry in models.items()]
    return ImportFile(FORMAT, candidates, notes)
