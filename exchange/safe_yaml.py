"""YAML read with PyYAML's safe loader, within limits: a small file cannot become a large one.

`safe_load` builds no Python objects from tags, but it still follows anchors and aliases: nine lines of
"billion laughs" (each alias list repeating the one before) describe 10^9 strings, which anything that walks
the document (a validator, a JSON encoder) would visit one by one. So the document is first composed into
its node graph, measured (nesting depth, aliases, and the nodes a walk would visit with every alias
expanded, which a memo counts in time linear in the graph), and constructed only within the limits.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from exchange.candidates import UnreadableFile

DEPTH_MAX = 32
ALIASES_MAX = 100
EXPANDED_NODES_MAX = 200_000  # a thousand models of a hundred values each stays far below this


class _CountingLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases as it composes and refuses nesting past DEPTH_MAX."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > ALIASES_MAX:
                raise UnreadableFile(f"the YAML uses more than {ALIASES_MAX} aliases (*name): refused as a "
                                     "possible alias bomb")
        self.depth += 1
        try:
            if self.depth > DEPTH_MAX:
                raise UnreadableFile(f"the YAML is nested more than {DEPTH_MAX} levels deep")
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


def _expanded_size(root: Node) -> int:
    """How many nodes a walk visits with every alias expanded; UnreadableFile past the limit or on a cycle."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in visiting:
            raise UnreadableFile("the YAML refers to itself (an alias inside its own anchor)")
        visiting.add(id(node))
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(key) + size(value) for key, value in node.value)
        visiting.discard(id(node))
        if total > EXPANDED_NODES_MAX:
            raise UnreadableFile(f"the YAML expands to more than {EXPANDED_NODES_MAX:,} values through its aliases: "
                                 "refused as a possible alias bomb")
        sizes[id(node)] = total
        return total

    return size(root)


def load_yaml(text: str) -> Any:
    """The one document in `text`; UnreadableFile with the reason when it is not YAML or passes a limit."""
    loader = _CountingLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UnreadableFile(f"not valid YAML{at}: {str(problem)[:200]}") from None
    except RecursionError:
        raise UnreadableFile(f"the YAML is nested more than {DEPTH_MAX} levels deep") from None
    finally:
        loader.dispose()
