"""A small, faithful interpreter for Amazon States Language (JSONPath flavour).

It runs the same ``statemachines/*.asl.json`` that AWS Step Functions runs, calling local Python
callables for the Task states. It follows https://states-language.net/spec.html and, where the
spec leaves room, what AWS does:

* input/output processing: InputPath → Parameters → task → ResultSelector → ResultPath →
  OutputPath (Catch: error output placed with the Catcher's ResultPath into the raw state input);
* Retry (IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0 by default; MaxDelaySeconds;
  JitterStrategy FULL) and Catch, first matching Retrier/Catcher wins; ``States.Runtime`` and
  ``States.DataLimitExceeded`` end the execution (no Retrier/Catcher matches them, not even
  ``States.ALL`` or their own name); ``States.TaskFailed`` does not match ``States.Timeout``;
* a JSONPath that matches nothing (InputPath, OutputPath, a ``.$`` field of Parameters /
  ResultSelector / ItemSelector, ItemsPath, a Choice Variable, a ``*Path`` field) fails the state
  with ``States.Runtime``, as AWS does;
* a failing Parallel branch / Map iteration fails the state with that branch's error (as AWS
  reports it), the siblings stop at their next state boundary;
* ``arn:aws:states:::lambda:invoke`` returns ``{"Payload": <return>, "StatusCode": 200, ...}``;
  a plain Lambda ARN returns the function's value; an exception raised by a callable becomes the
  error named by its ``error_name`` attribute or its class name, with Lambda's
  ``{"errorMessage", "errorType"}`` JSON as Cause.

Time is injectable (``sleep``, ``clock``, ``timeout_scale``) so tests never really wait.
"""

from __future__ import annotations

import json
import logging
import random as _random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path as FsPath
from typing import Any

from . import errors as E
from .errors import DefinitionError, ExecutionCancelled, InvalidName, StatesError, error_matches
from .intrinsics import IntrinsicSyntaxError, evaluate_intrinsic, is_intrinsic, parse_intrinsic
from .paths import PathNotFound, PathSetError, PathSyntaxError, parse_path, parse_reference_path

log = logging.getLogger(__name__)

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
_LAMBDA_ARN_RE = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::([^:]+))?$")
_DEFAULT_REGION = "us-east-1"
_DEFAULT_ACCOUNT = "123456789012"
MAX_PAYLOAD_BYTES = 262_144  # 256 KiB, the Step Functions state payload quota

Resource = Callable[[Any, Any], Any]
Resources = Callable[[str], Resource] | Mapping[str, Resource]


# --------------------------------------------------------------------------------------------
# public helpers
# --------------------------------------------------------------------------------------------

_PLACEHOLDER_RE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def substitute(text: str, substitutions: Mapping[str, Any] | None = None, *, strict: bool = True) -> str:
    """Replace ``${Name}`` placeholders like CDK's ``definitionSubstitutions`` (values are
    JSON-string-escaped). With ``strict`` an unknown placeholder raises :class:`DefinitionError`."""
    subs = dict(substitutions or {})
    missing: list[str] = []

    def repl(m: re.Match) -> str:
        key = m.group(1)
        if key not in subs:
            missing.append(key)
            return m.group(0)
        return json.dumps(str(subs[key]))[1:-1]

    out = _PLACEHOLDER_RE.sub(repl, text)
    if strict and missing:
        raise DefinitionError([f"no substitution for placeholder ${{{k}}}" for k in sorted(set(missing))])
    return out


def load_definition(path: str | FsPath, substitutions: Mapping[str, Any] | None = None, *, strict: bool = True) -> dict:
    """Read an ``.asl.json`` file, apply ``${Name}`` substitutions, parse and validate it."""
    text = substitute(FsPath(path).read_text(encoding="utf-8"), substitutions, strict=strict)
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"{path}: not valid JSON ({exc})") from None
    validate_definition(definition)
    return definition


def iso_timestamp(dt: datetime) -> str:
    """``2024-01-02T03:04:05.678Z`` (the format of ``$$.Execution.StartTime``)."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


_TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as ASL requires (uppercase ``T``, ``Z`` or offset) → aware datetime."""
    if not isinstance(value, str):
        return None
    m = _TS_RE.match(value)
    if not m:
        return None
    frac = (m.group(7) or ".0")[1:7].ljust(6, "0")
    tz = m.group(8)
    try:
        tzinfo = UTC if tz == "Z" else timezone(
            (1 if tz[0] == "+" else -1) * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
        year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
        return datetime(year, month, day, hour, minute, second, int(frac), tzinfo=tzinfo)
    except ValueError:
        return None


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _json_copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _short(value: Any, limit: int = 300) -> str:
    try:
        text = json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


_BAD_NAME_CHARS = set(' \t\n\r<>{}[]?*"#%\\^|~`$&,;:/')


def validate_execution_name(name: str) -> None:
    if (not isinstance(name, str) or not 1 <= len(name) <= 80
            or any(c in _BAD_NAME_CHARS or ord(c) < 32 or 127 <= ord(c) <= 159 for c in name)):
        raise InvalidName(f"invalid execution name {name!r}: 1-80 characters, no whitespace, brackets, "
                          "wildcards or any of \" # % \\ ^ | ~ ` $ & , ; : /")


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------

@dataclass
class Execution:
    execution_arn: str
    name: str
    state_machine_arn: str
    input: Any
    start_date: datetime
    status: str = "RUNNING"  # RUNNING | SUCCEEDED | FAILED
    output: Any = None
    error: str | None = None
    cause: str | None = None
    stop_date: datetime | None = None
    history: list[dict] = field(default_factory=list)
    #: ended by the top-level TimeoutSeconds (status stays FAILED with States.Timeout; AWS says
    #: TIMED_OUT): the status-change event of LocalStepFunctions reports TIMED_OUT
    timed_out: bool = False

    def events(self, type_: str) -> list[dict]:
        """History events of one type (e.g. ``"TaskFailed"``, ``"RetryScheduled"``)."""
        return [e for e in self.history if e["type"] == type_]


class LambdaContext:
    """What a Lambda handler receives as ``context`` (enough for powertools' Logger)."""

    def __init__(self, function_name: str, invoked_function_arn: str, timeout_s: float | None,
                 memory_limit_in_mb: int = 1024, state: Mapping[str, Any] | None = None):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        #: the Step Functions context object of the calling state (local extra)
        self.state_context = dict(state or {})
        self._deadline = time.monotonic() + (timeout_s if timeout_s else 900)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------

_IO = {"InputPath", "OutputPath"}
_FLOW = {"Next", "End"}
_FIELDS: dict[str, set[str]] = {
    "Pass": _FLOW | _IO | {"Parameters", "ResultPath", "Result"},
    "Task": _FLOW | _IO | {"Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Resource",
                           "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath",
                           "Credentials"},
    "Choice": _IO | {"Choices", "Default"},
    "Wait": _FLOW | _IO | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
    "Succeed": set(_IO),
    "Fail": {"Error", "Cause", "ErrorPath", "CausePath"},
    "Parallel": _FLOW | _IO | {"Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Branches"},
    "Map": _FLOW | _IO | {"Parameters", "ItemSelector", "ResultSelector", "ResultPath", "Retry", "Catch",
                          "ItemsPath", "MaxConcurrency", "MaxConcurrencyPath", "Iterator", "ItemProcessor",
                          "Label", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath",
                          "ToleratedFailureCount", "ToleratedFailureCountPath", "ItemReader", "ResultWriter",
                          "ItemBatcher"},
}
_COMMON = {"Type", "Comment"}
_TOP_FIELDS = {"States", "StartAt", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}

_STRING_OPS = {"StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals",
               "StringGreaterThanEquals"}
_NUMERIC_OPS = {"NumericEquals", "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals",
                "NumericGreaterThanEquals"}
_TIMESTAMP_OPS = {"TimestampEquals", "TimestampLessThan", "TimestampGreaterThan", "TimestampLessThanEquals",
                  "TimestampGreaterThanEquals"}
_VALUE_OPS = _STRING_OPS | _NUMERIC_OPS | _TIMESTAMP_OPS | {"BooleanEquals", "StringMatches"}
_PATH_OPS = {op + "Path" for op in _STRING_OPS | _NUMERIC_OPS | _TIMESTAMP_OPS | {"BooleanEquals"}}
_TYPE_OPS = {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
_ALL_OPS = _VALUE_OPS | _PATH_OPS | _TYPE_OPS


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class _Validator:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, where: str, msg: str) -> None:
        self.problems.append(f"{where}: {msg}" if where else msg)

    # -- machine / scope ---------------------------------------------------------------------
    def machine(self, d: Any) -> None:
        if not isinstance(d, dict):
            self.bad("", "the definition must be a JSON object")
            return
        for k in d:
            if k not in _TOP_FIELDS:
                self.bad("", f"unsupported top-level field '{k}'")
        if d.get("QueryLanguage", "JSONPath") != "JSONPath":
            self.bad("", "only QueryLanguage JSONPath is supported")
        if "TimeoutSeconds" in d and not (_is_int(d["TimeoutSeconds"]) and d["TimeoutSeconds"] > 0):
            self.bad("", "TimeoutSeconds must be a positive integer")
        self.scope(d, "")

    def scope(self, d: Any, where: str) -> None:
        if not isinstance(d, dict):
            self.bad(where, "must be an object with StartAt and States")
            return
        states = d.get("States")
        if not isinstance(states, dict) or not states:
            self.bad(where, "'States' must be a non-empty object")
            return
        start = d.get("StartAt")
        if not isinstance(start, str) or start not in states:
            self.bad(where, f"StartAt {start!r} is not a state")
        for name, st in states.items():
            self.state(name, st, states, f"{where}States.{name}" if not where else f"{where}.States.{name}")
        if isinstance(start, str) and start in states:
            reached = _reachable(start, states)
            for name in states:
                if name not in reached:
                    self.bad(where, f"state '{name}' is not reachable from StartAt '{start}'")

    # -- states ------------------------------------------------------------------------------
    def state(self, name: str, st: Any, states: dict, where: str) -> None:
        if len(name) > 80 or not name:
            self.bad(where, "state names must be 1-80 characters")
        if not isinstance(st, dict):
            self.bad(where, "a state must be an object")
            return
        typ = st.get("Type")
        if typ not in _FIELDS:
            self.bad(where, f"unknown Type {typ!r}")
            return
        for k in st:
            if k not in _FIELDS[typ] and k not in _COMMON:
                self.bad(where, f"field '{k}' is not supported in a {typ} state")
        if typ in ("Pass", "Task", "Wait", "Parallel", "Map"):
            has_next, end = "Next" in st, st.get("End")
            if has_next and end is not None:
                self.bad(where, "has both Next and End")
            elif not has_next and end is not True:
                self.bad(where, "needs Next or \"End\": true")
            if has_next:
                self.target(st["Next"], states, where, "Next")
        for key in ("InputPath", "OutputPath"):
            if key in st and st[key] is not None:
                self.path(st[key], where, key)
        if "ResultPath" in st and st["ResultPath"] is not None:
            self.path(st["ResultPath"], where, "ResultPath", reference=True)
        for key in ("Parameters", "ResultSelector", "ItemSelector"):
            if key in st:
                if key != "Parameters" and not isinstance(st[key], dict):
                    self.bad(where, f"{key} must be an object")
                self.template(st[key], where, key)
        if "Retry" in st:
            self.retry(st["Retry"], where)
        if "Catch" in st:
            self.catch(st["Catch"], states, where)
        getattr(self, "state_" + typ.lower())(st, states, where)

    def state_pass(self, st, states, where):
        pass

    def state_succeed(self, st, states, where):
        pass

    def state_task(self, st, states, where):
        res = st.get("Resource")
        if not isinstance(res, str) or not res:
            self.bad(where, "Task needs a Resource string")
        elif res.startswith(LAMBDA_INVOKE + "."):
            self.bad(where, f"Resource '{res}' (callback/sync pattern) is not supported by the local interpreter")
        elif res == LAMBDA_INVOKE:
            params = st.get("Parameters")
            if not isinstance(params, dict) or not ({"FunctionName", "FunctionName.$"} & set(params)):
                self.bad(where, "lambda:invoke needs Parameters with FunctionName")
        for key in ("TimeoutSeconds", "HeartbeatSeconds"):
            if key in st:
                if not (_is_int(st[key]) and st[key] > 0):
                    self.bad(where, f"{key} must be a positive integer")
                if key + "Path" in st:
                    self.bad(where, f"{key} and {key}Path are mutually exclusive")
            if key + "Path" in st:
                self.path(st[key + "Path"], where, key + "Path", reference=True)
        t, h = st.get("TimeoutSeconds"), st.get("HeartbeatSeconds")
        if _is_int(t) and _is_int(h) and h >= t:
            self.bad(where, "HeartbeatSeconds must be smaller than TimeoutSeconds")

    def state_choice(self, st, states, where):
        choices = st.get("Choices")
        if not isinstance(choices, list) or not choices:
            self.bad(where, "Choices must be a non-empty array")
            return
        for i, rule in enumerate(choices):
            w = f"{where}.Choices[{i}]"
            if not isinstance(rule, dict):
                self.bad(w, "a Choice Rule must be an object")
                continue
            if "Next" not in rule:
                self.bad(w, "a top-level Choice Rule needs Next")
            else:
                self.target(rule["Next"], states, w, "Next")
            self.rule(rule, w, top=True)
        if "Default" in st:
            self.target(st["Default"], states, where, "Default")

    def rule(self, rule: Any, where: str, top: bool = False) -> None:
        if not isinstance(rule, dict):
            self.bad(where, "a Choice Rule must be an object")
            return
        if not top and "Next" in rule:
            self.bad(where, "a nested Choice Rule must not have Next")
        keys = set(rule) - {"Next", "Comment"}
        bools = keys & {"And", "Or", "Not"}
        if bools:
            if len(keys) != 1:
                self.bad(where, "And/Or/Not must be the only operator of its rule")
                return
            op = bools.pop()
            if op == "Not":
                self.rule(rule["Not"], where + ".Not")
            elif not isinstance(rule[op], list) or not rule[op]:
                self.bad(where, f"{op} must be a non-empty array")
            else:
                for j, sub in enumerate(rule[op]):
                    self.rule(sub, f"{where}.{op}[{j}]")
            return
        if "Variable" not in keys:
            self.bad(where, "a Choice Rule needs Variable (or And/Or/Not)")
        else:
            self.path(rule["Variable"], where, "Variable")
        ops = keys - {"Variable"}
        if len(ops) != 1 or not ops <= _ALL_OPS:
            self.bad(where, f"a Choice Rule needs exactly one comparison operator, got {sorted(ops)}")
            return
        op = ops.pop()
        val = rule[op]
        if op in _PATH_OPS:
            self.path(val, where, op)
        elif op in _TYPE_OPS or op == "BooleanEquals":
            if not isinstance(val, bool):
                self.bad(where, f"{op} needs a boolean")
        elif op in _NUMERIC_OPS:
            if not _is_number(val):
                self.bad(where, f"{op} needs a number")
        elif op in _TIMESTAMP_OPS:
            if parse_timestamp(val) is None:
                self.bad(where, f"{op} needs an RFC 3339 timestamp")
        elif not isinstance(val, str):
            self.bad(where, f"{op} needs a string")

    def state_wait(self, st, states, where):
        given = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in st]
        if len(given) != 1:
            self.bad(where, "Wait needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath")
            return
        k = given[0]
        if k == "Seconds" and not (_is_int(st[k]) and st[k] >= 0):
            self.bad(where, "Seconds must be a non-negative integer")
        elif k == "Timestamp" and parse_timestamp(st[k]) is None:
            self.bad(where, "Timestamp must be an RFC 3339 timestamp")
        elif k.endswith("Path"):
            self.path(st[k], where, k, reference=True)

    def state_fail(self, st, states, where):
        for a, b in (("Error", "ErrorPath"), ("Cause", "CausePath")):
            if a in st and b in st:
                self.bad(where, f"{a} and {b} are mutually exclusive")
            if a in st and not isinstance(st[a], str):
                self.bad(where, f"{a} must be a string")
            if b in st:
                self.dynamic(st[b], where, b)

    def state_parallel(self, st, states, where):
        branches = st.get("Branches")
        if not isinstance(branches, list) or not branches:
            self.bad(where, "Branches must be a non-empty array")
            return
        for i, b in enumerate(branches):
            self.scope(b, f"{where}.Branches[{i}]")

    def state_map(self, st, states, where):
        proc = [k for k in ("ItemProcessor", "Iterator") if k in st]
        if len(proc) != 1:
            self.bad(where, "Map needs exactly one of ItemProcessor or Iterator")
        else:
            sub = st[proc[0]]
            if isinstance(sub, dict):
                cfg = sub.get("ProcessorConfig") or {}
                sub = {k: v for k, v in sub.items() if k != "ProcessorConfig"}
                if cfg.get("Mode", "INLINE") not in ("INLINE", "DISTRIBUTED"):
                    self.bad(where, "ProcessorConfig.Mode must be INLINE or DISTRIBUTED")
            self.scope(sub, f"{where}.{proc[0]}")
        if "ItemSelector" in st and "Parameters" in st:
            self.bad(where, "ItemSelector and Parameters are mutually exclusive")
        for k in ("ItemReader", "ResultWriter", "ItemBatcher"):
            if k in st:
                self.bad(where, f"{k} (distributed Map) is not supported by the local interpreter")
        if "ItemsPath" in st:
            self.path(st["ItemsPath"], where, "ItemsPath", reference=True)
        if "MaxConcurrency" in st and not (_is_int(st["MaxConcurrency"]) and st["MaxConcurrency"] >= 0):
            self.bad(where, "MaxConcurrency must be a non-negative integer")
        if "MaxConcurrencyPath" in st:
            self.path(st["MaxConcurrencyPath"], where, "MaxConcurrencyPath", reference=True)

    # -- pieces ------------------------------------------------------------------------------
    def target(self, name: Any, states: dict, where: str, key: str) -> None:
        if not isinstance(name, str) or name not in states:
            self.bad(where, f"{key} {name!r} is not a state in this scope")

    def path(self, text: Any, where: str, key: str, reference: bool = False) -> None:
        try:
            (parse_reference_path if reference else parse_path)(text)
        except (PathSyntaxError, TypeError) as exc:
            self.bad(where, f"{key}: {exc}")

    def dynamic(self, text: Any, where: str, key: str) -> None:
        if is_intrinsic(text):
            try:
                parse_intrinsic(text)
            except IntrinsicSyntaxError as exc:
                self.bad(where, f"{key}: {exc}")
        elif isinstance(text, str) and text.startswith("$"):
            self.path(text, where, key)
        else:
            self.bad(where, f"{key}: the value of a '.$' field must be a JSONPath or an intrinsic function")

    def template(self, tmpl: Any, where: str, key: str) -> None:
        if isinstance(tmpl, dict):
            for k, v in tmpl.items():
                if k.endswith(".$"):
                    self.dynamic(v, where, f"{key}.{k}")
                else:
                    self.template(v, where, f"{key}.{k}")
        elif isinstance(tmpl, list):
            for i, v in enumerate(tmpl):
                self.template(v, where, f"{key}[{i}]")

    def _error_equals(self, item: dict, where: str) -> None:
        eq = item.get("ErrorEquals")
        if not isinstance(eq, list) or not eq or not all(isinstance(x, str) for x in eq):
            self.bad(where, "ErrorEquals must be a non-empty array of strings")
        elif E.ALL in eq and len(eq) != 1:
            self.bad(where, "States.ALL must be the only error name in its ErrorEquals")

    def _all_last(self, items: list, where: str, what: str) -> None:
        for item in items[:-1]:
            if isinstance(item, dict) and E.ALL in (item.get("ErrorEquals") or []):
                self.bad(where, f"the {what} with States.ALL must be the last one")

    def retry(self, retriers: Any, where: str) -> None:
        if not isinstance(retriers, list):
            self.bad(where, "Retry must be an array")
            return
        allowed = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
                   "JitterStrategy", "Comment"}
        for i, r in enumerate(retriers):
            w = f"{where}.Retry[{i}]"
            if not isinstance(r, dict):
                self.bad(w, "a Retrier must be an object")
                continue
            for k in r:
                if k not in allowed:
                    self.bad(w, f"field '{k}' is not supported in a Retrier")
            self._error_equals(r, w)
            if "IntervalSeconds" in r and not (_is_int(r["IntervalSeconds"]) and r["IntervalSeconds"] > 0):
                self.bad(w, "IntervalSeconds must be a positive integer")
            if "MaxAttempts" in r and not (_is_int(r["MaxAttempts"]) and r["MaxAttempts"] >= 0):
                self.bad(w, "MaxAttempts must be a non-negative integer")
            if "BackoffRate" in r and not (_is_number(r["BackoffRate"]) and r["BackoffRate"] >= 1.0):
                self.bad(w, "BackoffRate must be a number >= 1.0")
            if "MaxDelaySeconds" in r and not (_is_int(r["MaxDelaySeconds"]) and r["MaxDelaySeconds"] > 0):
                self.bad(w, "MaxDelaySeconds must be a positive integer")
            if r.get("JitterStrategy", "NONE") not in ("FULL", "NONE"):
                self.bad(w, "JitterStrategy must be FULL or NONE")
        self._all_last(retriers, where, "Retrier")

    def catch(self, catchers: Any, states: dict, where: str) -> None:
        if not isinstance(catchers, list):
            self.bad(where, "Catch must be an array")
            return
        for i, c in enumerate(catchers):
            w = f"{where}.Catch[{i}]"
            if not isinstance(c, dict):
                self.bad(w, "a Catcher must be an object")
                continue
            for k in c:
                if k not in ("ErrorEquals", "Next", "ResultPath", "Comment"):
                    self.bad(w, f"field '{k}' is not supported in a Catcher")
            self._error_equals(c, w)
            self.target(c.get("Next"), states, w, "Next")
            if c.get("ResultPath") is not None:
                self.path(c["ResultPath"], w, "ResultPath", reference=True)
        self._all_last(catchers, where, "Catcher")


def _reachable(start: str, states: dict) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in states:
            continue
        seen.add(name)
        st = states[name]
        if not isinstance(st, dict):
            continue
        nxt = [st.get("Next"), st.get("Default")]
        nxt += [r.get("Next") for r in st.get("Choices") or [] if isinstance(r, dict)]
        nxt += [c.get("Next") for c in st.get("Catch") or [] if isinstance(c, dict)]
        todo.extend(n for n in nxt if isinstance(n, str))
    return seen


def validate_definition(definition: Any) -> None:
    """Raise :class:`DefinitionError` listing every problem of an ASL definition."""
    v = _Validator()
    v.machine(definition)
    if v.problems:
        raise DefinitionError(v.problems)


# --------------------------------------------------------------------------------------------
# the interpreter
# --------------------------------------------------------------------------------------------

class _ExecutionTimedOut(StatesError):
    """The top-level TimeoutSeconds elapsed: ends the execution, no Retry/Catch applies."""


class _Cancel:
    """Cancellation flag of a Parallel/Map scope, chained to the enclosing scope's flag."""

    def __init__(self, parent: _Cancel | None = None):
        self._event = threading.Event()
        self._parent = parent

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set() or (self._parent is not None and self._parent.is_set())


class _Run:
    """Per-execution state: context object pieces and the history."""

    def __init__(self, machine: StateMachine, execution: Execution):
        self.machine = machine
        self.execution = execution
        self._lock = threading.Lock()
        self.context_execution = {
            "Id": execution.execution_arn,
            "Input": execution.input,
            "Name": execution.name,
            "RoleArn": f"arn:aws:iam::{machine.account_id}:role/StepFunctionsLocal",
            "StartTime": iso_timestamp(execution.start_date),
            "RedriveCount": 0,
        }
        timeout = machine.definition.get("TimeoutSeconds")
        self.deadline = time.monotonic() + timeout * machine.timeout_scale if timeout else None
        self.timeout = timeout

    def record(self, type_: str, state: str | None = None, scope: str = "", **details: Any) -> None:
        with self._lock:
            event = {"id": len(self.execution.history) + 1, "type": type_,
                     "timestamp": iso_timestamp(self.machine._now())}
            if state is not None:
                event["state"] = state
            if scope:
                event["scope"] = scope
            event.update(details)
            self.execution.history.append(event)

    def context(self, state: str, entered: datetime, retry_count: int = 0) -> dict:
        return {
            "Execution": self.context_execution,
            "State": {"Name": state, "EnteredTime": iso_timestamp(entered), "RetryCount": retry_count},
            "StateMachine": {"Id": self.machine.arn, "Name": self.machine.name},
            "Task": {},
        }


@dataclass(frozen=True)
class _Scope:
    start_at: str
    states: dict
    label: str


class StateMachine:
    """Executes one ASL definition.

    ``resources`` resolves a Task's function to a callable ``(payload, context) -> result``:
    a mapping or a function of the key. For ``arn:aws:states:::lambda:invoke`` the key is the
    ``FunctionName`` parameter (then the bare function name when it is an ARN); for any other
    Resource the key is the Resource string itself (then the function name of a Lambda ARN).
    """

    def __init__(self, definition: Mapping[str, Any], resources: Resources, *, name: str = "StateMachine",
                 region: str = _DEFAULT_REGION, account_id: str = _DEFAULT_ACCOUNT,
                 sleep: Callable[[float], Any] = time.sleep, clock: Callable[[], datetime] | None = None,
                 random: Callable[[], float] | None = None, timeout_scale: float = 1.0,
                 max_payload_bytes: int | None = MAX_PAYLOAD_BYTES, max_concurrency: int = 40):
        validate_definition(definition)
        self.definition = _json_copy(definition)
        self.resources = resources
        self.name = name
        self.region = region
        self.account_id = account_id
        self.arn = f"arn:aws:states:{region}:{account_id}:stateMachine:{name}"
        self.sleep = sleep
        self._clock = clock or (lambda: datetime.now(UTC))
        self._random = random or _random.random
        self.timeout_scale = timeout_scale
        self.max_payload_bytes = max_payload_bytes
        self.max_concurrency = max_concurrency
        self._root = _Scope(self.definition["StartAt"], self.definition["States"], "")

    # -- public ------------------------------------------------------------------------------
    def execution_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account_id}:execution:{self.name}:{name}"

    def new_execution(self, input: Any = None, name: str | None = None) -> Execution:
        """Create a RUNNING execution record (not run yet); input may be a JSON string."""
        name = name if name is not None else str(uuid.uuid4())
        validate_execution_name(name)
        if input is None:
            input = {}
        elif isinstance(input, (str, bytes)):
            input = json.loads(input)
        else:
            input = _json_copy(input)
        return Execution(self.execution_arn(name), name, self.arn, input, start_date=self._now())

    def execute(self, input: Any = None, name: str | None = None) -> Execution:
        """Run an execution to completion on the calling thread."""
        execution = self.new_execution(input, name)
        self.run(execution)
        return execution

    def run(self, execution: Execution) -> Execution:
        run = _Run(self, execution)
        run.record("ExecutionStarted", input=execution.input)
        try:
            self._check_size(execution.input, "execution input")
            output = self._run_scope(run, self._root, execution.input, _Cancel())
        except StatesError as exc:
            execution.status, execution.error, execution.cause = "FAILED", exc.error, exc.cause
            execution.timed_out = isinstance(exc, _ExecutionTimedOut)
            run.record("ExecutionFailed", error=exc.error, cause=exc.cause)
        except Exception as exc:  # an interpreter defect: fail loudly but keep the process alive
            log.exception("ASL interpreter failure in %s", execution.execution_arn)
            execution.status, execution.error = "FAILED", E.RUNTIME
            execution.cause = f"internal interpreter error: {type(exc).__name__}: {exc}"
            run.record("ExecutionFailed", error=execution.error, cause=execution.cause)
        else:
            execution.status, execution.output = "SUCCEEDED", output
            run.record("ExecutionSucceeded", output=output)
        execution.stop_date = self._now()
        return execution

    # -- plumbing ----------------------------------------------------------------------------
    def _now(self) -> datetime:
        return self._clock()

    def _check_size(self, value: Any, where: str) -> None:
        if self.max_payload_bytes is not None and _json_bytes(value) > self.max_payload_bytes:
            raise StatesError(E.DATA_LIMIT_EXCEEDED,
                              f"The {where} has a size exceeding the maximum number of bytes "
                              f"service limit ({self.max_payload_bytes}).")

    def _run_scope(self, run: _Run, scope: _Scope, data: Any, cancel: _Cancel) -> Any:
        name = scope.start_at
        while True:
            if cancel.is_set():
                raise ExecutionCancelled()
            if run.deadline is not None and time.monotonic() > run.deadline:
                raise _ExecutionTimedOut(E.TIMEOUT, f"The execution timed out after {run.timeout} seconds "
                                             f"(top-level TimeoutSeconds), before state '{name}'")
            state = scope.states[name]
            typ = state["Type"]
            entered = self._now()
            run.record(f"{typ}StateEntered", name, scope.label, input=data)
            output, nxt = self._run_state(run, scope, name, state, data, entered, cancel)
            self._check_size(output, f"output of state '{name}'")
            run.record(f"{typ}StateExited", name, scope.label, output=output)
            if nxt is None:
                return output
            name, data = nxt, output

    def _run_state(self, run, scope, name, state, data, entered, cancel) -> tuple[Any, str | None]:
        typ = state["Type"]
        nxt = None if state.get("End") else state.get("Next")
        if typ == "Succeed":
            return self._output_path(state, self._input_path(state, data)), None
        if typ == "Fail":
            self._fail(run, scope, name, state, data, entered)
        if typ == "Pass":
            ctx = run.context(name, entered)
            effective = self._parameters(state, self._input_path(state, data), ctx)
            result = state["Result"] if "Result" in state else effective
            return self._output_path(state, self._result_path(state, data, result)), nxt
        if typ == "Choice":
            return self._choice(run, scope, name, state, data, entered)
        if typ == "Wait":
            return self._wait(state, data), nxt
        # Task / Parallel / Map: Retry and Catch
        return self._with_retry_and_catch(run, scope, name, state, data, entered, cancel, nxt)

    # -- input/output processing -------------------------------------------------------------
    def _input_path(self, state: dict, data: Any) -> Any:
        return self._select(state, "InputPath", data)

    def _output_path(self, state: dict, data: Any) -> Any:
        return self._select(state, "OutputPath", data)

    def _select(self, state: dict, key: str, data: Any) -> Any:
        if key not in state:
            return data
        if state[key] is None:
            return {}
        try:
            return parse_path(state[key]).evaluate(data)
        except PathNotFound:
            raise StatesError(E.RUNTIME, f"Invalid path '{state[key]}' for {key}: "
                                         f"no results in the input {_short(data)}") from None

    def _parameters(self, state: dict, effective: Any, ctx: dict, key: str = "Parameters") -> Any:
        if key not in state:
            return effective
        return self._template(state[key], effective, ctx, key)

    def _template(self, tmpl: Any, data: Any, ctx: dict, where: str) -> Any:
        if isinstance(tmpl, dict):
            out = {}
            for k, v in tmpl.items():
                if k.endswith(".$"):
                    out[k[:-2]] = self._dynamic(v, data, ctx, f"{k}")
                else:
                    out[k] = self._template(v, data, ctx, where)
            return out
        if isinstance(tmpl, list):
            return [self._template(v, data, ctx, where) for v in tmpl]
        return tmpl

    def _dynamic(self, expr: str, data: Any, ctx: dict, field_name: str) -> Any:
        try:
            if is_intrinsic(expr):
                return evaluate_intrinsic(parse_intrinsic(expr), data, ctx)
            path = parse_path(expr)
            return path.evaluate(ctx if path.context else data)
        except PathNotFound as exc:
            # AWS reports an unmatched '.$' path (Parameters, ResultSelector, ItemSelector, intrinsic
            # arguments) as States.Runtime, which no Retry/Catch handles, not as the ASL spec's
            # States.ParameterPathFailure (see README.md, "States.Runtime").
            raise StatesError(E.RUNTIME,
                              f"The JSONPath '{exc.path}' specified for the field '{field_name}' could not be "
                              f"found in the input {_short(data)}") from None

    def _result_path(self, state: dict, raw_input: Any, result: Any, result_path: Any = ...) -> Any:
        rp = state.get("ResultPath", "$") if result_path is ... else result_path
        if rp is None:
            return raw_input
        try:
            return parse_reference_path(rp).set(raw_input, result)
        except PathSetError as exc:
            raise StatesError(E.RESULT_PATH_MATCH_FAILURE,
                              f"Unable to apply ResultPath '{rp}' to input {_short(raw_input)}: {exc}") from None

    def _result_selector(self, state: dict, result: Any, ctx: dict) -> Any:
        if "ResultSelector" not in state:
            return result
        return self._template(state["ResultSelector"], result, ctx, "ResultSelector")

    def _ref(self, data: Any, path: str, what: str) -> Any:
        try:
            return parse_path(path).evaluate(data)
        except PathNotFound:
            raise StatesError(E.RUNTIME, f"Invalid path '{path}' for {what}: no results in {_short(data)}") from None

    # -- Fail / Choice / Wait ----------------------------------------------------------------
    def _fail(self, run, scope, name, state, data, entered) -> None:
        ctx = run.context(name, entered)
        values = {}
        for key in ("Error", "Cause"):
            if key in state:
                values[key] = state[key]
            elif key + "Path" in state:
                try:
                    value = self._dynamic(state[key + "Path"], data, ctx, key + "Path")
                except StatesError as exc:
                    raise StatesError(E.RUNTIME, exc.cause) from None
                if not isinstance(value, str):
                    raise StatesError(E.RUNTIME, f"{key}Path '{state[key + 'Path']}' must select a string, "
                                                 f"got {_short(value)}")
                values[key] = value
        raise StatesError(values.get("Error"), values.get("Cause"))

    def _choice(self, run, scope, name, state, data, entered):
        ctx = run.context(name, entered)
        effective = self._input_path(state, data)
        for rule in state["Choices"]:
            if self._rule(rule, effective, ctx):
                return self._output_path(state, effective), rule["Next"]
        if "Default" in state:
            return self._output_path(state, effective), state["Default"]
        raise StatesError(E.NO_CHOICE_MATCHED, f"No Choice Rule matched and no Default in state '{name}'")

    def _rule(self, rule: dict, data: Any, ctx: dict) -> bool:
        if "And" in rule:
            return all(self._rule(r, data, ctx) for r in rule["And"])
        if "Or" in rule:
            return any(self._rule(r, data, ctx) for r in rule["Or"])
        if "Not" in rule:
            return not self._rule(rule["Not"], data, ctx)
        var = parse_path(rule["Variable"])
        doc = ctx if var.context else data
        op = next(k for k in rule if k in _ALL_OPS)
        expected = rule[op]
        if op == "IsPresent":
            return var.exists(doc) == expected
        try:
            value = var.evaluate(doc)
        except PathNotFound:
            raise StatesError(E.RUNTIME, f"Invalid path '{rule['Variable']}': the choice state's condition "
                                         f"path references an undefined value") from None
        if op in _TYPE_OPS:
            actual = {
                "IsNull": value is None,
                "IsNumeric": _is_number(value),
                "IsString": isinstance(value, str),
                "IsBoolean": isinstance(value, bool),
                "IsTimestamp": parse_timestamp(value) is not None,
            }[op]
            return actual == expected
        if op in _PATH_OPS:
            other = parse_path(expected)
            expected = self._ref(ctx if other.context else data, expected, op)
            op = op[:-4]
        return _compare(op, value, expected)

    def _wait(self, state: dict, data: Any) -> Any:
        effective = self._input_path(state, data)
        if "Seconds" in state:
            seconds = state["Seconds"]
        elif "SecondsPath" in state:
            seconds = self._ref(effective, state["SecondsPath"], "SecondsPath")
            if not _is_int(seconds) or seconds < 0:
                raise StatesError(E.RUNTIME, f"SecondsPath '{state['SecondsPath']}' must select a non-negative "
                                             f"integer, got {_short(seconds)}")
        else:
            raw = state["Timestamp"] if "Timestamp" in state else self._ref(effective, state["TimestampPath"],
                                                                            "TimestampPath")
            ts = parse_timestamp(raw)
            if ts is None:
                raise StatesError(E.RUNTIME, f"TimestampPath must select an RFC 3339 timestamp, got {_short(raw)}")
            seconds = max(0.0, (ts - self._now()).total_seconds())
        if seconds > 0:
            self.sleep(seconds)
        return self._output_path(state, effective)

    # -- Retry / Catch -----------------------------------------------------------------------
    def _with_retry_and_catch(self, run, scope, name, state, data, entered, cancel, nxt):
        retriers = state.get("Retry") or []
        counts = [0] * len(retriers)
        retries = 0
        while True:
            try:
                ctx = run.context(name, entered, retries)
                output = {"Task": self._task, "Parallel": self._parallel, "Map": self._map}[state["Type"]](
                    run, scope, name, state, data, ctx, cancel)
                return output, nxt
            except StatesError as exc:
                if isinstance(exc, _ExecutionTimedOut):
                    raise
                if cancel.is_set():
                    raise ExecutionCancelled() from None
                idx = next((i for i, r in enumerate(retriers) if error_matches(r["ErrorEquals"], exc.error)), None)
                if idx is not None:
                    r = retriers[idx]
                    if counts[idx] < r.get("MaxAttempts", 3):
                        delay = r.get("IntervalSeconds", 1) * (r.get("BackoffRate", 2.0) ** counts[idx])
                        if "MaxDelaySeconds" in r:
                            delay = min(delay, r["MaxDelaySeconds"])
                        if r.get("JitterStrategy") == "FULL":
                            delay *= self._random()
                        counts[idx] += 1
                        retries += 1
                        run.record("RetryScheduled", name, scope.label, error=exc.error, cause=exc.cause,
                                   retrier=idx, attempt=counts[idx], delay_seconds=delay)
                        self.sleep(delay)
                        if cancel.is_set():
                            raise ExecutionCancelled() from None
                        continue
                for i, c in enumerate(state.get("Catch") or []):
                    if error_matches(c["ErrorEquals"], exc.error):
                        output = self._result_path(state, data, exc.error_output, c.get("ResultPath", "$"))
                        run.record("ErrorCaught", name, scope.label, error=exc.error, cause=exc.cause,
                                   catcher=i, next=c["Next"])
                        return output, c["Next"]
                raise

    # -- Task --------------------------------------------------------------------------------
    def _task(self, run, scope, name, state, data, ctx, cancel) -> Any:
        effective = self._input_path(state, data)
        params = self._parameters(state, effective, ctx)
        timeout = state.get("TimeoutSeconds")
        if "TimeoutSecondsPath" in state:
            timeout = self._ref(effective, state["TimeoutSecondsPath"], "TimeoutSecondsPath")
            if not _is_int(timeout) or timeout <= 0:
                raise StatesError(E.RUNTIME, f"TimeoutSecondsPath must select a positive integer, got {timeout!r}")
        resource = state["Resource"]
        run.record("TaskScheduled", name, scope.label, resource=resource, parameters=params)
        try:
            result = self._invoke(resource, params, timeout, ctx)
        except StatesError as exc:
            run.record("TaskTimedOut" if exc.error == E.TIMEOUT else "TaskFailed", name, scope.label,
                       error=exc.error, cause=exc.cause)
            raise
        run.record("TaskSucceeded", name, scope.label, output=result)
        result = self._result_selector(state, result, ctx)
        return self._output_path(state, self._result_path(state, data, result))

    def _lookup(self, keys: list[str | None]) -> Resource | None:
        res = self.resources
        for key in keys:
            if key is None:
                continue
            if isinstance(res, Mapping):
                fn = res.get(key)
            else:
                try:
                    fn = res(key)
                except KeyError:
                    fn = None
            if fn is not None:
                return fn
        return None

    def _invoke(self, resource: str, params: Any, timeout: int | None, ctx: dict) -> Any:
        if resource == LAMBDA_INVOKE:
            if not isinstance(params, dict) or not isinstance(params.get("FunctionName"), str):
                raise StatesError(E.RUNTIME, "lambda:invoke needs a FunctionName string parameter")
            function = params["FunctionName"]
            m = _LAMBDA_ARN_RE.match(function)
            fname = m.group(1) if m else function.split(":")[0]
            fn = self._lookup([function, fname])
            if fn is None:
                raise StatesError("Lambda.ResourceNotFoundException",
                                  f"Function not found: {function} (no local callable is registered for it)")
            arn = function if m else f"arn:aws:lambda:{self.region}:{self.account_id}:function:{fname}"
            kind = params.get("InvocationType", "RequestResponse")
            payload = params.get("Payload", {})
            if kind == "DryRun":
                value, status = "", 204
            else:
                value = self._call(fn, payload, fname, arn, timeout, ctx)
                value, status = (value, 200) if kind != "Event" else ("", 202)
            request_id = str(uuid.uuid4())
            return {
                "ExecutedVersion": "$LATEST",
                "Payload": value,
                "SdkHttpMetadata": {"HttpHeaders": {"Content-Type": "application/json",
                                                    "x-amzn-RequestId": request_id},
                                    "HttpStatusCode": status},
                "SdkResponseMetadata": {"RequestId": request_id},
                "StatusCode": status,
            }
        m = _LAMBDA_ARN_RE.match(resource)
        fname = m.group(1) if m else resource.rsplit(":", 1)[-1]
        fn = self._lookup([resource, fname if m else None])
        if fn is None:
            if m:
                raise StatesError("Lambda.ResourceNotFoundException",
                                  f"Function not found: {resource} (no local callable is registered for it)")
            raise StatesError(E.RUNTIME, f"no local implementation registered for Resource '{resource}'")
        return self._call(fn, params, fname, resource if m else resource, timeout, ctx)

    def _call(self, fn: Resource, payload: Any, fname: str, arn: str, timeout: int | None, ctx: dict) -> Any:
        try:
            payload = _json_copy(payload)
        except (TypeError, ValueError) as exc:
            raise StatesError(E.RUNTIME, f"task input is not JSON: {exc}") from None
        lctx = LambdaContext(fname, arn, timeout, state=ctx)

        def invoke() -> Any:
            try:
                value = fn(payload, lctx)
            except StatesError:
                raise
            except Exception as exc:
                error = getattr(exc, "error_name", None) or type(exc).__name__
                raise StatesError(str(error), json.dumps({"errorMessage": str(exc),
                                                          "errorType": type(exc).__name__})) from exc
            try:
                return _json_copy(value)
            except (TypeError, ValueError) as exc:
                raise StatesError("Runtime.MarshalError", json.dumps({
                    "errorMessage": f"Unable to marshal response: {exc}", "errorType": "Runtime.MarshalError"
                })) from None

        if not timeout:
            return invoke()
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = invoke()
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
                box["error"] = exc

        worker = threading.Thread(target=target, name=f"asl-task-{fname}", daemon=True)
        worker.start()
        worker.join(timeout * self.timeout_scale)
        if worker.is_alive():
            raise StatesError(E.TIMEOUT, f"Task timed out after {timeout} seconds")
        if "error" in box:
            raise box["error"]
        return box["value"]

    # -- Parallel / Map ----------------------------------------------------------------------
    def _parallel(self, run, scope, name, state, data, ctx, cancel) -> Any:
        effective = self._parameters(state, self._input_path(state, data), ctx)
        label = f"{scope.label}/{name}" if scope.label else name
        jobs = [(_Scope(b["StartAt"], b["States"], f"{label}[{i}]"), effective)
                for i, b in enumerate(state["Branches"])]
        results = self._fan_out(run, jobs, len(jobs), cancel)
        result = self._result_selector(state, results, ctx)
        return self._output_path(state, self._result_path(state, data, result))

    def _map(self, run, scope, name, state, data, ctx, cancel) -> Any:
        effective = self._input_path(state, data)
        items_path = state.get("ItemsPath", "$")
        items = self._ref(effective, items_path, "ItemsPath")
        if not isinstance(items, list):
            raise StatesError(E.RUNTIME, f"ItemsPath '{items_path}' must select an array, got {_short(items)}")
        concurrency = state.get("MaxConcurrency", 0)
        if "MaxConcurrencyPath" in state:
            concurrency = self._ref(effective, state["MaxConcurrencyPath"], "MaxConcurrencyPath")
            if not _is_int(concurrency) or concurrency < 0:
                raise StatesError(E.RUNTIME, f"MaxConcurrencyPath must select a non-negative integer, "
                                             f"got {concurrency!r}")
        selector_key = "ItemSelector" if "ItemSelector" in state else "Parameters" if "Parameters" in state else None
        proc = state.get("ItemProcessor") or state["Iterator"]
        label = f"{scope.label}/{name}" if scope.label else name
        jobs = []
        for i, item in enumerate(items):
            if selector_key:
                item_ctx = dict(ctx, Map={"Item": {"Index": i, "Value": item}})
                item_input = self._template(state[selector_key], effective, item_ctx, selector_key)
            else:
                item_input = item
            jobs.append((_Scope(proc["StartAt"], proc["States"], f"{label}[{i}]"), item_input))
        workers = min(len(jobs), concurrency or self.max_concurrency, self.max_concurrency) or 1
        results = self._fan_out(run, jobs, workers, cancel)
        result = self._result_selector(state, results, ctx)
        return self._output_path(state, self._result_path(state, data, result))

    def _fan_out(self, run: _Run, jobs: list[tuple[_Scope, Any]], workers: int, cancel: _Cancel) -> list:
        if not jobs:
            return []
        child = _Cancel(cancel)
        results: list[Any] = [None] * len(jobs)
        failures: list[BaseException] = []
        lock = threading.Lock()

        def work(i: int) -> None:
            sub_scope, sub_input = jobs[i]
            try:
                results[i] = self._run_scope(run, sub_scope, sub_input, child)
            except ExecutionCancelled:
                pass
            except BaseException as exc:  # noqa: BLE001 - first failure wins, re-raised below
                with lock:
                    failures.append(exc)
                child.set()

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="asl-branch") as pool:
            list(pool.map(work, range(len(jobs))))
        if failures:
            raise failures[0]
        if cancel.is_set():
            raise ExecutionCancelled()
        return results


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "StringMatches":
        return isinstance(a, str) and isinstance(b, str) and _wildcard(b).fullmatch(a) is not None
    if op.startswith("String"):
        if not (isinstance(a, str) and isinstance(b, str)):
            return False
    elif op.startswith("Numeric"):
        if not (_is_number(a) and _is_number(b)):
            return False
    elif op == "BooleanEquals":
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    elif op.startswith("Timestamp"):
        a, b = parse_timestamp(a), parse_timestamp(b)
        if a is None or b is None:
            return False
    rel = op.removeprefix("String").removeprefix("Numeric").removeprefix("Timestamp")
    return {
        "Equals": a == b,
        "LessThan": a < b,
        "GreaterThan": a > b,
        "LessThanEquals": a <= b,
        "GreaterThanEquals": a >= b,
    }[rel]


_WILDCARD_CACHE: dict[str, re.Pattern] = {}


def _wildcard(pattern: str) -> re.Pattern:
    """StringMatches: ``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literals."""
    rx = _WILDCARD_CACHE.get(pattern)
    if rx is None:
        out, i = [], 0
        while i < len(pattern):
            c = pattern[i]
            if c == "\\" and i + 1 < len(pattern):
                out.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            out.append(".*" if c == "*" else re.escape(c))
            i += 1
        rx = _WILDCARD_CACHE[pattern] = re.compile("".join(out), re.DOTALL)
    return rx


__all__ = [
    "DefinitionError", "Execution", "LAMBDA_INVOKE", "LambdaContext", "StateMachine", "StatesError",
    "load_definition", "substitute", "validate_definition", "validate_execution_name", "parse_timestamp",
    "iso_timestamp",
]
