"""Safe YAML loading that remembers where every value came from.

Values are built straight from the parser's events rather than from PyYAML's
constructors, so that one pass can (a) record the line of every key path for
`FILE:LINE: field: message` errors, (b) refuse duplicate keys, (c) bound nesting
depth and alias expansion (a billion-laughs document fails after a few thousand
nodes, not after filling memory) and (d) accept only plain data types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InvalidInput, Problem

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_NODES = 50_000

Loc = tuple[str | int, ...]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


@dataclass(frozen=True)
class Document:
    """A parsed file: its plain data plus the line each key path was written on."""

    path: str
    data: Any
    lines: Mapping[Loc, int] = field(default_factory=dict, repr=False)

    def line(self, loc: Loc = ()) -> int:
        """Line of `loc`, or of its nearest written ancestor (for missing keys)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(self.path, self.line(loc), format_loc(loc), message)


def format_loc(loc: Loc) -> str:
    """`('rules', 2, 'min_metric')` -> `rules[2].min_metric`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _Fail(Exception):
    def __init__(self, line: int, message: str, loc: Loc = ()) -> None:
        self.line, self.message, self.loc = line, message, loc


def _line(mark: Any) -> int:
    return int(mark.line) + 1 if mark is not None else 1


def load_path(path: Path, display: str) -> Document:
    """Read and parse one file; every failure is an InvalidInput naming `display`."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InvalidInput.one(
                display, 1, "", f"file is {size / 1e6:.1f} MB; YAML files are limited to 1 MB"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput.one(display, 1, "", f"cannot read file: {exc.strerror}") from None
    return load_bytes(raw, display)


def load_bytes(raw: bytes, display: str) -> Document:
    """Parse YAML bytes (UTF-8) into a Document."""
    if len(raw) > MAX_BYTES:
        raise InvalidInput.one(
            display, 1, "", f"file is {len(raw) / 1e6:.1f} MB; YAML files are limited to 1 MB"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidInput.one(
            display,
            line,
            "",
            f"file is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InvalidInput.one(display, 1, "", "file is empty")
    try:
        data, lines = _build(text)
    except _Fail as fail:
        raise InvalidInput.one(display, fail.line, format_loc(fail.loc), fail.message) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = str(exc.problem or exc.context or "invalid YAML")
        rows = text.splitlines()
        if (
            mark is not None
            and mark.line < len(rows)
            and "\t" in rows[mark.line][: mark.column + 1]
        ):
            problem = "tab character in indentation; YAML indents with spaces only"
        raise InvalidInput.one(display, _line(mark), "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput.one(display, 1, "", f"invalid YAML: {exc}") from None
    if data is None:
        raise InvalidInput.one(display, 1, "", "file holds no YAML document")
    return Document(display, data, lines)


def _build(text: str) -> tuple[Any, dict[Loc, int]]:
    """Turn parser events into plain data, recording key-path lines."""
    lines: dict[Loc, int] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    # Each frame: [container, loc, pending_key, seen_keys, anchor, node_count]
    stack: list[list[Any]] = []
    budget = MAX_NODES
    result: Any = None
    documents = 0

    def next_loc() -> Loc:
        """Where the next value goes (for a key: the mapping that holds it)."""
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame[0], list):
            return (*frame[1], len(frame[0]))
        return frame[1] if frame[2] is _NO_KEY else (*frame[1], frame[2])

    def place(value: Any, count: int, mark: Any) -> Loc | None:
        """Attach `value` to the open container; return its loc (None for a key)."""
        nonlocal result
        if not stack:
            result = value
            return ()
        frame = stack[-1]
        frame[5] += count
        container, loc = frame[0], frame[1]
        if isinstance(container, list):
            child = (*loc, len(container))
            container.append(value)
            lines.setdefault(child, _line(mark))
            return child
        if frame[2] is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise _Fail(_line(mark), "mapping keys must be plain scalars")
            if value in frame[3]:
                raise _Fail(
                    _line(mark), f"duplicate key {value!r} (first at line {frame[3][value]})"
                )
            frame[3][value] = _line(mark)
            frame[2] = value
            lines[(*loc, value)] = _line(mark)
            return None
        key = frame[2]
        frame[2] = _NO_KEY
        container[key] = value
        return (*loc, key)

    for event in yaml.parse(text, Loader=_Loader):
        if budget < 0:
            raise _Fail(_line(event.start_mark), f"document has more than {MAX_NODES} nodes")
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _Fail(_line(event.start_mark), "expected one YAML document, found several")
            continue
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise _Fail(_line(event.start_mark), f"unknown alias *{event.anchor}")
            value, count = anchors[event.anchor]
            budget -= count
            if budget < 0:
                raise _Fail(
                    _line(event.start_mark),
                    f"aliases expand to more than {MAX_NODES} nodes; refusing to expand",
                )
            place(value, count, event.start_mark)
            continue
        if isinstance(event, yaml.ScalarEvent):
            budget -= 1
            try:
                value = _scalar(event)
            except _Fail as fail:
                fail.loc = next_loc()
                raise
            place(value, 1, event.start_mark)
            if event.anchor:
                anchors[event.anchor] = (value, 1)
            continue
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            budget -= 1
            if len(stack) >= MAX_DEPTH:
                raise _Fail(_line(event.start_mark), f"nested deeper than {MAX_DEPTH} levels")
            if event.tag not in (None, "!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"):
                raise _Fail(_line(event.start_mark), _refused(event.tag), next_loc())
            container: Any = [] if isinstance(event, yaml.SequenceStartEvent) else {}
            loc = place(container, 1, event.start_mark)
            if loc == ():
                lines[()] = _line(event.start_mark)
            stack.append([container, loc, _NO_KEY, {}, event.anchor, 1])
            continue
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            frame = stack.pop()
            if frame[4]:
                anchors[frame[4]] = (frame[0], frame[5])
            if stack:
                stack[-1][5] += frame[5] - 1
    return result, lines


class _NoKey:
    __slots__ = ()


_NO_KEY: Any = _NoKey()


def _scalar(event: Any) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
    if tag == "tag:yaml.org,2002:merge":
        raise _Fail(_line(event.start_mark), "merge keys (<<) are not supported")
    if tag not in _PLAIN_TAGS:
        raise _Fail(_line(event.start_mark), _refused(tag))
    if tag == "tag:yaml.org,2002:str":  # most scalars: skip building a node
        return event.value
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return _constructor.yaml_constructors[tag](_constructor, node)
    except (ValueError, OverflowError, yaml.YAMLError) as exc:
        raise _Fail(_line(event.start_mark), f"cannot read {event.value!r}: {exc}") from None


def _refused(tag: str) -> str:
    short = tag.replace("tag:yaml.org,2002:", "!!", 1)
    return f"tag {short} is not allowed; manifests hold plain data only"
