"""Message.from_json: a table of inputs for all 16 tags -> kind/as_json/data, or the error."""

from __future__ import annotations

from typing import Any

from _harness import add_case, decode, describe_exc, encode
from offbit_reflow import Message

GOLDEN = "from_json.json"
ABOUT = (
    "Message.from_json(input) for the 16 tags (valid and invalid payloads) and for malformed "
    "inputs. 'input' is an encoded value (see 'encoding'); 'result' is {kind, as_json, data, "
    "as_string} of the parsed message, or {'error': ...}. 'tags' is the order of the tags in the "
    "reference's unknown-variant error."
)

PY = lambda text: {"$py": text}  # noqa: E731
SH = {"stream_id": 1, "origin_actor": "a", "origin_port": "p", "content_type": "t", "size_hint": 10}
RR = {"network_id": "n", "actor_id": "a", "port": "p"}


def without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


def T(tag: str, data: Any = None, *, no_data: bool = False, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": tag}
    if not no_data:
        out["data"] = data
    out.update(extra)
    return out


TABLE: list[tuple[str, Any]] = [
    # Flow
    ("Flow/no_data", T("Flow", no_data=True)),
    ("Flow/data_null", T("Flow", None)),
    ("Flow/data_int", T("Flow", 5)),
    ("Flow/data_empty_dict", T("Flow", {})),
    ("Flow/data_string", T("Flow", "flow")),
    ("Flow/extra_key", T("Flow", no_data=True, extra=1)),
    # Event
    ("Event/object", T("Event", {"a": 1})),
    ("Event/int", T("Event", 5)),
    ("Event/null", T("Event", None)),
    ("Event/no_data", T("Event", no_data=True)),
    # Boolean
    ("Boolean/true", T("Boolean", True)),
    ("Boolean/int_one", T("Boolean", 1)),
    ("Boolean/string", T("Boolean", "true")),
    ("Boolean/null", T("Boolean", None)),
    ("Boolean/no_data", T("Boolean", no_data=True)),
    # Integer
    ("Integer/int", T("Integer", 7)),
    ("Integer/negative", T("Integer", -7)),
    ("Integer/float_integral", T("Integer", 7.0)),
    ("Integer/float_fraction", T("Integer", 7.5)),
    ("Integer/string", T("Integer", "7")),
    ("Integer/i64_max", T("Integer", PY("2**63 - 1"))),
    ("Integer/i64_min", T("Integer", PY("-2**63"))),
    ("Integer/two_pow_63", T("Integer", PY("2**63"))),
    ("Integer/below_i64_min", T("Integer", PY("-2**63 - 1"))),
    ("Integer/two_pow_64", T("Integer", PY("2**64"))),
    ("Integer/bool", T("Integer", True)),
    ("Integer/null", T("Integer", None)),
    ("Integer/no_data", T("Integer", no_data=True)),
    ("Integer/extra_key", T("Integer", 1, extra=2)),
    # Float
    ("Float/float", T("Float", 1.5)),
    ("Float/int", T("Float", 3)),
    ("Float/big_int", T("Float", PY("2**64"))),
    ("Float/string_nan", T("Float", "NaN")),
    ("Float/string_infinity", T("Float", "Infinity")),
    ("Float/string_number", T("Float", "1.5")),
    ("Float/python_nan", T("Float", PY("float('nan')"))),
    ("Float/python_inf", T("Float", PY("float('inf')"))),
    ("Float/null", T("Float", None)),
    ("Float/bool", T("Float", True)),
    ("Float/no_data", T("Float", no_data=True)),
    # String
    ("String/text", T("String", "s")),
    ("String/empty", T("String", "")),
    ("String/int", T("String", 5)),
    ("String/null", T("String", None)),
    ("String/no_data", T("String", no_data=True)),
    # Object
    ("Object/dict", T("Object", {"a": [1, {"b": None}]})),
    ("Object/list", T("Object", [1])),
    ("Object/int", T("Object", 5)),
    ("Object/null", T("Object", None)),
    ("Object/string", T("Object", "s")),
    ("Object/no_data", T("Object", no_data=True)),
    ("Object/int_key", T("Object", PY("{1: 'a'}"))),
    ("Object/bytes_value", T("Object", PY("{'a': b'x'}"))),
    # Array
    ("Array/empty", T("Array", [])),
    ("Array/mixed", T("Array", [1, "a", None])),
    ("Array/tuple", T("Array", PY("(1, 2)"))),
    ("Array/dict", T("Array", {"a": 1})),
    ("Array/string", T("Array", "s")),
    ("Array/null", T("Array", None)),
    ("Array/no_data", T("Array", no_data=True)),
    # Bytes
    ("Bytes/ints", T("Bytes", [0, 1, 255])),
    ("Bytes/empty", T("Bytes", [])),
    ("Bytes/256", T("Bytes", [256])),
    ("Bytes/negative", T("Bytes", [-1])),
    ("Bytes/float_element", T("Bytes", [1.0])),
    ("Bytes/bool_element", T("Bytes", [True])),
    ("Bytes/base64_string", T("Bytes", "AAE=")),
    ("Bytes/python_bytes", T("Bytes", PY("b'ab'"))),
    ("Bytes/null", T("Bytes", None)),
    ("Bytes/no_data", T("Bytes", no_data=True)),
    # StreamHandle
    ("StreamHandle/full", T("StreamHandle", SH)),
    ("StreamHandle/nulls", T("StreamHandle", {**SH, "content_type": None, "size_hint": None})),
    ("StreamHandle/missing_size_hint", T("StreamHandle", without(SH, "size_hint"))),
    ("StreamHandle/missing_content_type", T("StreamHandle", without(SH, "content_type"))),
    ("StreamHandle/missing_stream_id", T("StreamHandle", without(SH, "stream_id"))),
    ("StreamHandle/missing_origin_actor", T("StreamHandle", without(SH, "origin_actor"))),
    ("StreamHandle/missing_origin_port", T("StreamHandle", without(SH, "origin_port"))),
    ("StreamHandle/stream_id_string", T("StreamHandle", {**SH, "stream_id": "1"})),
    ("StreamHandle/stream_id_negative", T("StreamHandle", {**SH, "stream_id": -1})),
    ("StreamHandle/size_hint_negative", T("StreamHandle", {**SH, "size_hint": -1})),
    ("StreamHandle/extra_field", T("StreamHandle", {**SH, "extra": 1})),
    ("StreamHandle/empty_dict", T("StreamHandle", {})),
    ("StreamHandle/list", T("StreamHandle", [1, "a", "p", "t", 10])),
    ("StreamHandle/null", T("StreamHandle", None)),
    # Encoded
    ("Encoded/ints", T("Encoded", [1, 2, 3])),
    ("Encoded/empty", T("Encoded", [])),
    ("Encoded/string", T("Encoded", "x")),
    ("Encoded/256", T("Encoded", [256])),
    # Optional
    ("Optional/null", T("Optional", None)),
    ("Optional/int", T("Optional", 5)),
    ("Optional/object", T("Optional", {"a": 1})),
    ("Optional/no_data", T("Optional", no_data=True)),
    # Any
    ("Any/int", T("Any", 5)),
    ("Any/object", T("Any", {"x": [1]})),
    ("Any/null", T("Any", None)),
    ("Any/no_data", T("Any", no_data=True)),
    # Error
    ("Error/text", T("Error", "boom")),
    ("Error/int", T("Error", 5)),
    ("Error/null", T("Error", None)),
    ("Error/no_data", T("Error", no_data=True)),
    # RemoteReference
    ("RemoteReference/full", T("RemoteReference", RR)),
    ("RemoteReference/missing_port", T("RemoteReference", without(RR, "port"))),
    ("RemoteReference/extra_field", T("RemoteReference", {**RR, "extra": 1})),
    ("RemoteReference/actor_id_int", T("RemoteReference", {**RR, "actor_id": 5})),
    ("RemoteReference/string", T("RemoteReference", "n/a/p")),
    # NetworkEvent
    ("NetworkEvent/ActorRegistered", T("NetworkEvent", {"event_type": "ActorRegistered", "data": {"id": "a"}})),
    ("NetworkEvent/ActorUnregistered", T("NetworkEvent", {"event_type": "ActorUnregistered", "data": 1})),
    ("NetworkEvent/NetworkConnected", T("NetworkEvent", {"event_type": "NetworkConnected", "data": None})),
    ("NetworkEvent/NetworkDisconnected", T("NetworkEvent", {"event_type": "NetworkDisconnected", "data": "x"})),
    ("NetworkEvent/HeartbeatMissed", T("NetworkEvent", {"event_type": "HeartbeatMissed", "data": [1]})),
    ("NetworkEvent/bad_event_type", T("NetworkEvent", {"event_type": "Nope", "data": 1})),
    ("NetworkEvent/lowercase_event_type", T("NetworkEvent", {"event_type": "actorRegistered", "data": 1})),
    ("NetworkEvent/event_type_int", T("NetworkEvent", {"event_type": 1, "data": 1})),
    ("NetworkEvent/missing_event_type", T("NetworkEvent", {"data": 1})),
    ("NetworkEvent/missing_data", T("NetworkEvent", {"event_type": "ActorRegistered"})),
    ("NetworkEvent/extra_field", T("NetworkEvent", {"event_type": "ActorRegistered", "data": 1, "x": 2})),
    ("NetworkEvent/string", T("NetworkEvent", "ActorRegistered")),
    # tags
    ("tag/lowercase_integer", T("integer", 1)),
    ("tag/uppercase_INTEGER", T("INTEGER", 1)),
    ("tag/Stream", T("Stream", 1)),
    ("tag/Nope", T("Nope", 1)),
    ("tag/empty", T("", 1)),
    ("tag/int", T(PY("5"), 1)),  # type: ignore[arg-type]
    ("tag/null", {"type": None, "data": 1}),
    ("tag/missing", {"data": 1}),
    ("tag/empty_dict", {}),
    ("tag/data_before_type", {"data": 1, "type": "Integer"}),
    ("tag/only_extra", {"x": 1}),
    # not a dict
    ("input/json_text", '{"type": "Integer", "data": 1}'),
    ("input/int", 5),
    ("input/float", 1.5),
    ("input/bool", True),
    ("input/null", None),
    ("input/list", [{"type": "Integer", "data": 1}]),
    ("input/list_tag_data", ["Integer", 1]),
    ("input/list_flow", ["Flow"]),
    ("input/list_too_long", ["Integer", 1, 2]),
    ("input/tuple", PY("('Integer', 1)")),
    ("input/message", PY("Message.integer(1)")),
    ("input/bytes", PY("b'{}'")),
]


def make_case(value: Any) -> Any:
    def run() -> Any:
        decoded = decode(value, Message)
        try:
            message = Message.from_json(decoded)
        except BaseException as exc:  # noqa: BLE001
            return {"error": describe_exc(exc)}
        return {
            "kind": message.kind,
            "as_json": encode(message.as_json()),
            "data": encode(message.data()),
            "as_string": encode(message.as_string()),
        }

    return run


for _id, _value in TABLE:
    add_case(_id, make_case(_value))


def build(results: dict[str, Any]) -> dict[str, Any]:
    return {
        "_about": {"text": ABOUT},
        "cases": [{"id": id_, "input": value, "result": results[id_]} for id_, value in TABLE],
    }
