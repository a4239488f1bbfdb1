"""llama-server's flags as its `--help` lists them, with ModelDeck's reviewed decision on each.

The runner reads the catalog from the binary it runs (runner.flag_catalog), marks every flag with
the reviewed policy (protocol.flag_policy) and serves it at GET /v1/flags; the dashboard checks a
form against the same catalog, so both give the same answer (protocol.launch_check).
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property

from pydantic import BaseModel, ConfigDict


class ValueKind(StrEnum):
    """What a flag's value is, read from its hint in `--help` (N, FNAME, URL, {a,b}...)."""

    NUMBER = "number"  # N, SEED, N0,N1,...: numbers, or a word the help offers in quotes ('auto', 'all')
    CHOICE = "choice"  # {none,linear,yarn}, [on|off|auto], <0|1>
    FILE = "file"  # FNAME, FILE, PATH, DIR, *_FILE: must lie inside an allowed model folder
    URL = "url"  # URL, *_URL: a network destination
    TEXT = "text"  # anything else (a template name, a tensor pattern, a device list)


NUMBER_HINTS = frozenset({"N", "SEED", "INDEX", "P", "L", "SECONDS", "SIMILARITY", "START", "END", "ALPHA"})
_NUMBER_LIST = re.compile(r"(?:[A-Za-z]+0,[A-Za-z]+1,(?:[A-Za-z]+2,)?\.\.\.)|<\d+\.\.\.\d+>")
_CHOICES = re.compile(r"\{([\w.+-]+(?:,[\w.+-]+)+)\}|\[([\w.+-]+(?:\|[\w.+-]+)+)\]|<([\w.+-]+(?:\|[\w.+-]+)+)>")
_FILE_HINT = re.compile(r"^(FNAME|FILE|PATH|DIR)\b|_(FILE|PATH|DIR)$")
_URL_HINT = re.compile(r"(^|_)URL$")


def value_kind(hint: str) -> ValueKind:
    if _FILE_HINT.search(hint):
        return ValueKind.FILE
    if _URL_HINT.search(hint):
        return ValueKind.URL
    if _CHOICES.fullmatch(hint):
        return ValueKind.CHOICE
    if hint in NUMBER_HINTS or _NUMBER_LIST.fullmatch(hint):
        return ValueKind.NUMBER
    return ValueKind.TEXT


def choices(hint: str) -> tuple[str, ...]:
    """The values a CHOICE hint allows: '{none,linear,yarn}' -> ('none', 'linear', 'yarn')."""
    match = _CHOICES.fullmatch(hint)
    if match is None:
        return ()
    listed = next(group for group in match.groups() if group)
    return tuple(re.split(r"[,|]", listed))


class FlagSpec(BaseModel):
    """One option of llama-server: every spelling, its value hints, its help, and the reviewed decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    names: tuple[str, ...]  # as --help lists them: '-c', '--ctx-size'; switches with their '--no-' forms
    values: tuple[str, ...] = ()  # value hints ('N'); empty for a switch, two for 'START END'
    help: str = ""
    category: str = ""  # the reviewed category's label; empty: nobody has reviewed this flag yet
    refusal: str | None = None  # why ModelDeck refuses it ("it runs programs or tools"); None: allowed

    @property
    def canonical(self) -> str:
        """The first long spelling: the name the policy and the messages use."""
        return next((name for name in self.names if name.startswith("--")), self.names[0])

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def kinds(self) -> tuple[ValueKind, ...]:
        return tuple(value_kind(hint) for hint in self.values)

    @property
    def quoted_words(self) -> frozenset[str]:
        """Words the help offers in quotes ('auto', 'all'): a NUMBER flag accepts them too."""
        return frozenset(re.findall(r"'([a-z]+)'", self.help))


class FlagCatalog(BaseModel):
    """GET /v1/flags: what the runner's llama-server accepts and what ModelDeck lets a configuration use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str  # llama-server's own words ("0.6.0-dev (build 0, commit unknown)"), for messages
    flags: tuple[FlagSpec, ...]
    env: dict[str, str]  # environment variables a configuration may set, with what each does

    @cached_property
    def _by_name(self) -> dict[str, FlagSpec]:
        return {name: spec for spec in self.flags for name in spec.names}

    def find(self, arg: str) -> FlagSpec | None:
        """The flag `arg` names, read as llama-server reads it: '_' counts as '-' in a long flag."""
        return self._by_name.get(arg.replace("_", "-") if arg.startswith("--") else arg)

    @property
    def short_version(self) -> str:
        """'0.6.0-dev' or the build number, for "llama-server 11434 has no --foo"."""
        build = re.search(r"\(build (\d+)", self.version)
        return build.group(1) if build and build.group(1) != "0" else self.version.split(" ", 1)[0]
