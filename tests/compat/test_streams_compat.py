"""Streams against ``golden/streams.json``, recorded from offbit-reflow 0.2.9.

Every case of ``probes/streams.py`` is replayed with ``reflow_cli``: the frames a
reader sees (``begin``/``data``/``end``/``error``/``timeout``), the
``StreamHandle`` JSON, the errors of ``take_stream`` and of writing to a
finished stream, standalone and across two actors of a running network.
Golden cases are split into rows (``case/aspect``).

Stream ids are process-wide counters in both runtimes; the reference's probe
ran every case in a fresh process, so its ids start at 1. Ours are renumbered
per row in order of appearance (1, 2, ...) before comparing. Readers are
polled with a shorter timeout than the probe's (the frames are the same; only
the waiting is shorter).

* ``DEVIATIONS``: where we *deliberately* differ (reason and **our** value,
  asserted, never skipped).
* ``KNOWN_BUGS``: differences that should not exist (``xfail(strict=True)``).

Errors compare as in ``test_messages_compat.py``: the builtin class the
reference raised, and the key facts of its text.
"""

from __future__ import annotations

import builtins
import functools
import gc
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reflow_cli import Actor, Message, Network, RunState, Stream, StreamReader

GOLDEN_FILE = Path(__file__).resolve().parent / "golden" / "streams.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))["cases"]
POLL_MS = 20
TIMEOUT = 10.0

# -- why we differ ------------------------------------------------------------------

BEGIN_FIELDS = (
    "begin frames always carry content_type, size_hint and metadata (None when not given), so "
    "send_begin(metadata=...) reaches the reader; the reference drops metadata and omits unset fields"
)
CLOSED_FRAME = (
    "a reader whose producer went away without end()/error() gets one 'closed' frame; the "
    "reference's reader only ever sees 'timeout' (it cannot tell a slow producer from a dead one)"
)
INPUT_TAKE_STREAM = (
    "ctx.inputs[port].take_stream() works (the README's form: inputs are Message mappings); the "
    "reference's inputs are dicts (AttributeError) and need Message.from_json(...).take_stream()"
)
WRITABLE_AFTER_HANDLE = (
    "into_message() hands out the handle and the stream stays writable (a producer passes the "
    "handle downstream first, then writes); it may be called again for another copy of the "
    "handle. The reference refuses both ('stream consumed', 'stream already consumed')"
)
RECV_DEFAULT = "StreamReader.recv(timeout_ms=None): without a timeout it waits for the next frame"
CREATE_SIZE_HINT = (
    "Stream.create takes a keyword-only size_hint (after the reference's parameters, so positional "
    "calls port unchanged); it fills the handle's size_hint, which the reference leaves unset"
)


@dataclass(frozen=True)
class Deviation:
    reason: str
    result: Any = None
    change: Callable[[Any], Any] | None = None


# -- codec and comparison -----------------------------------------------------------------


class Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"<raised {type(self.exc).__name__}: {self.exc}>"


def encode(value: Any) -> Any:
    if value is None or type(value) in (bool, str, int, float):
        return value
    if isinstance(value, Message):
        return {"$message": encode(value.as_json())}
    if type(value) is list:
        return [encode(v) for v in value]
    if type(value) is dict:
        return {k: encode(v) for k, v in value.items()}
    return {"$py": repr(value)}


def err(fn: Callable[[], Any]) -> Any:
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001
        return Raised(exc)
    if isinstance(value, StreamReader):
        return {"returned_type": "StreamReader"}
    return {"returned": encode(value)}


def key_facts(text: str) -> list[str]:
    facts = re.findall(r"`([^`]*)`", text)
    facts += [name for name in re.findall(r"'([A-Za-z_][A-Za-z_0-9]*)'", text) if not name.startswith("Py")]
    return facts


def compare(expected: Any, got: Any, where: str) -> None:
    if isinstance(expected, dict) and set(expected) == {"error"}:
        info = expected["error"]
        builtin_name = info.get("builtin", info["type"])
        assert isinstance(got, Raised), f"{where}: expected {builtin_name} ({info['text']!r}), got {got!r}"
        assert isinstance(got.exc, getattr(builtins, builtin_name)), f"{where}: {got!r} is not a {builtin_name}"
        missing = [fact for fact in key_facts(info["text"]) if fact not in str(got.exc)]
        assert not missing, f"{where}: {got!r} does not mention {missing}"
        return
    assert not isinstance(got, Raised), f"{where}: expected {expected!r}, got {got!r}"
    if isinstance(expected, dict) and isinstance(got, dict) and "$py" not in expected:
        assert sorted(expected) == sorted(got), f"{where}: keys {sorted(got)} != {sorted(expected)}"
        for key in expected:
            compare(expected[key], got[key], f"{where}.{key}")
        return
    if isinstance(expected, list) and isinstance(got, list):
        assert len(expected) == len(got), f"{where}: {got!r} != {expected!r}"
        for index, (e, g) in enumerate(zip(expected, got)):
            compare(e, g, f"{where}[{index}]")
        return
    assert type(expected) is type(got) and expected == got, f"{where}: {got!r} != {expected!r}"


def renumber(value: Any, ids: dict[int, int] | None = None) -> Any:
    """Stream ids of a row renumbered 1, 2, ... in order of appearance (as in a fresh process)."""
    ids = {} if ids is None else ids
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "stream_id" and type(item) is int:
                out[key] = ids.setdefault(item, len(ids) + 1)
            else:
                out[key] = renumber(item, ids)
        return out
    if isinstance(value, list):
        return [renumber(v, ids) for v in value]
    return value


def text_signature(fn: Any, method: bool) -> str:
    parts = ["$self"] if method else []
    parameters = list(inspect.signature(fn).parameters.values())[1 if method else 0 :]
    for p in parameters:
        parts.append(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}")
    return f"({', '.join(parts)})"


# -- the scenarios (as probes/streams.py) -----------------------------------------------------------


def read_frames(reader: Any, timeout_ms: int = POLL_MS, limit: int = 12) -> list[Any]:
    """recv() until two 'timeout' frames in a row (or ``limit`` frames)."""
    frames: list[Any] = []
    timeouts = 0
    while len(frames) < limit:
        frame = reader.recv(timeout_ms)
        frames.append(encode(frame))
        if isinstance(frame, dict) and frame.get("kind") == "timeout":
            timeouts += 1
            if timeouts >= 2:
                break
        else:
            timeouts = 0
    return frames


def produce(with_error: bool, **create: Any) -> Stream:
    s = Stream.create(**create)
    s.send_begin(content_type="application/x-probe", size_hint=6, metadata={"k": "v"})
    s.send_bytes(b"abc")
    s.send_bytes(b"def")
    if with_error:
        s.error("bad thing")
    else:
        s.end()
    return s


@functools.cache
def standalone_begin_data_end() -> dict[str, Any]:
    s = produce(False, buffer_size=0, content_type="text/plain")
    message = s.into_message()
    out: dict[str, Any] = {
        "kind": message.kind,
        "as_json": encode(message.as_json()),
        "data": encode(message.data()),
        "send_bytes_after_into_message": err(lambda: s.send_bytes(b"x")),
        "end_after_into_message": err(lambda: s.end()),
        "into_message_twice": err(lambda: s.into_message()),
    }
    reader = message.take_stream()
    out["reader_type"] = type(reader).__name__
    out["frames"] = read_frames(reader)
    out["take_stream_twice"] = err(lambda: message.take_stream())
    out["take_stream_from_json_copy"] = err(lambda: Message.from_json(message.as_json()).take_stream())
    out["take_stream_unknown_id"] = err(
        lambda: Message.from_json(
            {
                "type": "StreamHandle",
                "data": {
                    "stream_id": 424242,
                    "origin_actor": "",
                    "origin_port": "",
                    "content_type": None,
                    "size_hint": None,
                },
            }
        ).take_stream()
    )
    out["take_stream_on_integer"] = err(lambda: Message.integer(1).take_stream())
    out["take_stream_on_string"] = err(lambda: Message.string("s").take_stream())
    return renumber(out)


def standalone_error() -> dict[str, Any]:
    message = produce(True).into_message()
    return renumber({"as_json": encode(message.as_json()), "frames": read_frames(message.take_stream())})


def standalone_origin_and_defaults() -> dict[str, Any]:
    plain = Stream.create()
    plain.end()
    named = Stream.create(buffer_size=4, origin_actor="actorA", origin_port="portP", content_type="image/jpeg")
    named.end()
    plain_message = plain.into_message()
    reader = plain_message.take_stream()
    return renumber(
        {
            "create_signature": text_signature(Stream.create, method=False),
            "send_begin_signature": text_signature(Stream.send_begin, method=True),
            "recv_signature": text_signature(type(reader).recv, method=True),
            "default": encode(plain_message.as_json()),
            "named": encode(named.into_message().as_json()),
        }
    )


def standalone_no_begin() -> dict[str, Any]:
    s = Stream.create(content_type="text/plain")
    s.send_bytes(b"x")
    s.end()
    return {"frames": read_frames(s.into_message().take_stream())}


def standalone_send_begin_defaults() -> dict[str, Any]:
    s = Stream.create(content_type="text/plain")
    s.send_begin()
    s.end()
    return {"frames": read_frames(s.into_message().take_stream())}


def make_actor(run: Callable[[Any], Any], outports: tuple[str, ...] = ("out",), component: str = "probe") -> Actor:
    klass = type(
        "ProbeActor",
        (Actor,),
        {"component": component, "inports": ["in"], "outports": list(outports), "run": lambda self, ctx: run(ctx)},
    )
    return klass()


@functools.cache
def network_case(with_error: bool, readme_form: bool) -> dict[str, Any]:
    """Producer actor: begin + 2 data frames + end (or error), then done({out: into_message()});
    the consumer reads the frames. ``readme_form``: take the stream as ctx.inputs['in'].take_stream()
    first, as the probe tried (the reference raised AttributeError and fell back to
    Message.from_json(...).take_stream()); else take it only the reference's way."""
    consumer_obs: list[Any] = []
    producer_obs: list[Any] = []

    def producer(ctx: Any) -> None:
        message = produce(with_error, buffer_size=0, content_type="text/plain").into_message()
        producer_obs.append(encode(message.as_json()))
        ctx.done({"out": message})

    def consumer(ctx: Any) -> None:
        handle = ctx.inputs["in"]
        entry: dict[str, Any] = {"inputs": {port: encode(dict(m)) for port, m in ctx.inputs.items()}}
        reader = None
        if readme_form:
            try:
                reader = handle.take_stream()
                entry["readme_form_inputs_take_stream"] = {"returned_type": type(reader).__name__}
            except Exception as exc:  # noqa: BLE001
                entry["readme_form_inputs_take_stream"] = Raised(exc)
        if reader is None:
            reader = Message.from_json(handle).take_stream()
        entry["frames"] = read_frames(reader)
        entry["take_again"] = err(lambda: Message.from_json(handle).take_stream())
        consumer_obs.append(entry)
        ctx.done()

    net = Network()
    net.register_actor("tpl_producer", make_actor(producer, component="producer"))
    net.register_actor("tpl_consumer", make_actor(consumer, outports=(), component="consumer"))
    net.add_node("producer", "tpl_producer")
    net.add_node("consumer", "tpl_consumer")
    net.add_connection("producer", "out", "consumer", "in")
    net.add_initial("producer", "in", {"type": "Flow"})
    status = net.run(timeout=TIMEOUT)
    assert status == RunState.COMPLETE, status
    return renumber({"producer_handle": producer_obs, "consumer": consumer_obs})


def reader_after_producer_dropped() -> dict[str, Any]:
    s = Stream.create()
    s.send_bytes(b"x")
    message = s.into_message()
    del s
    gc.collect()
    return {"frames": read_frames(message.take_stream())}


# -- the rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    golden: Callable[[dict[str, Any]], Any]
    ours: Callable[[], Any]


ROWS: dict[str, Row] = {}
for _key in GOLDEN["standalone_begin_data_end"]:
    ROWS[f"standalone_begin_data_end/{_key}"] = Row(
        lambda g, k=_key: g["standalone_begin_data_end"][k], lambda k=_key: standalone_begin_data_end()[k]
    )
ROWS["standalone_error"] = Row(lambda g: g["standalone_error"], standalone_error)
for _key in GOLDEN["standalone_origin_and_defaults"]:
    ROWS[f"standalone_origin_and_defaults/{_key}"] = Row(
        lambda g, k=_key: g["standalone_origin_and_defaults"][k], lambda k=_key: standalone_origin_and_defaults()[k]
    )
ROWS["standalone_no_begin"] = Row(lambda g: g["standalone_no_begin"], standalone_no_begin)
ROWS["standalone_send_begin_defaults"] = Row(
    lambda g: g["standalone_send_begin_defaults"], standalone_send_begin_defaults
)
for _case, _with_error in (("network_begin_data_end", False), ("network_error", True)):
    ROWS[f"{_case}/producer_handle"] = Row(
        lambda g, c=_case: g[c]["producer_handle"], lambda e=_with_error: network_case(e, True)["producer_handle"]
    )
    for _key in ("inputs", "readme_form_inputs_take_stream", "frames", "take_again"):
        ROWS[f"{_case}/consumer/{_key}"] = Row(
            lambda g, c=_case, k=_key: g[c]["consumer"][0][k],
            lambda e=_with_error, k=_key: network_case(e, True)["consumer"][0][k],
        )
    # the reference's own way of taking the stream still works in ours
    ROWS[f"{_case}/consumer/frames_via_from_json"] = Row(
        lambda g, c=_case: g[c]["consumer"][0]["frames"],
        lambda e=_with_error: network_case(e, False)["consumer"][0]["frames"],
    )
ROWS["reader_after_producer_dropped"] = Row(lambda g: g["reader_after_producer_dropped"], reader_after_producer_dropped)


def with_metadata(frames: list[Any], metadata: Any = None) -> list[Any]:
    """Golden frames as ours: every begin frame carries content_type, size_hint and metadata."""
    out = []
    for frame in frames:
        if frame.get("kind") == "begin":
            frame = {"content_type": None, "size_hint": None, **frame, "metadata": metadata}
        out.append(frame)
    return out


PROBE_METADATA = {"k": "v"}  # what produce() passes to send_begin

DEVIATIONS: dict[str, Deviation] = {
    "standalone_begin_data_end/frames": Deviation(BEGIN_FIELDS, change=lambda g: with_metadata(g, PROBE_METADATA)),
    "standalone_begin_data_end/into_message_twice": Deviation(
        WRITABLE_AFTER_HANDLE,
        result={"returned": {"$message": {"type": "StreamHandle", "data": {
            "content_type": "text/plain", "origin_actor": "", "origin_port": "", "size_hint": None, "stream_id": 1,
        }}}},
    ),
    "standalone_error": Deviation(
        BEGIN_FIELDS, change=lambda g: {**g, "frames": with_metadata(g["frames"], PROBE_METADATA)}
    ),
    "standalone_origin_and_defaults/recv_signature": Deviation(RECV_DEFAULT, result="($self, timeout_ms=None)"),
    "standalone_origin_and_defaults/create_signature": Deviation(
        CREATE_SIZE_HINT,
        result="(buffer_size=0, origin_actor=None, origin_port=None, content_type=None, size_hint=None)",
    ),
    "standalone_send_begin_defaults": Deviation(BEGIN_FIELDS, change=lambda g: {"frames": with_metadata(g["frames"])}),
    "reader_after_producer_dropped": Deviation(
        CLOSED_FRAME,
        result={
            "frames": [
                {"data": {"$py": "b'x'"}, "kind": "data"},
                {"kind": "closed"},
                {"kind": "timeout"},
                {"kind": "timeout"},
            ]
        },
    ),
}
for _case in ("network_begin_data_end", "network_error"):
    DEVIATIONS[f"{_case}/consumer/frames"] = Deviation(BEGIN_FIELDS, change=lambda g: with_metadata(g, PROBE_METADATA))
    DEVIATIONS[f"{_case}/consumer/frames_via_from_json"] = Deviation(
        BEGIN_FIELDS, change=lambda g: with_metadata(g, PROBE_METADATA)
    )
    DEVIATIONS[f"{_case}/consumer/readme_form_inputs_take_stream"] = Deviation(
        INPUT_TAKE_STREAM, result={"returned_type": "StreamReader"}
    )

#: Differences that are bugs in the engine's streams (xfail(strict=True) until fixed). None known.
KNOWN_BUGS: dict[str, str] = {}


def expected_result(row_id: str, golden: Any) -> Any:
    deviation = DEVIATIONS.get(row_id)
    if deviation is None:
        return golden
    return deviation.change(golden) if deviation.change is not None else deviation.result


def marks(row_id: str) -> list[Any]:
    return [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[row_id])] if row_id in KNOWN_BUGS else []


@pytest.mark.parametrize("row_id", [pytest.param(r, id=r, marks=marks(r)) for r in ROWS])
def test_replay(row_id: str) -> None:
    spec = ROWS[row_id]
    compare(expected_result(row_id, spec.golden(GOLDEN)), spec.ours(), row_id)


def test_every_golden_case_is_replayed() -> None:
    assert {row_id.split("/")[0] for row_id in ROWS} == set(GOLDEN)


def test_deviation_tables_name_rows() -> None:
    assert not (set(DEVIATIONS) - set(ROWS)), "stale DEVIATIONS entries"
    assert not (set(KNOWN_BUGS) - set(ROWS)), "stale KNOWN_BUGS entries"
    assert not (set(DEVIATIONS) & set(KNOWN_BUGS))
    for row_id in DEVIATIONS:
        golden = ROWS[row_id].golden(GOLDEN)
        assert expected_result(row_id, golden) != golden, row_id


# -- listed deviations the goldens cannot show ----------------------------------------------------------


def test_streams_stay_writable_after_into_message() -> None:
    """WRITABLE_AFTER_HANDLE: hand the handle on first, write afterwards (the reference: 'stream consumed')."""
    s = Stream.create(content_type="text/plain")
    message = s.into_message()
    s.send_bytes(b"late")
    s.end()
    assert s.into_message() == message
    assert read_frames(message.take_stream()) == [
        {"data": {"$py": "b'late'"}, "kind": "data"},
        {"kind": "end"},
        {"kind": "timeout"},
        {"kind": "timeout"},
    ]


def test_closed_comes_once() -> None:
    """CLOSED_FRAME: the 'closed' frame is the last frame, delivered once."""
    frames = reader_after_producer_dropped()["frames"]
    assert [f["kind"] for f in frames].count("closed") == 1


def test_writing_after_end_is_a_runtime_error_as_in_the_reference() -> None:
    """The reference's 'stream consumed' rows pass for another reason in ours: the stream had ended."""
    s = Stream.create()
    s.end()
    with pytest.raises(RuntimeError, match="already ended"):
        s.send_bytes(b"x")
