"""YAML for banks and contest plans, bounded while the node tree is built — before anything expands.

A few lines of nested aliases ("billion laughs") describe billions of values: building the node tree is
cheap, but walking, validating or printing the expanded data is not. This composer (the C parser's events,
composed in Python) counts every node as it will be *expanded* — an alias costs the size of what it names —
and refuses the document at the first limit crossed, with the line of the offending node. It also refuses
recursive aliases, too-deep nesting, huge scalars, and it records duplicate mapping keys (PyYAML silently
keeps the last) so the loaders can report them.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

#: A bank or plan file larger than this is refused before it is read (the largest shipped bank is ~130 KB).
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Nodes in the document once every alias is expanded (a question is ~15 nodes).
MAX_NODES = 500_000
#: Aliases (`*name`) in one document.
MAX_ALIASES = 1_000
#: Nesting of sequences and mappings, aliases included (a bank needs 6 levels, a plan about 8).
MAX_DEPTH = 32
#: Characters in one scalar (a stem, an explanation).
MAX_SCALAR_CHARS = 100_000


class YamlLimitError(yaml.MarkedYAMLError):
    """The document crosses one of the limits above; `problem` is a Chinese message, `problem_mark` its place."""


class _LimitedComposer(Composer):
    """PyYAML's composer with expansion-aware limits and duplicate-key recording."""

    def __init__(self) -> None:
        super().__init__()
        self.duplicate_keys: list[tuple[int, str]] = []
        self._nodes = 0
        self._aliases = 0
        self._depth = 0
        self._deepest = 0
        self._open: set[str] = set()
        self._sizes: dict[str, tuple[int, int]] = {}

    def _limit(self, message: str, event: Any) -> YamlLimitError:
        return YamlLimitError(None, None, message, event.start_mark)

    def _count(self, nodes: int, height: int, event: Any) -> None:
        self._nodes += nodes
        self._deepest = max(self._deepest, self._depth + height)
        if self._nodes > MAX_NODES:
            raise self._limit(f"内容过多（展开后超过 {MAX_NODES} 个值，可能是别名反复嵌套）", event)
        if self._depth + height > MAX_DEPTH:
            raise self._limit(f"嵌套层数过深（超过 {MAX_DEPTH} 层）", event)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            event = self.get_event()
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise self._limit(f"别名（*）过多（超过 {MAX_ALIASES} 个）", event)
            if event.anchor in self._open:
                raise self._limit(f"别名 *{event.anchor} 引用了包含它自身的内容（不允许递归引用）", event)
            if event.anchor in self._sizes:
                self._count(*self._sizes[event.anchor], event)
            return self._alias(event)
        event = self.peek_event()
        anchor = event.anchor
        if anchor is None or anchor in self.anchors:
            return super().compose_node(parent, index)
        before, deepest = self._nodes, self._deepest
        self._deepest = self._depth
        self._open.add(anchor)
        node = super().compose_node(parent, index)
        self._open.discard(anchor)
        self._sizes[anchor] = (self._nodes - before, self._deepest - self._depth)
        self._deepest = max(deepest, self._deepest)
        return node

    def _alias(self, event: Any) -> Node:
        if event.anchor not in self.anchors:
            raise yaml.composer.ComposerError(None, None, f"未定义的别名 *{event.anchor}", event.start_mark)
        return self.anchors[event.anchor]

    def compose_scalar_node(self, anchor: str | None) -> ScalarNode:
        event = self.peek_event()
        if len(event.value) > MAX_SCALAR_CHARS:
            raise self._limit(f"单个值过长（{len(event.value)} 字，上限 {MAX_SCALAR_CHARS} 字）", event)
        self._count(1, 0, event)
        return super().compose_scalar_node(anchor)

    def compose_sequence_node(self, anchor: str | None) -> SequenceNode:
        self._count(1, 1, self.peek_event())
        self._depth += 1
        node = super().compose_sequence_node(anchor)
        self._depth -= 1
        return node

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:
        self._count(1, 1, self.peek_event())
        self._depth += 1
        node = super().compose_mapping_node(anchor)
        self._depth -= 1
        seen: set[tuple[str, str]] = set()
        for key, _ in node.value:
            if isinstance(key, ScalarNode):
                if (key.tag, key.value) in seen:
                    self.duplicate_keys.append((key.start_mark.line + 1, key.value))
                seen.add((key.tag, key.value))
        return node


if hasattr(yaml, "CSafeLoader"):  # the C parser's speed for the bytes, our composer for the limits
    from yaml._yaml import CParser

    class SafeLoader(_LimitedComposer, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """Safe YAML loader with the limits above (C parser)."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _LimitedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class SafeLoader(_LimitedComposer, Reader, Scanner, Parser, SafeConstructor, Resolver):  # type: ignore[no-redef]
        """Safe YAML loader with the limits above (pure-Python parser)."""

        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            _LimitedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)


def key_lines(root: Node) -> tuple[dict[tuple[str, ...], int], list[tuple[tuple[str, ...], int]]]:
    """The line of every mapping key and sequence item below `root` (paths of strings, items by index) and the
    duplicate keys with their lines — so a validator can point the author at the exact line of a value."""
    lines: dict[tuple[str, ...], int] = {(): root.start_mark.line + 1}
    duplicates: list[tuple[tuple[str, ...], int]] = []

    def walk(node: Node, path: tuple[str, ...]) -> None:
        if isinstance(node, MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key_path = (*path, str(key_node.value))
                if key_path[-1] in seen:
                    duplicates.append((key_path, key_node.start_mark.line + 1))
                seen.add(key_path[-1])
                lines[key_path] = key_node.start_mark.line + 1
                walk(value_node, key_path)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, str(index))] = item.start_mark.line + 1
                walk(item, (*path, str(index)))

    walk(root, ())
    return lines, duplicates
