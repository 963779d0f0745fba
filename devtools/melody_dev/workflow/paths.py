"""JSONPath subset used by Amazon States Language.

* Reference Paths (``$``, ``$.a.b``, ``$.a[0].b``, ``$['a b']``): *definite* paths that select
  exactly one node; ``$.a[0].b`` returns the element, not a one-element list (the behaviour of
  AWS, which uses Jayway JsonPath; moto/LocalStack differs).
* Paths additionally allow the indefinite operators ``[*]`` / ``.*``, ``..name`` (deep scan),
  slices ``[1:3]``, unions ``[0,1]`` / ``['a','b']`` and negative indexes ``[-1]``; an
  indefinite path returns a list of every match (possibly empty), as Jayway does.
* ``$$...`` paths select from the context object; callers decide which document to apply to.

A definite path that does not match raises :class:`PathNotFound`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_MISSING = object()


class PathSyntaxError(ValueError):
    pass


class PathNotFound(LookupError):
    def __init__(self, path: str, detail: str = ""):
        self.path = path
        super().__init__(f"the JSONPath '{path}' could not be found in the input" + (f" ({detail})" if detail else ""))


class PathSetError(ValueError):
    pass


# segment kinds
_FIELD, _INDEX, _WILDCARD, _DEEP, _SLICE, _UNION = "field", "index", "wildcard", "deep", "slice", "union"


@dataclass(frozen=True)
class Segment:
    kind: str
    value: Any = None  # field name / index / (start, stop, step) / tuple of Segments / deep target


@dataclass(frozen=True)
class Path:
    text: str
    context: bool  # True for ``$$`` paths
    segments: tuple[Segment, ...]

    @property
    def definite(self) -> bool:
        return all(s.kind == _FIELD or (s.kind == _INDEX) for s in self.segments)

    @property
    def is_reference(self) -> bool:
        """A Reference Path: only field names and non-negative indexes."""
        return all(s.kind == _FIELD or (s.kind == _INDEX and s.value >= 0) for s in self.segments)

    def evaluate(self, data: Any) -> Any:
        """Apply to ``data``; definite → the node, indefinite → list of matches."""
        if self.definite:
            node = data
            for seg in self.segments:
                node = _step_definite(node, seg)
                if node is _MISSING:
                    raise PathNotFound(self.text)
            return node
        nodes = [data]
        for seg in self.segments:
            nodes = [m for n in nodes for m in _step_all(n, seg)]
        return nodes

    def exists(self, data: Any) -> bool:
        try:
            self.evaluate(data)
        except PathNotFound:
            return False
        return True

    def set(self, data: Any, value: Any) -> Any:
        """Return a copy of ``data`` with ``value`` placed at this Reference Path (ResultPath rules:
        missing intermediate objects are created; a non-object in the way is an error)."""
        if not self.is_reference:
            raise PathSetError(f"'{self.text}' is not a Reference Path")
        if not self.segments:
            return value
        root = copy.deepcopy(data)
        node = root
        for i, seg in enumerate(self.segments):
            last = i == len(self.segments) - 1
            if seg.kind == _FIELD:
                if not isinstance(node, dict):
                    raise PathSetError(f"cannot set '{self.text}': '{_prefix(self, i)}' is not an object")
                if last:
                    node[seg.value] = value
                else:
                    child = node.get(seg.value, _MISSING)
                    if child is _MISSING:
                        child = node[seg.value] = {}
                    node = child
            else:  # index
                if not isinstance(node, list) or seg.value >= len(node):
                    raise PathSetError(f"cannot set '{self.text}': '{_prefix(self, i)}' has no element [{seg.value}]")
                if last:
                    node[seg.value] = value
                else:
                    node = node[seg.value]
        return root


def _prefix(path: Path, upto: int) -> str:
    out = "$$" if path.context else "$"
    for seg in path.segments[:upto]:
        out += f".{seg.value}" if seg.kind == _FIELD else f"[{seg.value}]"
    return out


def _step_definite(node: Any, seg: Segment) -> Any:
    if seg.kind == _FIELD:
        return node.get(seg.value, _MISSING) if isinstance(node, dict) else _MISSING
    if isinstance(node, list):
        idx = seg.value
        if -len(node) <= idx < len(node):
            return node[idx]
    return _MISSING


def _children(node: Any) -> list:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return list(node)
    return []


def _step_all(node: Any, seg: Segment) -> list:
    kind = seg.kind
    if kind in (_FIELD, _INDEX):
        got = _step_definite(node, seg)
        return [] if got is _MISSING else [got]
    if kind == _WILDCARD:
        return _children(node)
    if kind == _SLICE:
        if not isinstance(node, list):
            return []
        start, stop, step = seg.value
        return node[slice(start, stop, step)]
    if kind == _UNION:
        return [m for sub in seg.value for m in _step_all(node, sub)]
    if kind == _DEEP:
        out: list = []

        def walk(n: Any) -> None:
            out.extend(_step_all(n, seg.value))
            for c in _children(n):
                walk(c)

        walk(node)
        return out
    raise AssertionError(kind)


_NAME_RE = re.compile(r"[^.\[\]\s'\"()]+")
_INT_RE = re.compile(r"-?\d+")


@lru_cache(maxsize=4096)
def parse_path(text: str) -> Path:
    """Parse ``$...`` or ``$$...``; raises :class:`PathSyntaxError`."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntaxError(f"'{text}' is not a JSONPath (must start with '$')")
    context = text.startswith("$$")
    pos = 2 if context else 1
    segs: list[Segment] = []
    n = len(text)
    while pos < n:
        ch = text[pos]
        if text.startswith("..", pos):
            pos += 2
            if pos < n and text[pos] == "[":
                sub, pos = _parse_bracket(text, pos)
            elif pos < n and text[pos] == "*":
                sub, pos = Segment(_WILDCARD), pos + 1
            else:
                m = _NAME_RE.match(text, pos)
                if not m:
                    raise PathSyntaxError(f"invalid JSONPath '{text}' at position {pos}")
                sub, pos = Segment(_FIELD, m.group()), m.end()
            segs.append(Segment(_DEEP, sub))
        elif ch == ".":
            pos += 1
            if pos < n and text[pos] == "*":
                segs.append(Segment(_WILDCARD))
                pos += 1
                continue
            m = _NAME_RE.match(text, pos)
            if not m:
                raise PathSyntaxError(f"invalid JSONPath '{text}' at position {pos}")
            segs.append(Segment(_FIELD, m.group()))
            pos = m.end()
        elif ch == "[":
            seg, pos = _parse_bracket(text, pos)
            segs.append(seg)
        else:
            raise PathSyntaxError(f"invalid JSONPath '{text}' at position {pos}")
    return Path(text, context, tuple(segs))


def _parse_bracket(text: str, pos: int) -> tuple[Segment, int]:
    end = _find_close(text, pos)
    inner = text[pos + 1 : end].strip()
    after = end + 1
    if inner == "*":
        return Segment(_WILDCARD), after
    if inner.startswith("?"):
        raise PathSyntaxError(f"filter expressions are not supported by this interpreter: '{text}'")
    parts = _split_union(inner, text)
    segs = [_parse_bracket_item(p.strip(), text) for p in parts]
    if len(segs) == 1:
        return segs[0], after
    return Segment(_UNION, tuple(segs)), after


def _find_close(text: str, pos: int) -> int:
    quote = None
    i = pos + 1
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "]":
            return i
        i += 1
    raise PathSyntaxError(f"unclosed '[' in JSONPath '{text}'")


def _split_union(inner: str, text: str) -> list[str]:
    parts, buf, quote = [], "", None
    for c in inner:
        if quote:
            buf += c
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
            buf += c
        elif c == ",":
            parts.append(buf)
            buf = ""
        else:
            buf += c
    parts.append(buf)
    if any(not p.strip() for p in parts):
        raise PathSyntaxError(f"empty bracket expression in JSONPath '{text}'")
    return parts


def _parse_bracket_item(item: str, text: str) -> Segment:
    if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
        return Segment(_FIELD, re.sub(r"\\(.)", r"\1", item[1:-1]))
    if _INT_RE.fullmatch(item):
        return Segment(_INDEX, int(item))
    if ":" in item:
        bits = item.split(":")
        if len(bits) > 3 or not all(b.strip() == "" or _INT_RE.fullmatch(b.strip()) for b in bits):
            raise PathSyntaxError(f"invalid slice '[{item}]' in JSONPath '{text}'")
        vals = [int(b) if b.strip() else None for b in bits] + [None] * (3 - len(bits))
        return Segment(_SLICE, tuple(vals))
    raise PathSyntaxError(f"invalid bracket expression '[{item}]' in JSONPath '{text}'")


def parse_reference_path(text: str) -> Path:
    path = parse_path(text)
    if not path.is_reference:
        raise PathSyntaxError(f"'{text}' is not a Reference Path (only .field, ['field'] and [index] allowed)")
    return path
