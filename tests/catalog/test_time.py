"""Time family: the interval and cron triggers (short real schedules) and date/time."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pytest

from reflow_cli import Network
from reflow_cli.catalog._common import rfc3339, strftime
from tests.catalog._helpers import Sink, run_component, tagged as T

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00")
FLOW = T("Flow")


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text[:26] + text[29:]).timestamp()


# -- tpl_interval_trigger --------------------------------------------------------------------------


def test_interval_fires_on_a_fixed_schedule_then_done() -> None:
    before = time.time()
    result = run_component("tpl_interval_trigger", {"interval": 40, "maxExecutions": 3}, {"start": [FLOW]})
    assert result.status.name == "COMPLETE"
    stamps = [m["timestamp"] for m in result.data("trigger")]
    assert len(stamps) == 3 and all(RFC3339.fullmatch(s) for s in stamps)
    assert before - 0.01 <= _epoch(stamps[0]) <= time.time()
    first, second, third = result.times["trigger"]
    (done,) = result.times["done"]
    assert result.data("done") == [None]
    assert first < 0.03
    assert 0.03 <= second - first <= 0.07 and 0.07 <= third - first <= 0.11
    assert 0.11 <= done - first <= 0.15


def test_interval_not_immediately() -> None:
    result = run_component(
        "tpl_interval_trigger", {"interval": 30, "maxExecutions": 2, "startImmediately": False}, {"start": [FLOW]}
    )
    first, second = result.times["trigger"]
    assert 0.025 <= first <= 0.06 and 0.055 <= second <= 0.09
    assert result.times["done"][0] >= 0.085


def test_interval_fractional_seconds() -> None:
    result = run_component(
        "tpl_interval_trigger", {"interval": 0.02, "intervalUnit": "seconds", "maxExecutions": 3}, {"start": [FLOW]}
    )
    assert len(result.data("trigger")) == 3 and len(result.data("done")) == 1
    assert 0.035 <= result.times["trigger"][2] - result.times["trigger"][0] <= 0.07


def test_interval_forever_until_the_run_is_stopped() -> None:
    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("tick", "tpl_interval_trigger", {"interval": 10})
    net.add_node("sink", "sink")
    net.add_connection("tick", "trigger", "sink", "t")
    net.add_connection("tick", "done", "sink", "d")
    net.add_initial("tick", "start", FLOW)
    status = net.run(timeout=0.25, grace=0)  # Network.shutdown() lets sources run on during a grace period
    assert status.name == "TIMEOUT"
    ports = [port for port, _m, _t in sink.items]
    assert 10 <= ports.count("t") <= 30 and "d" not in ports


def test_interval_each_start_runs_a_schedule() -> None:
    result = run_component("tpl_interval_trigger", {"interval": 5, "maxExecutions": 2}, {"start": [FLOW, T("Integer", 1)]})
    assert len(result.data("trigger")) == 4 and len(result.data("done")) == 2


def test_interval_rejects_a_zero_interval() -> None:
    net = Network()
    net.add_node("tick", "tpl_interval_trigger", {"interval": 0})
    with pytest.raises(Exception, match="interval"):
        net.start()


# -- tpl_date_time ---------------------------------------------------------------------------------


def test_date_time_now() -> None:
    before_ms = time.time_ns() // 1_000_000
    result = run_component("tpl_date_time", {}, {"trigger": [FLOW]})
    after_ms = time.time_ns() // 1_000_000
    data = result.one("output")["data"]
    assert before_ms <= data["timestamp"] <= after_ms
    assert result.one("timestamp")["data"] == data["timestamp"]
    assert result.one("formatted")["data"] == data["formatted"]
    assert RFC3339.fullmatch(data["iso"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["formatted"])
    moment = datetime.fromtimestamp(data["timestamp"] / 1000, tz=timezone.utc)
    assert data["formatted"] == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert (data["year"], data["month"], data["day"]) == (f"{moment.year:04d}", f"{moment.month:02d}", f"{moment.day:02d}")
    assert set(data) == {"timestamp", "iso", "formatted", "year", "month", "day", "hour", "minute", "second"}


def test_date_time_epoch() -> None:
    result = run_component("tpl_date_time", {"operation": "epoch"}, {"input": [FLOW]})
    assert abs(result.one("timestamp")["data"] - time.time()) < 2
    assert set(result.outputs) == {"timestamp"}


@pytest.mark.parametrize(
    ("value", "iso", "millis"),
    [
        (T("String", "2024-03-05T06:07:08.123456789Z"), "2024-03-05T06:07:08.123456789+00:00", 1709618828123),
        (T("String", "2024-03-05T07:07:08+01:00"), "2024-03-05T06:07:08.000000000+00:00", 1709618828000),
        (T("String", "2024-03-05"), "2024-03-05T00:00:00.000000000+00:00", 1709596800000),
        (T("Integer", 1709618828123), "2024-03-05T06:07:08.123000000+00:00", 1709618828123),
    ],
)
def test_date_time_parse(value: dict, iso: str, millis: int) -> None:
    result = run_component("tpl_date_time", {"operation": "parse", "format": "%H:%M:%S%.6f"}, {"input": [value]})
    data = result.one("output")["data"]
    assert data["iso"] == iso
    assert data["timestamp"] == millis == result.one("timestamp")["data"]
    assert data["formatted"] == iso[11:19] + "." + iso[20:26]


def test_date_time_timezone() -> None:
    config = {"operation": "parse", "timezone": "Asia/Tokyo", "format": "%Y-%m-%d %H:%M %:z"}
    result = run_component("tpl_date_time", config, {"input": [T("String", "2024-03-05T20:00:00Z")]})
    data = result.one("output")["data"]
    assert data["formatted"] == "2024-03-06 05:00 +09:00"
    assert data["iso"] == "2024-03-06T05:00:00.000000000+09:00"
    assert (data["day"], data["hour"]) == ("06", "05")


def test_date_time_errors() -> None:
    result = run_component("tpl_date_time", {"operation": "parse"}, {"input": [T("String", "next tuesday"), FLOW]})
    assert len(result.data("error")) == 2
    assert result.data("error")[0] == "parse needs an ISO 8601 String or Unix milliseconds, not String 'next tuesday'"
    result = run_component("tpl_date_time", {"timezone": "Mars/Olympus"}, {"input": [FLOW]})
    assert result.data("error")[0].startswith("Unknown timezone 'Mars/Olympus'")


# -- helpers -------------------------------------------------------------------------------------


def test_strftime_understands_chrono_specifiers() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
    nanos = 123456789
    assert strftime(moment, "%S%.3f|%.6f|%.9f|%.f|%3f|%f|%:z|%%f", nanos) == "05.123|.123456|.123456789|.123456789|123|123456789|+00:00|%f"
    assert strftime(moment, "%s") == str(int(moment.timestamp()))
    assert strftime(moment.replace(microsecond=0), "%.f", 0) == ".000"


def test_rfc3339() -> None:
    assert rfc3339(nanos=1_709_618_828_000_000_001) == "2024-03-05T06:07:08.000000001+00:00"
    assert rfc3339(0.5) == "1970-01-01T00:00:00.500000000+00:00"


# -- tpl_cron_trigger ------------------------------------------------------------------------------


def test_cron_fires_on_second_boundaries_then_done() -> None:
    # 6 fields, seconds first: every second (the reference never fired at all)
    result = run_component("tpl_cron_trigger", {"cronExpression": "* * * * * *", "maxExecutions": 2}, {"start": [FLOW]})
    assert result.status.name == "COMPLETE"
    triggers = result.data("trigger")
    assert [t["schedule"] for t in triggers] == ["* * * * * *"] * 2
    first, second = (_epoch(t["timestamp"]) for t in triggers)
    assert 0.9 <= second - first <= 1.2
    assert all(stamp % 1 < 0.25 for stamp in (first, second))  # fired just after the second ticked
    assert result.data("done") == [None]
    assert result.times["done"][0] >= result.times["trigger"][1]


def test_cron_runs_until_the_run_is_stopped() -> None:
    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("cron", "tpl_cron_trigger", {"cronExpression": "* * * * * *"})
    net.add_node("sink", "sink")
    net.add_connection("cron", "trigger", "sink", "t")
    net.add_connection("cron", "done", "sink", "d")
    net.add_initial("cron", "start", FLOW)
    started = time.perf_counter()
    status = net.run(timeout=1.3, grace=0)
    assert status.name == "TIMEOUT" and time.perf_counter() - started < 2.0  # shutdown stops the schedule at once
    ports = [port for port, _m, _t in sink.items]
    assert 1 <= ports.count("t") <= 2 and "d" not in ports


def test_cron_payload_template_and_common_schedules() -> None:
    config = {"cronExpression": "* * * * * *", "maxExecutions": 1, "payload": '{"n": ${executionCount}, "at": "${timestamp}", "s": "${schedule}"}'}
    result = run_component("tpl_cron_trigger", config, {"start": [FLOW]})
    (payload,) = result.data("trigger")
    assert payload["n"] == 1 and payload["s"] == "* * * * * *" and RFC3339.fullmatch(payload["at"])
    from reflow_cli.catalog.time import COMMON_SCHEDULES

    assert COMMON_SCHEDULES["Every hour"] == "0 * * * *" and len(COMMON_SCHEDULES) == 8


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        ("0 * * * *", "2024-01-01T12:30:15", ["2024-01-01T13:00:00", "2024-01-01T14:00:00"]),
        ("*/15 9-10 * * MON", "2024-01-01T10:40:00", ["2024-01-01T10:45:00", "2024-01-08T09:00:00"]),
        ("*/20 * * * * *", "2024-01-01T12:30:15", ["2024-01-01T12:30:20", "2024-01-01T12:30:40"]),
        ("30 0 12 * * *", "2024-01-01T12:00:00", ["2024-01-01T12:00:30", "2024-01-02T12:00:30"]),
        ("@hourly", "2024-01-01T12:30:15", ["2024-01-01T13:00:00", "2024-01-01T14:00:00"]),
        ("@daily", "2024-01-01T12:30:15", ["2024-01-02T00:00:00", "2024-01-03T00:00:00"]),
        ("@midnight", "2024-01-01T12:30:15", ["2024-01-02T00:00:00", "2024-01-03T00:00:00"]),
        ("@weekly", "2024-01-01T12:30:15", ["2024-01-07T00:00:00", "2024-01-14T00:00:00"]),
        ("@monthly", "2024-01-31T12:30:15", ["2024-02-01T00:00:00", "2024-03-01T00:00:00"]),
        ("@yearly", "2024-06-01T00:00:00", ["2025-01-01T00:00:00", "2026-01-01T00:00:00"]),
        ("@annually", "2024-06-01T00:00:00", ["2025-01-01T00:00:00", "2026-01-01T00:00:00"]),
        ("0 0 1 JAN,JUL *", "2024-02-01T00:00:00", ["2024-07-01T00:00:00", "2025-01-01T00:00:00"]),
    ],
)
def test_cron_schedules(expression: str, start: str, expected: list[str]) -> None:
    from reflow_cli.catalog.time import next_fire_times

    moment = datetime.fromisoformat(start).replace(tzinfo=timezone.utc)
    assert [t.strftime("%Y-%m-%dT%H:%M:%S") for t in next_fire_times(expression, moment, 2)] == expected


def test_cron_schedule_in_a_time_zone() -> None:
    from zoneinfo import ZoneInfo

    from reflow_cli.catalog.time import next_fire_times

    paris = ZoneInfo("Europe/Paris")
    (fire,) = next_fire_times("0 9 * * *", datetime(2024, 3, 30, 12, 0, tzinfo=paris), 1)
    assert fire.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") == "2024-03-31 07:00"  # after the DST change


@pytest.mark.parametrize(
    ("config", "text"),
    [
        ({"cronExpression": "* * *"}, "a cron expression has 5 fields (minute hour day month weekday) or 6 (second first), not 3: '* * *'"),
        ({"cronExpression": "* * * * * * *"}, "a cron expression has 5 fields (minute hour day month weekday) or 6 (second first), not 7: '* * * * * * *'"),
        ({"cronExpression": "61 * * * *"}, "invalid cron expression '61 * * * *': [61 * * * *] is not acceptable, out of range"),
        ({"cronExpression": "@often"}, "unknown cron alias '@often' (use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)"),
    ],
)
def test_cron_errors(config: dict, text: str) -> None:
    result = run_component("tpl_cron_trigger", config, {"start": [FLOW]})
    assert result.data("error") == [text]
    assert "trigger" not in result.outputs


def test_cron_unknown_time_zone() -> None:
    result = run_component("tpl_cron_trigger", {"timezone": "Mars/Olympus"}, {"start": [FLOW]})
    assert result.data("error")[0].startswith("Unknown timezone 'Mars/Olympus'")


def test_date_time_takes_a_packet_on_any_port() -> None:
    """anchor-behaviour.md §10: tpl_date_time's inports are "any port" (a `*` inport pattern)."""
    result = run_component("tpl_date_time", {"operation": "parse"}, {"when": [T("String", "2024-03-05T06:07:08Z")]})
    assert result.one("timestamp")["data"] == 1709618828000
    net = Network()
    sink = Sink()
    net.register_actor("test_sink", sink)
    net.add_node("source", "tpl_passthrough")
    net.add_node("clock", "tpl_date_time", {"operation": "epoch"})
    net.add_node("sink", "test_sink")
    net.add_connection("source", "output", "clock", "tick-tock_2")
    net.add_connection("clock", "timestamp", "sink", "timestamp")
    net.add_initial("source", "input", FLOW)
    assert net.run(timeout=10).name == "COMPLETE"
    ((port, message, _at),) = sink.items
    assert port == "timestamp" and abs(message["data"] - time.time()) < 2


def test_a_spec_may_connect_any_port_of_date_time(tmp_path) -> None:
    from reflow_cli.spec import load_pipeline

    spec = tmp_path / "pipeline.yaml"
    spec.write_text(
        "version: 1\n"
        "nodes:\n"
        "  source: {component: tpl_passthrough}\n"
        "  clock: {component: tpl_date_time}\n"
        "  print: {component: tpl_log}\n"
        "connections:\n"
        "  - source.output -> clock.whenever\n"
        "  - clock.formatted -> print.input\n"
        "initial:\n"
        "  - {to: source.input, data: {type: Flow}}\n",
        encoding="utf-8",
    )
    loaded = load_pipeline(str(spec))
    assert loaded.ok, [str(d) for d in loaded.diagnostics]
