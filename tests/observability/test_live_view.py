"""The live view and plain progress lines show where a stalled pipeline is blocked."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from reflow_cli.cli._progress import LiveView, PlainProgress
from reflow_cli.engine import NetworkStatistics
from reflow_cli.runner import run_to_end

from .slow_actors import stalled_network


@pytest.fixture(scope="module")
def blocked_snapshot() -> NetworkStatistics:
    """A statistics snapshot taken while the flood waits for room in the slow sink's full inport."""
    snapshots: list[NetworkStatistics] = []
    outcome = run_to_end(stalled_network(count=40, delay=0.01), progress=snapshots.append, progress_interval=0.02,
                         handle_signals=False)
    assert outcome.reason == "complete"
    blocked = [
        s for s in snapshots
        if s.nodes["flood"].state == "blocked" and s.inports["sink.in"].queued >= 3 and s.inports["sink.in"].blocked_s > 0
    ]
    assert blocked, [(s.nodes["flood"].state, s.inports["sink.in"].queued) for s in snapshots]
    return blocked[-1]


def _rendered(view: LiveView) -> str:
    out = io.StringIO()
    Console(file=out, width=160, color_system=None).print(view.live.renderable)
    return out.getvalue()


def test_the_live_table_shows_the_blocked_producer_and_the_full_inport(blocked_snapshot: NetworkStatistics) -> None:
    view = LiveView(io.StringIO())
    try:
        view(blocked_snapshot)
        table = _rendered(view)
    finally:
        view.close()
    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if line.count("│") > 5}
    assert "blocked" in rows["flood"]  # the producer waits for room
    queued = blocked_snapshot.inports["sink.in"].queued
    assert f"{queued}/4" in rows["sink"]  # the slow sink's inport is (nearly) full
    blocked_s = f"{blocked_snapshot.nodes['flood'].blocked_s:.2f}"
    assert blocked_s in rows["flood"]


def test_plain_progress_counts_blocked_nodes(blocked_snapshot: NetworkStatistics) -> None:
    out = io.StringIO()
    progress = PlainProgress(out, every=0)
    progress(blocked_snapshot)
    assert "1 blocked" in out.getvalue()
