"""ASL intrinsic functions (``States.Format(...)`` etc.) for JSONPath payload templates.

Supported: States.Format, States.StringToJson, States.JsonToString, States.Array,
States.ArrayPartition, States.ArrayContains, States.ArrayRange, States.ArrayGetItem,
States.ArrayLength, States.ArrayUnique, States.Base64Encode, States.Base64Decode, States.Hash,
States.JsonMerge, States.MathRandom, States.MathAdd, States.StringSplit, States.UUID.

Arguments: string literals in single quotes (``\\`` escapes ``'``, ``{``, ``}``, ``\\``),
numbers, ``true``/``false``/``null``, JSONPaths (``$.x``, ``$$.Execution.Id``) and nested calls.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random as _random
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .errors import INTRINSIC_FAILURE, StatesError
from .paths import Path, PathNotFound, PathSyntaxError, parse_path


class IntrinsicSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Literal:
    value: Any
    raw: str | None = None  # for strings: the text between quotes, escapes kept


@dataclass(frozen=True)
class PathArg:
    path: Path


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


_NUMBER_RE = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NAME_RE = re.compile(r"States\.[A-Za-z0-9]+")


def is_intrinsic(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("States.")


@lru_cache(maxsize=2048)
def parse_intrinsic(text: str) -> Call:
    parser = _Parser(text)
    node = parser.call()
    parser.skip_ws()
    if parser.pos != len(text):
        raise IntrinsicSyntaxError(f"unexpected text after intrinsic function in '{text}'")
    return node


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def error(self, msg: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(f"{msg} at position {self.pos} in '{self.text}'")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\n\r":
            self.pos += 1

    def call(self) -> Call:
        m = _NAME_RE.match(self.text, self.pos)
        if not m:
            raise self.error("expected an intrinsic function name")
        name = m.group()
        if name not in FUNCTIONS:
            raise IntrinsicSyntaxError(f"unknown intrinsic function '{name}' in '{self.text}'")
        self.pos = m.end()
        self.skip_ws()
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise self.error("expected '('")
        self.pos += 1
        args = []
        self.skip_ws()
        if self.pos < len(self.text) and self.text[self.pos] == ")":
            self.pos += 1
            return Call(name, ())
        while True:
            self.skip_ws()
            args.append(self.arg())
            self.skip_ws()
            if self.pos >= len(self.text):
                raise self.error("unclosed '('")
            c = self.text[self.pos]
            self.pos += 1
            if c == ")":
                return Call(name, tuple(args))
            if c != ",":
                raise self.error(f"unexpected '{c}'")

    def arg(self):
        t, p = self.text, self.pos
        if p >= len(t):
            raise self.error("missing argument")
        c = t[p]
        if c == "'":
            return self.string()
        if c == "$":
            return self.path()
        if t.startswith("States.", p):
            return self.call()
        for word, value in (("true", True), ("false", False), ("null", None)):
            if t.startswith(word, p):
                self.pos += len(word)
                return Literal(value)
        m = _NUMBER_RE.match(t, p)
        if m:
            self.pos = m.end()
            s = m.group()
            return Literal(float(s) if any(ch in s for ch in ".eE") else int(s))
        raise self.error("invalid argument")

    def string(self) -> Literal:
        t = self.text
        i = self.pos + 1
        raw, val = "", ""
        while i < len(t):
            c = t[i]
            if c == "\\" and i + 1 < len(t):
                raw += t[i : i + 2]
                val += t[i + 1]
                i += 2
                continue
            if c == "'":
                self.pos = i + 1
                return Literal(val, raw)
            raw += c
            val += c
            i += 1
        raise self.error("unterminated string literal")

    def path(self) -> PathArg:
        t = self.text
        i, depth, quote = self.pos, 0, None
        while i < len(t):
            c = t[i]
            if quote:
                if c == quote:
                    quote = None
            elif c in "'\"" and depth:
                quote = c
            elif c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
            elif depth == 0 and (c in ",)" or c in " \t\n"):
                break
            i += 1
        text = t[self.pos : i]
        self.pos = i
        try:
            return PathArg(parse_path(text))
        except PathSyntaxError as exc:
            raise IntrinsicSyntaxError(str(exc)) from None


def evaluate_intrinsic(node: Call, data: Any, context: Any, rng: _random.Random | None = None) -> Any:
    """Evaluate a parsed intrinsic; failures raise ``StatesError(States.IntrinsicFailure)``
    (a JSONPath argument that matches nothing raises PathNotFound for the caller to map)."""
    args = [_eval_arg(a, data, context, rng) for a in node.args]
    try:
        if node.name == "States.Format":
            return _format(node, args)
        fn = FUNCTIONS[node.name]
        assert fn is not None  # only States.Format (handled above) has no function
        return fn(args, rng)
    except StatesError:
        raise
    except _Fail as exc:
        raise StatesError(INTRINSIC_FAILURE, f"{node.name}: {exc}") from None
    except (TypeError, ValueError, KeyError, IndexError, binascii.Error, json.JSONDecodeError) as exc:
        raise StatesError(INTRINSIC_FAILURE, f"{node.name}: invalid arguments ({exc})") from None


def _eval_arg(arg, data, context, rng):
    if isinstance(arg, Literal):
        return arg.value
    if isinstance(arg, PathArg):
        return arg.path.evaluate(context if arg.path.context else data)
    return evaluate_intrinsic(arg, data, context, rng)


class _Fail(Exception):
    pass


def _need(cond: bool, msg: str) -> None:
    if not cond:
        raise _Fail(msg)


def _is_int(x: Any) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _format(node: Call, args: list) -> str:
    _need(len(args) >= 1 and isinstance(args[0], str), "the first argument must be a string template")
    first = node.args[0]
    raw = first.raw if isinstance(first, Literal) and first.raw is not None else None
    values = args[1:]
    out, used = [], 0
    if raw is None:  # template came from a path: no escapes, every {} is a placeholder
        pieces = args[0].split("{}")
        for i, piece in enumerate(pieces):
            out.append(piece)
            if i < len(pieces) - 1:
                _need(used < len(values), "more placeholders than arguments")
                out.append(_fmt_value(values[used]))
                used += 1
    else:
        i = 0
        while i < len(raw):
            c = raw[i]
            if c == "\\" and i + 1 < len(raw):
                out.append(raw[i + 1])
                i += 2
            elif raw.startswith("{}", i):
                _need(used < len(values), "more placeholders than arguments")
                out.append(_fmt_value(values[used]))
                used += 1
                i += 2
            else:
                out.append(c)
                i += 1
    _need(used == len(values), "more arguments than placeholders")
    return "".join(out)


def _fmt_value(v: Any) -> str:
    if isinstance(v, str):
        return v
    _need(not isinstance(v, (dict, list)), "arguments must be strings, numbers, booleans or null")
    return _json(v)


def _string_to_json(args, rng):
    _need(len(args) == 1 and isinstance(args[0], str), "expects one string")
    return json.loads(args[0])


def _json_to_string(args, rng):
    _need(len(args) == 1, "expects one argument")
    return _json(args[0])


def _array(args, rng):
    return list(args)


def _array_partition(args, rng):
    _need(len(args) == 2 and isinstance(args[0], list) and _is_int(args[1]) and args[1] > 0,
          "expects (array, positive chunk size)")
    size = int(args[1])
    return [args[0][i : i + size] for i in range(0, len(args[0]), size)]


def _array_contains(args, rng):
    _need(len(args) == 2 and isinstance(args[0], list), "expects (array, value)")
    return any(_json(x) == _json(args[1]) for x in args[0])


def _array_range(args, rng):
    _need(len(args) == 3 and all(_is_int(a) for a in args) and args[2] != 0, "expects (start, end, non-zero step)")
    start, end, step = (int(a) for a in args)
    out = list(range(start, end + (1 if step > 0 else -1), step))
    _need(len(out) <= 1000, "the result would have more than 1000 items")
    return out


def _array_get_item(args, rng):
    _need(len(args) == 2 and isinstance(args[0], list) and _is_int(args[1]), "expects (array, index)")
    idx = int(args[1])
    _need(0 <= idx < len(args[0]), f"index {idx} out of range")
    return args[0][idx]


def _array_length(args, rng):
    _need(len(args) == 1 and isinstance(args[0], list), "expects one array")
    return len(args[0])


def _array_unique(args, rng):
    _need(len(args) == 1 and isinstance(args[0], list), "expects one array")
    seen, out = set(), []
    for x in args[0]:
        k = _json(x)
        if k not in seen:
            seen.add(k)
            out.append(x)
    return out


def _b64encode(args, rng):
    _need(len(args) == 1 and isinstance(args[0], str), "expects one string")
    return base64.b64encode(args[0].encode()).decode()


def _b64decode(args, rng):
    _need(len(args) == 1 and isinstance(args[0], str), "expects one string")
    return base64.b64decode(args[0], validate=True).decode()


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(args, rng):
    _need(len(args) == 2 and isinstance(args[1], str), "expects (data, algorithm)")
    _need(args[1] in _HASHES, f"algorithm must be one of {', '.join(_HASHES)}")
    data = args[0] if isinstance(args[0], str) else _json(args[0])
    return hashlib.new(_HASHES[args[1]], data.encode()).hexdigest()


def _json_merge(args, rng):
    _need(len(args) == 3 and isinstance(args[0], dict) and isinstance(args[1], dict) and isinstance(args[2], bool),
          "expects (object, object, deep: boolean)")
    _need(args[2] is False, "only shallow merge (false) is supported")
    return {**args[0], **args[1]}


def _math_random(args, rng):
    _need(len(args) in (2, 3) and all(_is_int(a) for a in args), "expects (start, end[, seed]) integers")
    r = _random.Random(int(args[2])) if len(args) == 3 else (rng or _random)
    _need(args[1] > args[0], "end must be greater than start")
    return r.randrange(int(args[0]), int(args[1]))


def _math_add(args, rng):
    _need(len(args) == 2 and all(_is_int(a) for a in args), "expects two integers")
    return int(args[0]) + int(args[1])


def _string_split(args, rng):
    _need(len(args) == 2 and all(isinstance(a, str) for a in args) and args[1], "expects (string, delimiters)")
    pattern = "[" + re.escape(args[1]) + "]"
    return [p for p in re.split(pattern, args[0]) if p]


def _uuid(args, rng):
    _need(not args, "takes no arguments")
    return str(uuid.uuid4())


FUNCTIONS = {
    "States.Format": None,  # handled by _format (needs the raw template)
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _b64encode,
    "States.Base64Decode": _b64decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}

__all__ = ["Call", "IntrinsicSyntaxError", "evaluate_intrinsic", "is_intrinsic", "parse_intrinsic", "PathNotFound"]
