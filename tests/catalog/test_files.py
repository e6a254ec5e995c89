"""Files family on real temporary files (tmp_path), through a real Network."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reflow_cli import Message, Network
from reflow_cli.catalog.files import DirItem, DirWatcher
from tests.catalog._helpers import Sink, run_component, tagged as T

FLOW = T("Flow")
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00")


# -- tpl_file_load -------------------------------------------------------------------------------


def test_file_load_reads_bytes_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n\x00\xff")
    result = run_component("tpl_file_load", {"path": str(path)}, {"trigger": [FLOW]})
    assert result.one("output") == Message.bytes(b"a,b\n\x00\xff")
    assert result.one("metadata") == Message.object({"mimeType": "text/csv", "path": str(path), "size": 6})
    unknown = tmp_path / "blob.zzz"
    unknown.write_bytes(b"")
    result = run_component("tpl_file_load", {"path": str(unknown)}, {"trigger": [FLOW]})
    assert result.one("metadata")["data"]["mimeType"] == "application/octet-stream"


def test_file_load_errors(tmp_path: Path) -> None:
    cases = {
        str(tmp_path / "missing.txt"): f"File read error: No such file or directory (os error 2): {tmp_path / 'missing.txt'}",
        str(tmp_path): f"File read error: Is a directory (os error 21): {tmp_path}",
    }
    for path, error in cases.items():
        result = run_component("tpl_file_load", {"path": path}, {"trigger": [FLOW]})
        assert result.data("error") == [error]
    result = run_component("tpl_file_load", {}, {"trigger": [FLOW]})
    assert result.data("error") == ["Missing 'path' in config"]


def test_file_load_path_from_trigger(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A")
    (tmp_path / "b.txt").write_text("B")
    result = run_component(
        "tpl_file_load", {"path": str(tmp_path / "a.txt")}, {"trigger": [FLOW, T("String", str(tmp_path / "b.txt"))]}
    )
    assert result.data("output") == [b"A", b"B"]


# -- tpl_file_save -------------------------------------------------------------------------------


def test_file_save_writes_each_kind(tmp_path: Path) -> None:
    cases = [
        (T("String", "héllo\n"), "héllo\n".encode()),
        (T("Bytes", [0, 255]), b"\x00\xff"),
        (T("Object", {"a": [1, {"b": None}], "é": 1.5}), json.dumps({"a": [1, {"b": None}], "é": 1.5}, indent=2, ensure_ascii=False).encode()),
        (T("Array", []), b"[]"),
        (T("Integer", 5), b"5"),
        (T("Boolean", False), b"false"),
    ]
    for index, (message, content) in enumerate(cases):
        path = tmp_path / "deep" / "er" / f"{index}.out"
        result = run_component("tpl_file_save", {"path": str(path)}, {"input": [message]})
        assert path.read_bytes() == content
        assert result.one("path") == Message.string(str(path))
        assert result.one("metadata") == Message.object({"path": str(path), "size": len(content), "written": True})


def test_file_save_overwrites_or_appends(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    run_component("tpl_file_save", {"path": str(path)}, {"input": [T("String", "one"), T("String", "two")]})
    assert path.read_text() == "two"
    lines = [T("String", "a"), T("String", "b"), T("Object", {"c": 1})]
    run_component("tpl_file_save", {"path": str(path), "mode": "append", "newline": True}, {"input": lines})
    assert path.read_text() == 'twoa\nb\n{\n  "c": 1\n}\n'


def test_file_save_flow_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "stream.txt"
    stream = [T("String", "x"), FLOW]
    result = run_component("tpl_file_save", {"path": str(path), "mode": "append"}, {"input": stream})
    assert path.read_text() == "x"
    assert result.data("metadata") == [
        {"path": str(path), "size": 1, "written": True},
        {"path": str(path), "size": 1, "written": False},
    ]
    missing = tmp_path / "never.txt"
    result = run_component("tpl_file_save", {"path": str(missing)}, {"input": [FLOW]})
    assert not missing.exists()
    assert result.one("metadata")["data"] == {"path": str(missing), "size": 0, "written": False}


def test_file_save_errors(tmp_path: Path) -> None:
    result = run_component("tpl_file_save", {"path": str(tmp_path / "no" / "dir.txt"), "createDirs": False}, {"input": [T("String", "x")]})
    assert result.data("error") == ["File write error: No such file or directory (os error 2)"]
    result = run_component("tpl_file_save", {"path": str(tmp_path)}, {"input": [T("String", "x")]})
    assert result.data("error") == ["File write error: Is a directory (os error 21)"]


def test_file_save_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_component("tpl_file_save", {"path": "rel/out.txt"}, {"input": [T("String", "ok")]})
    assert (tmp_path / "rel" / "out.txt").read_text() == "ok"


# -- tpl_file_lines ------------------------------------------------------------------------------


def test_file_lines_streams_lines_then_flow_and_count(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"first\r\nsecond\n\n  \nthird\rlast")
    result = run_component("tpl_file_lines", {"path": str(path)}, {"trigger": [FLOW]})
    assert result.json()["output"] == [T("String", s) for s in ("first", "second", "", "  ", "third", "last")] + [FLOW]
    assert result.one("count") == Message.integer(6)
    result = run_component("tpl_file_lines", {"path": str(path), "skipBlank": True, "keepNewline": True, "endMarker": False}, {"trigger": [FLOW]})
    assert result.data("output") == ["first\n", "second\n", "third\n", "last"]
    assert result.data("count") == [4]


def test_file_lines_path_from_trigger_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("x\ny\n")
    result = run_component("tpl_file_lines", {}, {"trigger": [T("String", str(good)), T("String", str(tmp_path / "nope"))]})
    assert result.data("output") == ["x", "y", None]
    assert result.data("error") == [f"File read error: No such file or directory (os error 2): {tmp_path / 'nope'}"]
    result = run_component("tpl_file_lines", {}, {"trigger": [FLOW]})
    assert result.data("error") == ["Missing 'path' in config"]


def test_file_lines_decoding(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes(b"ok\ncaf\xe9\nafter\n")
    result = run_component("tpl_file_lines", {"path": str(path)}, {"trigger": [FLOW]})
    (error,) = result.data("error")
    assert error.startswith(f"File read error: {path}: after line 0: 'utf-8' codec can't decode byte 0xe9")
    assert "count" not in result.outputs and None not in result.data("output")
    result = run_component("tpl_file_lines", {"path": str(path), "errors": "replace"}, {"trigger": [FLOW]})
    assert result.data("output") == ["ok", "caf\ufffd", "after", None]
    result = run_component("tpl_file_lines", {"path": str(path), "encoding": "latin-1"}, {"trigger": [FLOW]})
    assert result.data("output")[1] == "café"


def test_file_lines_memory_stays_flat_for_a_big_file(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    line = "2024-01-01T00:00:00 INFO service=api took=12ms " + "x" * 60 + "\n"
    with path.open("w") as handle:
        for _ in range(60_000):
            handle.write(line)
    size = path.stat().st_size
    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("lines", "tpl_file_lines", {"path": str(path)})
    net.add_node("count", "tpl_reduce", {"operation": "count"})
    net.add_node("sink", "sink")
    net.add_connection("lines", "output", "count", "input")
    net.add_connection("count", "output", "sink", "in")
    net.add_initial("lines", "trigger", FLOW)
    tracemalloc.start()
    try:
        assert net.run(timeout=60)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [m for _p, m, _t in sink.items] == [Message.integer(60_000)]
    assert peak < size / 4, f"peak {peak} bytes for a {size}-byte file"


# -- tpl_csv_read --------------------------------------------------------------------------------

CSV = 'name,qty,note\napple,3,"red, round"\n\npear,5,"two\nlines"\nfig,x\nkiwi,1,a,extra\n'


def test_csv_read_text_to_objects() -> None:
    result = run_component("tpl_csv_read", {}, {"input": [T("String", CSV)]})
    assert result.one("output")["data"] == [
        {"name": "apple", "qty": "3", "note": "red, round"},
        {"name": "pear", "qty": "5", "note": "two\nlines"},
        {"name": "fig", "qty": "x", "note": None},
        {"name": "kiwi", "qty": "1", "note": "a", "_extra": ["extra"]},
    ]
    assert result.one("count") == Message.integer(4)


def test_csv_read_options() -> None:
    text = "1;2.5;true\n-3;;FALSE\n"
    result = run_component("tpl_csv_read", {"delimiter": ";", "header": False, "inferTypes": True}, {"input": [T("Bytes", list(text.encode()))]})
    assert result.one("output")["data"] == [[1, 2.5, True], [-3, "", False]]
    result = run_component("tpl_csv_read", {"delimiter": ";", "header": False, "columns": ["a", "b", "c"]}, {"input": [T("String", text)]})
    assert result.one("output")["data"] == [{"a": "1", "b": "2.5", "c": "true"}, {"a": "-3", "b": "", "c": "FALSE"}]
    result = run_component("tpl_csv_read", {"columns": ["x", "y"]}, {"input": [T("String", "a,b\n1,2\n")]})
    assert result.one("output")["data"] == [{"x": "1", "y": "2"}]


def test_csv_read_file_as_a_stream_of_rows(tmp_path: Path) -> None:
    path = tmp_path / "fruit.csv"
    path.write_bytes(b"\xef\xbb\xbfname,qty\r\napple,3\r\npear,5\r\n")
    result = run_component("tpl_csv_read", {"path": str(path), "emit": "rows", "inferTypes": True}, {"trigger": [FLOW]})
    assert result.json()["output"] == [T("Object", {"name": "apple", "qty": 3}), T("Object", {"name": "pear", "qty": 5}), FLOW]
    assert result.data("count") == [2]
    result = run_component("tpl_csv_read", {}, {"trigger": [T("String", str(path))]})
    assert result.data("output") == [[{"name": "apple", "qty": "3"}, {"name": "pear", "qty": "5"}]]


def test_csv_read_errors(tmp_path: Path) -> None:
    result = run_component("tpl_csv_read", {}, {"input": [T("String", 'a,b\n1,"2"x\n'), T("Integer", 1), T("Bytes", [255])]})
    assert result.data("error") == [
        "CSV parse error: <input>: row 1: ',' expected after '\"'",
        "Expected String or Bytes on input port",
        "CSV parse error: invalid UTF-8 at byte 0",
    ]
    result = run_component("tpl_csv_read", {"path": str(tmp_path / "none.csv")}, {"trigger": [FLOW]})
    assert result.data("error") == [f"File read error: No such file or directory (os error 2): {tmp_path / 'none.csv'}"]
    result = run_component("tpl_csv_read", {}, {"trigger": [FLOW]})
    assert result.data("error") == ["Missing 'path' in config"]


# -- tpl_csv_write -------------------------------------------------------------------------------

ROWS = [{"name": "apple", "qty": 3, "ok": True}, {"name": "pear, green", "note": None, "tags": ["a"]}]


def test_csv_write_a_table(tmp_path: Path) -> None:
    path = tmp_path / "out" / "t.csv"
    result = run_component("tpl_csv_write", {"path": str(path)}, {"input": [T("Array", ROWS)]})
    text = 'name,qty,ok,note,tags\napple,3,true,,\n"pear, green",,,,"[""a""]"\n'
    assert result.one("output") == Message.string(text)
    assert path.read_text() == text
    assert result.one("path") == Message.string(str(path))
    assert result.one("count") == Message.integer(2)
    lists = run_component("tpl_csv_write", {"header": False, "delimiter": ";", "lineTerminator": "\r\n"}, {"input": [T("Array", [[1, 2.5], ["a;b", None]])]})
    assert lists.one("output")["data"] == '1;2.5\r\n"a;b";\r\n'
    assert "path" not in lists.outputs


def test_csv_write_round_trips_through_csv_read(tmp_path: Path) -> None:
    path = tmp_path / "rt.csv"
    rows = [{"a": "x,y", "b": 'q"uote', "c": "multi\nline"}, {"a": "", "b": "2", "c": "3"}]
    run_component("tpl_csv_write", {"path": str(path)}, {"input": [T("Array", rows)]})
    result = run_component("tpl_csv_read", {"path": str(path)}, {"trigger": [FLOW]})
    assert result.one("output")["data"] == rows


def test_csv_write_a_stream_of_rows(tmp_path: Path) -> None:
    path = tmp_path / "stream.csv"
    stream = [T("Object", {"a": 1, "b": 2}), T("Object", {"b": 4}), T("Array", [5, 6]), FLOW]
    result = run_component("tpl_csv_write", {"path": str(path)}, {"input": stream})
    assert path.read_text() == "a,b\n1,2\n,4\n5,6\n"
    assert result.data("path") == [str(path)] and result.data("count") == [3]
    lines = run_component("tpl_csv_write", {"columns": ["b", "a"]}, {"input": stream})
    assert lines.data("output") == ["b,a", "2,1", "4,", "5,6"]
    assert lines.data("count") == [3]


def test_csv_write_errors_and_empty_stream(tmp_path: Path) -> None:
    stream = [T("Object", {"a": 1}), T("Object", {"a": 2, "zz": 3}), T("Integer", 7), FLOW]
    result = run_component("tpl_csv_write", {}, {"input": stream})
    assert result.data("error") == [
        "CSV write: row has fields not in the columns (zz); set `columns`",
        "CSV write: a row must be an Object or an Array, not 7",
    ]
    assert result.data("output") == ["a", "1"] and result.data("count") == [1]
    path = tmp_path / "empty.csv"
    result = run_component("tpl_csv_write", {"path": str(path), "columns": ["x", "y"]}, {"input": [FLOW]})
    assert path.read_text() == "x,y\n" and result.data("count") == [0]
    result = run_component("tpl_csv_write", {"path": str(tmp_path)}, {"input": [T("Array", [{"a": 1}])]})
    assert result.data("error") == ["File write error: Is a directory (os error 21)"]


# -- tpl_dir_list --------------------------------------------------------------------------------


def _tree(root: Path) -> None:
    for name, text in {"b.log": "bb", "a.txt": "a", ".hidden.log": "h", "sub/c.log": "ccc", "sub/deep/d.log": "d", ".git/x.log": "x"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_dir_list_flat(tmp_path: Path) -> None:
    _tree(tmp_path)
    result = run_component("tpl_dir_list", {"path": str(tmp_path)}, {"trigger": [FLOW]})
    entries = result.data("output")
    assert entries[-1] is None
    assert [e["name"] for e in entries[:-1]] == ["a.txt", "b.log"]
    first = entries[0]
    assert first["path"] == str(tmp_path / "a.txt") and first["size"] == 1 and first["isDir"] is False
    assert RFC3339.fullmatch(first["mtime"])
    assert abs(_epoch(first["mtime"]) - os.stat(tmp_path / "a.txt").st_mtime) < 1e-3
    assert result.data("count") == [2]


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text[:26] + text[29:]).timestamp()


def test_dir_list_recursive_pattern_dirs_hidden(tmp_path: Path) -> None:
    _tree(tmp_path)
    result = run_component("tpl_dir_list", {"path": str(tmp_path), "recursive": True, "pattern": "*.log"}, {"trigger": [FLOW]})
    rel = [os.path.relpath(e["path"], tmp_path) for e in result.data("output")[:-1]]
    assert rel == ["b.log", "sub/c.log", "sub/deep/d.log"]
    result = run_component(
        "tpl_dir_list", {"path": str(tmp_path), "recursive": True, "includeDirs": True, "includeHidden": True, "endMarker": False},
        {"trigger": [FLOW]},
    )
    rel = [(os.path.relpath(e["path"], tmp_path), e["isDir"]) for e in result.data("output")]
    assert rel == [
        (".git", True), (".hidden.log", False), ("a.txt", False), ("b.log", False), ("sub", True),
        (".git/x.log", False), ("sub/c.log", False), ("sub/deep", True), ("sub/deep/d.log", False),
    ]


def test_dir_list_does_not_follow_symlinked_directories(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f.txt").write_text("f")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    result = run_component("tpl_dir_list", {"path": str(tmp_path), "recursive": True}, {"trigger": [FLOW]})
    assert [os.path.relpath(e["path"], tmp_path) for e in result.data("output")[:-1]] == ["real/f.txt"]


def test_dir_list_trigger_path_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path / "sub")
    result = run_component("tpl_dir_list", {}, {"trigger": [FLOW, T("String", "deep"), T("String", "nope")]})
    assert [e and e["path"] for e in result.data("output")] == ["./c.log", None, "deep/d.log", None]
    assert result.data("error") == ["Directory read error: No such file or directory (os error 2)"]
    assert result.data("count") == [1, 1]


# -- tpl_dir_watch -------------------------------------------------------------------------------


def _item(path: str, size: int = 1, mtime_ns: int = 1, is_dir: bool = False) -> DirItem:
    return DirItem(path, os.path.basename(path), is_dir, size, mtime_ns)


def _scan(*items: DirItem) -> dict[str, DirItem]:
    return {item.path: item for item in items}


def test_dir_watcher_reports_created_modified_deleted_in_path_order() -> None:
    watcher = DirWatcher()
    watcher.baseline(_scan(_item("a"), _item("b"), _item("d", is_dir=True)))
    changes = watcher.changes(_scan(_item("b", size=2), _item("c"), _item("d", mtime_ns=9, is_dir=True)))
    assert [(event, item.path) for event, item in changes] == [("deleted", "a"), ("modified", "b"), ("created", "c")]
    assert watcher.changes(_scan(_item("b", size=2), _item("c"), _item("d", is_dir=True))) == []


def test_dir_watcher_settle_waits_for_a_file_to_hold_still() -> None:
    watcher = DirWatcher(settle=2)
    watcher.baseline({})
    assert watcher.changes(_scan(_item("f", size=1))) == []
    assert watcher.changes(_scan(_item("f", size=5))) == []  # still growing
    assert watcher.changes(_scan(_item("f", size=5))) == []  # one still scan
    ((event, item),) = watcher.changes(_scan(_item("f", size=5)))
    assert (event, item.size) == ("created", 5)
    assert watcher.changes(_scan(_item("f", size=5))) == []
    # created and gone again before it settled: never reported
    assert watcher.changes(_scan(_item("f", size=5), _item("tmp"))) == []
    assert watcher.changes(_scan(_item("f", size=5))) == []


def test_dir_watcher_reports_only_the_events_asked_for() -> None:
    watcher = DirWatcher(events=("deleted",))
    watcher.baseline(_scan(_item("a")))
    assert watcher.changes(_scan(_item("a", size=3), _item("b"))) == []
    assert [(e, i.path) for e, i in watcher.changes({})] == [("deleted", "a"), ("deleted", "b")]


_STATES = st.lists(
    st.dictionaries(st.sampled_from("abcde"), st.tuples(st.integers(0, 2), st.booleans()), max_size=5), min_size=1, max_size=8
)


@given(_STATES)
def test_dir_watcher_changes_replayed_on_the_baseline_give_the_last_scan(states: list[dict[str, tuple[int, bool]]]) -> None:
    watcher = DirWatcher()
    mirror: dict[str, DirItem] = {}
    watcher.baseline(mirror)
    for state in states:
        scan = _scan(*(_item(path, size=size, is_dir=is_dir) for path, (size, is_dir) in state.items()))
        for event, item in watcher.changes(scan):
            if event == "deleted":
                del mirror[item.path]
            else:
                assert (event == "created") == (item.path not in mirror)
                mirror[item.path] = item
        files = {p: i for p, i in scan.items() if not i.is_dir}
        assert {p: i for p, i in mirror.items() if not i.is_dir} == files
        assert set(mirror) == set(scan)


def _watch(config: dict, actions: list[Callable[[], None]], pause: float = 0.15, timeout: float = 10.0) -> Any:
    """Run tpl_dir_watch while another thread performs ``actions`` one ``pause`` apart."""
    def act() -> None:
        for action in actions:
            time.sleep(pause)
            action()

    worker = threading.Thread(target=act)
    worker.start()
    try:
        return run_component("tpl_dir_watch", {"interval": 10, **config}, {"start": [FLOW]}, timeout=timeout)
    finally:
        worker.join()


def test_dir_watch_sees_real_files_come_change_and_go(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("old")
    target = tmp_path / "new.csv"
    result = _watch(
        {"path": str(tmp_path), "pattern": "*.csv", "maxEvents": 3},
        [
            lambda: (tmp_path / "ignored.txt").write_text("x"),
            lambda: target.write_text("1"),
            lambda: target.write_text("1234"),
            lambda: target.unlink(),
        ],
    )
    assert result.status.name == "COMPLETE"
    events = [(d["event"], d["name"]) for d in result.data("output")]
    assert events == [("created", "new.csv"), ("modified", "new.csv"), ("deleted", "new.csv")]
    created, modified, _deleted = result.data("output")
    assert (created["size"], modified["size"]) == (1, 4) and RFC3339.fullmatch(modified["mtime"])
    assert created["path"] == str(target) and created["isDir"] is False
    assert result.data("done") == [None] and "error" not in result.outputs


def test_dir_watch_settle_reports_a_file_once_when_written(tmp_path: Path) -> None:
    target = tmp_path / "big.bin"

    def write_slowly() -> None:
        with open(target, "wb") as handle:
            for _ in range(8):
                handle.write(b"x" * 1000)
                handle.flush()
                time.sleep(0.01)

    # settle 5 at 20 ms: the file must hold still for 100 ms, ten times the writer's pause
    result = _watch({"path": str(tmp_path), "settle": 5, "interval": 20, "maxEvents": 1}, [write_slowly])
    assert [(d["event"], d["size"]) for d in result.data("output")] == [("created", 8000)]


def test_dir_watch_recursive_existing_and_a_directory_that_appears_later(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("a")
    result = run_component(
        "tpl_dir_watch", {"path": str(tmp_path), "recursive": True, "includeExisting": True, "maxEvents": 1, "interval": 10},
        {"start": [FLOW]},
    )
    assert [(d["event"], os.path.relpath(d["path"], tmp_path)) for d in result.data("output")] == [("created", "sub/a.txt")]

    later = tmp_path / "later"
    result = _watch(
        {"path": str(later), "maxEvents": 1},
        [lambda: later.mkdir(), lambda: (later / "b.txt").write_text("b")],
    )
    assert [(d["event"], d["name"]) for d in result.data("output")] == [("created", "b.txt")]
    assert "error" not in result.outputs  # a directory that does not exist yet is empty, not an error


def test_dir_watch_reports_an_unreadable_directory_once_and_stops_at_shutdown(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("watch", "tpl_dir_watch", {"path": str(not_a_dir), "interval": 10})
    net.add_node("sink", "sink")
    net.add_connection("watch", "error", "sink", "error")
    net.add_initial("watch", "start", FLOW)
    started = time.perf_counter()
    status = net.run(timeout=0.3, grace=0)
    assert status.name == "TIMEOUT" and time.perf_counter() - started < 2
    errors = [m["data"] for port, m, _t in sink.items]
    assert errors == ["Directory read error: Not a directory (os error 20)"]


# -- pipelines -------------------------------------------------------------------------------------


def test_file_components_take_the_path_of_a_listing_entry(tmp_path: Path) -> None:
    """tpl_dir_list's Objects feed tpl_file_lines directly: an Object's `path` is the file to read."""
    for name, text in {"a.txt": "1\n2\n", "b.txt": "3\n"}.items():
        (tmp_path / name).write_text(text)
    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("walk", "tpl_dir_list", {"path": str(tmp_path), "endMarker": False})
    net.add_node("lines", "tpl_file_lines", {"endMarker": False})
    net.add_node("sink", "sink")
    net.add_connection("walk", "output", "lines", "trigger")
    net.add_connection("lines", "output", "sink", "line")
    net.add_initial("walk", "trigger", FLOW)
    assert net.run(timeout=10).name == "COMPLETE"
    assert [m["data"] for _port, m, _t in sink.items] == ["1", "2", "3"]


def test_log_report_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """file lines -> regex (named groups) -> filter ERROR -> reduce count per service -> log."""
    log = tmp_path / "app.log"
    services = ["api", "db", "api", "web", "api", "db"]
    levels = ["ERROR", "INFO", "ERROR", "ERROR", "WARN", "ERROR"]
    log.write_text("".join(f"2024-01-01 {lv} {svc} something\n" for lv, svc in zip(levels, services)) + "garbage line\n")
    net = Network(on_error="fail")
    net.add_node("lines", "tpl_file_lines", {"path": str(log)})
    net.add_node("parse", "tpl_regex_matcher", {"pattern": r"^\S+ (?P<level>[A-Z]+) (?P<service>\w+)"})
    net.add_node("errors", "tpl_filter", {"condition": "equals", "field": "level", "value": "ERROR"})
    net.add_node("count", "tpl_reduce", {"operation": "count", "groupBy": "service"})
    net.add_node("show", "tpl_log", {"prefix": "errors: "})
    net.add_connection("lines", "output", "parse", "input")
    net.add_connection("parse", "groups", "errors", "input")
    net.add_connection("errors", "output", "count", "input")
    net.add_connection("count", "output", "show", "input")
    net.add_initial("lines", "trigger", FLOW)
    assert net.run(timeout=10)
    assert capsys.readouterr().out == 'errors: {"api":2,"web":1,"db":1}\n'
