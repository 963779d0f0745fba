"""JSONPath subset and intrinsic functions."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from melody_dev.workflow.errors import StatesError
from melody_dev.workflow.intrinsics import IntrinsicSyntaxError, evaluate_intrinsic, parse_intrinsic
from melody_dev.workflow.paths import PathNotFound, PathSetError, PathSyntaxError, parse_path, parse_reference_path

DOC = {
    "a": {"b": [{"c": 1, "d": "x"}, {"c": 2}], "name with space": 7},
    "list": [10, 20, 30, 40],
    "n": None,
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("$.a.b[0].c", 1),
        ("$.a.b[1]", {"c": 2}),
        ("$.a.b[0]", {"c": 1, "d": "x"}),
        ("$['a']['name with space']", 7),
        ("$.list[-1]", 40),
        ("$.n", None),
    ],
)
def test_definite_paths_return_the_node(path, expected):
    assert parse_path(path).evaluate(DOC) == expected


def test_index_then_field_returns_the_element_not_a_list():
    # moto/LocalStack return [1] here; AWS (Jayway) returns 1
    assert parse_path("$.a.b[0].c").evaluate(DOC) == 1


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.a.b[*].c", [1, 2]),
        ("$.list[1:3]", [20, 30]),
        ("$.list[0,2]", [10, 30]),
        ("$..c", [1, 2]),
        ("$.a.b[*].d", ["x"]),
        ("$.missing[*]", []),
    ],
)
def test_indefinite_paths_return_lists(path, expected):
    assert parse_path(path).evaluate(DOC) == expected


@pytest.mark.parametrize("path", ["$.nope", "$.a.b[5]", "$.a.b[0].zzz", "$.list.x", "$.n.x"])
def test_missing_definite_path_raises(path):
    with pytest.raises(PathNotFound):
        parse_path(path).evaluate(DOC)


@pytest.mark.parametrize("bad", ["a.b", "$.", "$.a[", "$.a[?(@.x)]", "$a", "$.a[x]", ""])
def test_syntax_errors(bad):
    with pytest.raises(PathSyntaxError):
        parse_path(bad)


def test_context_path_flag():
    p = parse_path("$$.Execution.Id")
    assert p.context and p.evaluate({"Execution": {"Id": "arn"}}) == "arn"
    assert not parse_path("$.Execution").context


def test_reference_paths_reject_wildcards():
    parse_reference_path("$.a[0].b")
    with pytest.raises(PathSyntaxError):
        parse_reference_path("$.a[*]")
    with pytest.raises(PathSyntaxError):
        parse_reference_path("$..a")


def test_set_creates_nested_objects_and_copies():
    original = {"keep": 1}
    out = parse_reference_path("$.x.y.z").set(original, 5)
    assert out == {"keep": 1, "x": {"y": {"z": 5}}}
    assert original == {"keep": 1}


def test_set_root_replaces():
    assert parse_reference_path("$").set({"a": 1}, [1]) == [1]


def test_set_into_existing_list_element():
    assert parse_reference_path("$.l[1].v").set({"l": [{}, {}]}, 3) == {"l": [{}, {"v": 3}]}


@pytest.mark.parametrize(("path", "data"), [("$.a.b", {"a": "str"}), ("$.x", [1]), ("$.l[3]", {"l": [1]})])
def test_set_through_non_object_fails(path, data):
    with pytest.raises(PathSetError):
        parse_reference_path(path).set(data, 1)


# --- intrinsics ---------------------------------------------------------------------------

CTX = {"Execution": {"Id": "arn:exec", "Name": "run-1"}}


def ev(expr, data=None):
    return evaluate_intrinsic(parse_intrinsic(expr), data if data is not None else {}, CTX)


def test_format():
    data = {"name": "Asha", "n": 3, "ok": True, "none": None}
    assert ev("States.Format('Hi {}, {} items, {} {}', $.name, $.n, $.ok, $.none)", data) == "Hi Asha, 3 items, true null"
    assert ev("States.Format('job {}', $$.Execution.Name)") == "job run-1"


def test_format_escapes():
    assert ev(r"States.Format('a \{\} b {} \'q\' \\', 'x')") == r"a {} b x 'q' \ "[:-1]


def test_format_argument_count_mismatch():
    with pytest.raises(StatesError) as exc:
        ev("States.Format('{} {}', 'x')")
    assert exc.value.error == "States.IntrinsicFailure"
    with pytest.raises(StatesError):
        ev("States.Format('{}', 'x', 'y')")


def test_json_functions():
    assert ev("States.StringToJson($.s)", {"s": '{"a":[1,2]}'}) == {"a": [1, 2]}
    assert ev("States.JsonToString($.o)", {"o": {"a": [1, 2], "b": "é"}}) == '{"a":[1,2],"b":"é"}'
    with pytest.raises(StatesError):
        ev("States.StringToJson('not json')")


def test_array_functions():
    assert ev("States.Array('a', 1, $.x, States.Array(true, null))", {"x": {"k": 1}}) == ["a", 1, {"k": 1}, [True, None]]
    assert ev("States.ArrayPartition($.l, 2)", {"l": [1, 2, 3, 4, 5]}) == [[1, 2], [3, 4], [5]]
    assert ev("States.ArrayContains($.l, 3)", {"l": [1, 2, 3]}) is True
    assert ev("States.ArrayRange(1, 9, 2)") == [1, 3, 5, 7, 9]
    assert ev("States.ArrayGetItem($.l, 1)", {"l": ["a", "b"]}) == "b"
    assert ev("States.ArrayLength($.l)", {"l": [1, 2, 3]}) == 3
    assert ev("States.ArrayUnique($.l)", {"l": [1, 2, 1, {"a": 1}, {"a": 1}]}) == [1, 2, {"a": 1}]


def test_hash_matches_hashlib():
    assert ev("States.Hash($.s, 'SHA-256')", {"s": "song"}) == hashlib.sha256(b"song").hexdigest()
    assert ev("States.Hash('x', 'MD5')") == hashlib.md5(b"x").hexdigest()
    with pytest.raises(StatesError):
        ev("States.Hash('x', 'CRC32')")


def test_math_and_strings():
    assert ev("States.MathAdd($.a, -2)", {"a": 5}) == 3
    with pytest.raises(StatesError):
        ev("States.MathAdd(1.5, 1)")
    assert 1 <= ev("States.MathRandom(1, 10)") < 10
    assert ev("States.MathRandom(1, 1000, 7)") == ev("States.MathRandom(1, 1000, 7)")
    assert ev("States.StringSplit('a.b+c,d', '.+,')") == ["a", "b", "c", "d"]
    assert ev("States.Base64Decode(States.Base64Encode('héllo'))") == "héllo"
    assert ev("States.JsonMerge($.a, $.b, false)", {"a": {"x": 1, "y": 1}, "b": {"y": 2}}) == {"x": 1, "y": 2}


def test_uuid():
    uuid.UUID(ev("States.UUID()"))


def test_intrinsic_path_missing_raises_path_not_found():
    with pytest.raises(PathNotFound):
        ev("States.Format('{}', $.missing)")


@pytest.mark.parametrize(
    "bad",
    ["States.Nope(1)", "States.Format('x'", "States.Format('x') trailing", "States.Format('unterminated)",
     "States.MathAdd(1,,2)", "States.Format(foo)"],
)
def test_intrinsic_syntax_errors(bad):
    with pytest.raises(IntrinsicSyntaxError):
        parse_intrinsic(bad)


def test_json_to_string_round_trip_with_nested_call():
    out = ev("States.StringToJson(States.JsonToString($.o))", {"o": {"k": [1, {"z": None}]}})
    assert out == {"k": [1, {"z": None}]}
    assert json.loads(ev("States.JsonToString($)", {"a": 1})) == {"a": 1}
