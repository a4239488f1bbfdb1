"""YAML read with PyYAML's safe loader, within limits: a small file cannot become a large one.

`safe_load` builds no Python objects from tags, but it still follows anchors and aliases: nine lines of
"billion laughs" (each alias list repeating the one before) describe 10^9 strings, which anything that walks
the document (a validator, a JSON encoder) would visit one by one. So the document is first composed into
its node graph, measured (nesting depth, aliases, and the nodes a walk would visit with every alias
expanded, which a memo counts in time linear in the graph), and constructed only within the limits. Nesting
and aliases are counted from the parser's events before the graph is composed.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from exchange.candidates import UnreadableFile

DEPTH_MAX = 32
ALIASES_MAX = 100
EXPANDED_NODES_MAX = 200_000  # a thousand models of a hundred values each stays far below this


# libyaml's parser and composer where PyYAML was built with it (seven times faster on a 1,000-model file); the
# constructor is PyYAML's safe one either way.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSES = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _check_events(text: str) -> None:
    """Refuse nesting past DEPTH_MAX and too many aliases from the parser's events, before anything is composed:
    the parser keeps its own stack, while the composer recurses (in C, where Python's recursion limit is no guard)."""
    depth = aliases = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, _OPENS):
            depth += 1
            if depth > DEPTH_MAX:
                raise UnreadableFile(f"the YAML is nested more than {DEPTH_MAX} levels deep")
        elif isinstance(event, _CLOSES):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > ALIASES_MAX:
                raise UnreadableFile(f"the YAML uses more than {ALIASES_MAX} aliases (*name): refused as a "
                                     "possible alias bomb")


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
    loader = _Loader(text)
    try:
        _check_events(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = "" if where is None else (" (at the end of the file)" if where.line > text.count("\n")  # libyaml's EOF
                                       else f" (line {where.line + 1}, column {where.column + 1})")
        problem = getattr(exc, "problem", None) or str(exc)
        raise UnreadableFile(f"not valid YAML{at}: {str(problem)[:200]}") from None
    finally:
        loader.dispose()
