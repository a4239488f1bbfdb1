"""A llama-server models preset (`--models-preset`, INI) read as configurations.

Each section is one model named by the section; `[*]` holds defaults for every section (a section's own keys
win). A key is a flag without its dashes, long or short (`ctx-size`, `c`), or the flag's environment
variable (`LLAMA_ARG_CTX_SIZE`); a switch takes true/false (`jinja = true`). The presets' own keys:
`load-on-startup` is autostart, `stop-timeout` has no counterpart. A section without a `model` names a model
in llama-server's download cache, which ModelDeck does not use: refused. Keys become the same command line
a person could type, read as one (exchange.command_line).
"""

from __future__ import annotations

import configparser
import re
from typing import Any

from exchange.candidates import Candidate, ImportFile, UnreadableFile
from exchange.command_line import OFF, ON, NotLlamaServer, read_command_line
from exchange.document import MODELS_MAX
from protocol.flags import FlagCatalog, FlagSpec

FORMAT = "llama-server preset"
DEFAULTS = "*"
PREAMBLE = "\x00preamble"  # keys before the first section (`version = 1`)
ENV_OF_FLAG = re.compile(r"\(env: (LLAMA_ARG_\w+)\)")
SECTION = re.compile(r"^\s*\[[^\]\n]+\]\s*$", re.MULTILINE)


def looks_like_presets(text: str) -> bool:
    """A [section] line before anything that is not a comment, a blank line or `key = value`."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith((";", "#")):
            continue
        if SECTION.match(line):
            return True
        if "=" not in stripped or stripped.startswith(("-", "{", "[")):
            return False
    return False


def _parser(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(delimiters=("=",), comment_prefixes=(";", "#"),
                                          inline_comment_prefixes=(";",), strict=True, interpolation=None,
                                          default_section="\x00none")
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # LLAMA_ARG_* keep their case
    try:
        parser.read_string(f"[{PREAMBLE}]\n{text}")
    except configparser.Error as exc:
        raise UnreadableFile(f"not a valid preset file: {str(exc).splitlines()[0][:200]}") from None
    return parser


def _flag_of(key: str, catalog: FlagCatalog, by_env: dict[str, FlagSpec]) -> tuple[str, FlagSpec] | None:
    if key in by_env:
        return by_env[key].canonical, by_env[key]
    for spelled in (f"--{key}", f"-{key}"):
        if (spec := catalog.find(spelled)) is not None:
            return spelled, spec
    return None


def _arguments(settings: dict[str, str], catalog: FlagCatalog, by_env: dict[str, FlagSpec],
               candidate: Candidate) -> list[str]:
    argv: list[str] = []
    for key, value in settings.items():
        if key == "load-on-startup":
            candidate.values["autostart"] = value.strip().casefold() in ON
            continue
        if key == "stop-timeout":
            candidate.notes.append("stop-timeout not imported: ModelDeck stops a server within 10 s")
            continue
        found = _flag_of(key, catalog, by_env)
        if found is None:
            raise ValueError(f"unknown key {key[:64]!r}: llama-server {catalog.short_version} has no --{key[:64]}")
        flag, spec = found
        if spec.values:
            argv += [flag, value]
        elif value.strip().casefold() in ON:
            argv.append(flag)
        elif value.strip().casefold() in OFF:
            negation = next((name for name in spec.names if name.startswith("--no-")), None)
            if negation is not None:
                argv.append(negation)
        else:
            raise ValueError(f"{key[:64]} is a switch: write true or false, not {value[:32]!r}")
    return argv


def read_presets(text: str, catalog: FlagCatalog) -> ImportFile:
    parser = _parser(text)
    sections = [name for name in parser.sections() if name not in {PREAMBLE, DEFAULTS}]
    if len(sections) > MODELS_MAX:
        raise UnreadableFile(f"the file lists {len(sections)} models; at most {MODELS_MAX} can be imported at once")
    version = parser.get(PREAMBLE, "version", fallback="1").strip()
    if version != "1":
        raise UnreadableFile(f"the preset file is version {version[:16]}; ModelDeck reads version 1")
    defaults = dict(parser.items(DEFAULTS)) if parser.has_section(DEFAULTS) else {}
    by_env = {match.group(1): spec for spec in catalog.flags if (match := ENV_OF_FLAG.search(spec.help))}
    candidates = []
    for name in sections:
        candidate = Candidate(f"[{name}]"[:200], {"name": name})
        settings: dict[str, Any] = {**defaults, **dict(parser.items(name))}
        try:
            line = read_command_line(_arguments(settings, catalog, by_env, candidate), catalog)
            if "model_path" not in line.values:
                raise ValueError("no model file: it names a model from llama-server's download cache, which "
                                 "ModelDeck does not use (add model = /full/path/to/file.gguf)")
        except (ValueError, NotLlamaServer) as exc:
            candidate.refused = str(exc)
        else:
            candidate.values.update(line.values)
            candidate.notes += line.notes
        candidates.append(candidate)
    return ImportFile(FORMAT, candidates)
