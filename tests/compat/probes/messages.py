"""Message constructors: inputs -> as_json / kind / data / as_* accessors, or the error raised."""

from __future__ import annotations

from typing import Any

from _harness import add_case, attempt, decode, describe_exc, encode
from offbit_reflow import Message

GOLDEN = "messages.json"
ABOUT = (
    "For each Message constructor, a table of calls. 'args' (positional) and 'kwargs' are encoded "
    "values (see 'encoding'). 'result' is either the observed accessors of the message built "
    "({as_json, kind, data, as_integer, as_float, as_string, as_boolean, as_bytes, roundtrip}, "
    "roundtrip being Message.from_json(m.as_json()).as_json() or its error) or {'error': ...}."
)

PY = lambda text: {"$py": text}  # noqa: E731

# (id, args, kwargs)
TABLE: dict[str, list[tuple[str, list[Any], dict[str, Any]]]] = {
    "integer": [
        ("zero", [0], {}),
        ("positive", [42], {}),
        ("negative", [-7], {}),
        ("bool_true", [True], {}),
        ("bool_false", [False], {}),
        ("int_enum", [PY("IntEnum('E', 'A B')(2)")], {}),
        ("i64_max", [PY("2**63 - 1")], {}),
        ("i64_min", [PY("-2**63")], {}),
        ("two_pow_63", [PY("2**63")], {}),
        ("below_i64_min", [PY("-2**63 - 1")], {}),
        ("two_pow_64", [PY("2**64")], {}),
        ("float_integral", [3.0], {}),
        ("float_fraction", [3.5], {}),
        ("float_nan", [PY("float('nan')")], {}),
        ("string_digits", ["7"], {}),
        ("none", [None], {}),
        ("list", [[1]], {}),
        ("kwarg_v", [], {"v": 5}),
        ("no_args", [], {}),
    ],
    "float": [
        ("zero", [0.0], {}),
        ("three", [3.0], {}),
        ("negative_fraction", [-1.5], {}),
        ("negative_zero", [-0.0], {}),
        ("int", [3], {}),
        ("bool_true", [True], {}),
        ("big_int", [PY("2**63")], {}),
        ("huge_int", [PY("2**1024")], {}),
        ("max_double", [1.7976931348623157e308], {}),
        ("tiny", [5e-324], {}),
        ("nan", [PY("float('nan')")], {}),
        ("inf", [PY("float('inf')")], {}),
        ("minus_inf", [PY("float('-inf')")], {}),
        ("string_number", ["3.0"], {}),
        ("none", [None], {}),
        ("list", [[1.0]], {}),
        ("kwarg_v", [], {"v": 2.5}),
    ],
    "string": [
        ("ascii", ["hi"], {}),
        ("empty", [""], {}),
        ("unicode", ["ünï→😀"], {}),
        ("nul_char", ["a\u0000b"], {}),
        ("int", [5], {}),
        ("none", [None], {}),
        ("bytes", [PY("b'hi'")], {}),
        ("bool", [True], {}),
        ("kwarg_v", [], {"v": "k"}),
    ],
    "boolean": [
        ("true", [True], {}),
        ("false", [False], {}),
        ("int_one", [1], {}),
        ("int_zero", [0], {}),
        ("float_one", [1.0], {}),
        ("string_true", ["true"], {}),
        ("none", [None], {}),
        ("kwarg_v", [], {"v": False}),
    ],
    "array": [
        ("empty", [[]], {}),
        ("mixed", [[1, "a", None, True, 1.5, {"k": [1]}]], {}),
        ("tuple", [PY("(1, 2)")], {}),
        ("nested_tuple", [PY("[(1, 2), (3,)]")], {}),
        ("bytes_element", [PY("[b'x']")], {}),
        ("nan_element", [PY("[float('nan')]")], {}),
        ("big_int_element", [PY("[2**64]")], {}),
        ("i64_min_element", [PY("[-2**63]")], {}),
        ("non_str_key_element", [PY("[{1: 'a'}]")], {}),
        ("message_element", [PY("[Message.integer(1)]")], {}),
        ("set", [PY("{1}")], {}),
        ("range", [PY("range(3)")], {}),
        ("dict", [{"a": 1}], {}),
        ("string", ["abc"], {}),
        ("none", [None], {}),
        ("int", [5], {}),
        ("kwarg_value", [], {"value": [1]}),
    ],
    "object": [
        ("dict", [{"a": 1}], {}),
        ("empty_dict", [{}], {}),
        ("nested", [{"a": {"b": [1, {"c": None}]}, "z": "s"}], {}),
        ("list", [[1, 2]], {}),
        ("string", ["str"], {}),
        ("int", [5], {}),
        ("float", [1.5], {}),
        ("bool", [True], {}),
        ("none", [None], {}),
        ("int_key", [PY("{1: 'a'}")], {}),
        ("tuple_key", [PY("{(1, 2): 1}")], {}),
        ("bool_key", [PY("{True: 1}")], {}),
        ("bytes_value", [PY("{'a': b'x'}")], {}),
        ("tuple_value", [PY("{'a': (1, 2)}")], {}),
        ("nan_value", [PY("{'a': float('nan')}")], {}),
        ("inf_value", [PY("{'a': float('inf')}")], {}),
        ("big_int_value", [PY("{'a': 2**64}")], {}),
        ("u64_value", [PY("{'a': 2**64 - 1}")], {}),
        ("message_value", [PY("{'a': Message.integer(1)}")], {}),
        ("message", [PY("Message.integer(1)")], {}),
        ("set_value", [PY("{'a': {1}}")], {}),
        ("kwarg_value", [], {"value": {"k": 1}}),
    ],
    "bytes": [
        ("empty", [PY("b''")], {}),
        ("some", [PY("b'\\x00\\x01h\\xff'")], {}),
        ("bytearray", [PY("bytearray(b'ab')")], {}),
        ("memoryview", [PY("memoryview(b'ab')")], {}),
        ("string", ["ab"], {}),
        ("int_list", [[1, 2]], {}),
        ("none", [None], {}),
        ("int", [5], {}),
        ("kwarg_v", [], {"v": PY("b'k'")}),
    ],
    "flow": [
        ("no_args", [], {}),
        ("one_arg", [1], {}),
    ],
    "error": [
        ("text", ["boom"], {}),
        ("empty", [""], {}),
        ("int", [5], {}),
        ("none", [None], {}),
        ("bytes", [PY("b'x'")], {}),
        ("kwarg_v", [], {"v": "e"}),
    ],
}


def observe(message: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in ("as_json", "data", "as_integer", "as_float", "as_string", "as_boolean", "as_bytes"):
        got = attempt(getattr(message, name))
        result[name] = got["value"] if "value" in got else got
    result["kind"] = message.kind
    try:
        result["roundtrip"] = encode(Message.from_json(message.as_json()).as_json())
    except BaseException as exc:  # noqa: BLE001
        result["roundtrip"] = {"error": describe_exc(exc)}
    return result


def make_case(ctor: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    def run() -> Any:
        values = decode(args, Message)
        kw = decode(kwargs, Message)
        try:
            message = getattr(Message, ctor)(*values, **kw)
        except BaseException as exc:  # noqa: BLE001
            return {"error": describe_exc(exc)}
        return observe(message)

    return run


for _ctor, _rows in TABLE.items():
    for _id, _args, _kwargs in _rows:
        add_case(f"{_ctor}/{_id}", make_case(_ctor, _args, _kwargs))


def build(results: dict[str, Any]) -> dict[str, Any]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for ctor, rows in TABLE.items():
        tables[ctor] = [
            {"id": f"{ctor}/{id_}", "args": args, "kwargs": kwargs, "result": results[f"{ctor}/{id_}"]}
            for id_, args, kwargs in rows
        ]
    return {"_about": {"text": ABOUT}, "constructors": tables}
