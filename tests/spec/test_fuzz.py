"""No input gives a traceback or a hang: mutated specs, truncated text, junk bytes, bombs, huge files.

Whatever goes in, :func:`load_pipeline` returns diagnostics, each with a code
from the table, the file, a line >= 1 inside the file and a column >= 1.
SPEC_EXAMPLES=3000 runs the fuzzers longer than the default 150 examples.
"""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reflow_cli.spec import CODES, load_pipeline, validate_paths

from ._helpers import EXAMPLE, MY_ACTORS, ROOT, registry, write

SEEDS = [
    EXAMPLE,
    (ROOT / "tests" / "spec" / "broken" / "W003.yaml").read_text(),
    """version: 1
name: full
case_sensitive: false
properties: {owner: me}
nodes:
  a: &n {component: tpl_switch, config: {k: [1, 2, {x: y}]}, description: d, metadata: {x: 1}}
  b: {<<: *n, component: tpl_merge}
  c: {component: tpl_sink, on_error: continue}
connections:
  - a.case1 -> b.in1
  - {from: {node: b, port: out, index: 1}, to: c.input, capacity: 8, metadata: {label: l}}
initial:
  - {to: a.input, data: [1, 2.5, "x", null, true]}
  - {inport: entry, data: {type: Bytes, data: [1, 2]}, index: 3}
inports:
  entry: {node: a, port: input, port_type: "array<integer>", metadata: {doc: d}}
outports: {done: b.out}
groups: {g1: [a, b], g2: {nodes: [c], metadata: {color: red}}}
""",
]
FUZZ = settings(max_examples=int(os.environ.get("SPEC_EXAMPLES", "150")), deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def check_clean(path: Path, text: bytes) -> None:
    loaded = load_pipeline(path, registry=registry())
    lines = text.count(b"\n") + 1
    for d in loaded.diagnostics:
        assert d.code in CODES, d
        assert d.severity == CODES[d.code][0], d
        assert d.file in (str(path), "<command line>") or d.file.endswith((".yaml", ".json")), d
        assert d.line >= 1 and d.column >= 1, d
        if d.file == str(path):
            assert d.line <= lines + 1, d
        assert isinstance(d.message, str) and d.message
    if loaded.ok:
        assert loaded.graph is not None and loaded.spec is not None


def _yaml(data: Any) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, (*prefix, i))
    return out


REPLACEMENTS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(["a.out -> b.in", "x.y", "tpl_filter", "python:nope:X", "./self.yaml", {"type": "Integer"},
                     {"type": "Flow", "data": 1}, "", "-", "reflow"]),
)


@st.composite
def mutated_documents(draw: st.DrawFn) -> str:
    """A seed spec with its data mutated: keys deleted, duplicated or retyped, values replaced."""
    from reflow_cli.spec._yaml import parse_yaml

    data = copy.deepcopy(parse_yaml(draw(st.sampled_from(SEEDS))).data)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(data)))
        if not path:
            continue
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = draw(st.sampled_from(["delete", "replace", "duplicate", "rename"]))
        if action == "delete":
            del parent[last]
        elif action == "replace":
            parent[last] = copy.deepcopy(draw(REPLACEMENTS))
        elif action == "duplicate":
            if isinstance(parent, list):
                parent.append(copy.deepcopy(parent[last]))
            else:
                parent[f"{last}_copy"] = copy.deepcopy(parent[last])
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = parent.pop(last)
    return _yaml(data)


@st.composite
def mangled_text(draw: st.DrawFn) -> bytes:
    """A seed spec's bytes truncated, with junk inserted, or with a key repeated textually."""
    text = draw(st.sampled_from(SEEDS)).encode()
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["truncate", "junk", "repeat-line", "drop-char"]))
        at = draw(st.integers(0, len(text)))
        if action == "truncate":
            text = text[:at]
        elif action == "junk":
            text = text[:at] + draw(st.binary(min_size=1, max_size=8)) + text[at:]
        elif action == "repeat-line":
            lines = text.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = b"\n".join(lines)
        elif text:
            text = text[: max(0, at - 1)] + text[at:]
    return text


@FUZZ
@given(mutated_documents())
def test_mutated_specs_give_clean_diagnostics(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    write(folder, "my_actors.py", MY_ACTORS)
    check_clean(write(folder, "spec.yaml", text), text.encode())


@FUZZ
@given(mangled_text(), st.sampled_from([".yaml", ".json"]))
def test_mangled_text_gives_clean_diagnostics(tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    write(folder, "my_actors.py", MY_ACTORS)
    path = folder / f"spec{suffix}"
    path.write_bytes(data)
    check_clean(path, data)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_give_clean_diagnostics(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "junk.yaml"
    path.write_bytes(data)
    check_clean(path, data)


@FUZZ
@given(st.lists(st.text(max_size=12), max_size=4))
def test_any_override_gives_clean_diagnostics(tmp_path_factory: pytest.TempPathFactory, overrides: list[str]) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    write(folder, "my_actors.py", MY_ACTORS)
    path = write(folder, "spec.yaml", EXAMPLE)
    loaded = load_pipeline(path, registry=registry(), overrides=overrides)
    for d in loaded.diagnostics:
        assert d.code in CODES and d.line >= 1 and d.column >= 1, d


# -- resource attacks: they must fail fast ---------------------------------------------------


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(50 * 2**20)  # sparse: instant to make
    start = time.perf_counter()
    diagnostics = validate_paths([path])
    assert time.perf_counter() - start < 1.0
    assert [(d.code, d.line, d.column) for d in diagnostics] == [("E019", 1, 1)]
    assert "52,428,800 bytes" in diagnostics[0].message


def test_a_pipe_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child writes more than the limit, then leaves
        try:
            with open(fifo, "wb") as handle:
                handle.write(b"#" * 5000)
        finally:
            os._exit(0)
    try:
        diagnostics = validate_paths([fifo], max_size=1000)
    finally:
        os.waitpid(pid, 0)
    assert [d.code for d in diagnostics] == ["E019"]


def test_a_billion_laughs_stops_at_once(tmp_path: Path) -> None:
    lines = ["version: 1", "nodes:", "  a:", "    component: x", "    config:", "      l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"      l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    start = time.perf_counter()
    diagnostics = validate_paths([path])
    assert time.perf_counter() - start < 1.0
    assert [d.code for d in diagnostics] == ["E020"]
    assert diagnostics[0].line == 9  # the key whose aliases pass the limit


def test_recursive_aliases_and_merges_are_refused(tmp_path: Path) -> None:
    for text in ("version: 1\nnodes: &a {x: *a}\n", "version: 1\nnodes: &a [*a]\n", "a: &a {<<: *a}\n"):
        path = write(tmp_path, "loop.yaml", text)
        codes = [d.code for d in validate_paths([path])]
        assert codes[:1] in (["E020"], ["E001"]), (text, codes)


@pytest.mark.parametrize("depth", [150, 5_000, 200_000])
def test_deep_nesting_is_refused_without_crashing(tmp_path: Path, depth: int) -> None:
    for text in ("[" * depth + "]" * depth, "- " * depth + "x", "{a: " * depth + "1" + "}" * depth):
        path = write(tmp_path, "deep.yaml", text)
        start = time.perf_counter()
        diagnostics = validate_paths([path])
        assert time.perf_counter() - start < 10
        assert [d.code for d in diagnostics] in (["E020"], ["E001"]), (text[:20], diagnostics)


def test_deep_json_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    assert [d.code for d in validate_paths([path])] == ["E020"]
    path = write(tmp_path, "deep2.json", json.dumps({"processes": {}, "x": [[[[[[1]]]]]]}))
    assert all(d.code in CODES for d in validate_paths([path]))
