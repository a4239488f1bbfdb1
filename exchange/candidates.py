"""What a reader gives the store: each model as the file describes it, before any check of ModelDeck's own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (not a format ModelDeck knows, too large, nested too deeply...)."""


@dataclass
class Candidate:
    """One model: `values` are ModelConfig fields (not yet validated), `notes` what was left out or read
    differently (for the preview), `refused` why it cannot be imported at all."""

    source: str  # where in the file it is, as its author would name it: "models.llama", "[qwen]"
    values: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    refused: str | None = None

    @property
    def name(self) -> str:
        name = self.values.get("name")
        return name.strip() if isinstance(name, str) else ""

    def tidy_aliases(self) -> None:
        """Leave out aliases that repeat the name or one another (llama-swap and `--alias` allow that; a
        configuration does not), saying so."""
        aliases = self.values.get("aliases")
        if not isinstance(aliases, list):
            return
        kept: list[Any] = []
        seen = {self.name.casefold()}
        for alias in aliases:
            folded = alias.casefold() if isinstance(alias, str) else alias
            if folded in seen:
                self.notes.append(f"alias {str(alias)[:64]!r} left out: it repeats the name or another alias")
            else:
                seen.add(folded)
                kept.append(alias)
        self.values["aliases"] = kept


@dataclass
class ImportFile:
    format: str  # "modeldeck", "llama-swap", "llama-server preset"
    candidates: list[Candidate]
    notes: list[str] = field(default_factory=list)  # about the file as a whole (settings with no counterpart)
