"""Time family: timers and dates.

``tpl_interval_trigger`` is an async actor: its tick awaits ``trio.sleep`` on
the run's event loop, so it never blocks other nodes, and a run with a
finite schedule completes after its ``done`` packet.
"""

from __future__ import annotations

import time as _time
from datetime import datetime, timedelta, timezone
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from ._common import rfc3339, schema, strftime

__all__ = ["COMPONENTS"]

_UNITS = {"milliseconds": 0.001, "seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0}


class IntervalTrigger(Actor):
    """Sends `trigger` every interval after a `start` packet; `done` after the last."""

    component = "tpl_interval_trigger"
    long_running = True  # a schedule runs until its last trigger: shutdown stops it at once
    inports = [PortSpec("start", None, "any packet starts one schedule")]
    outports = [
        PortSpec("trigger", "Object", "{\"timestamp\": RFC 3339 UTC time with nanoseconds} at every tick"),
        PortSpec("done", "Flow", "one interval after the last trigger (only when maxExecutions > 0)"),
    ]
    config_schema = schema(
        {
            "interval": {
                "type": "number",
                "exclusiveMinimum": 0,
                "default": 60000,
                "description": "Time between triggers, in `intervalUnit` (fractions allowed).",
            },
            "intervalUnit": {
                "type": "string",
                "enum": list(_UNITS),
                "default": "milliseconds",
                "description": "Unit of `interval`.",
            },
            "startImmediately": {
                "type": "boolean",
                "default": True,
                "description": "Fire the first trigger at once; otherwise one interval after start.",
            },
            "maxExecutions": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "Number of triggers; 0 fires forever (stop the run with `--duration` or shutdown).",
            },
        }
    )
    description = (
        "On a packet on `start`, sends {\"timestamp\": \"2024-01-02T03:04:05.123456789+00:00\"} on `trigger` "
        "every `interval` (first at once unless `startImmediately` is false) on a fixed schedule that does "
        "not drift (beats missed while a slow consumer held a trigger back are skipped, not bunched); "
        "after `maxExecutions` triggers it waits one more interval and sends a Flow on `done`. "
        "A second `start` runs another schedule after the first ends."
    )
    example = {
        "config": {"interval": 10, "maxExecutions": 2},
        "inputs": {"start": [{"type": "Flow"}]},
        "outputs": {
            "trigger": [{"type": "Object", "data": {"timestamp": "<rfc3339>"}}, {"type": "Object", "data": {"timestamp": "<rfc3339>"}}],
            "done": [{"type": "Flow"}],
        },
    }

    async def run(self, ctx: Any) -> None:
        import trio

        config = ctx.config
        period = float(config.get("interval", 60000)) * _UNITS.get(config.get("intervalUnit") or "milliseconds", 0.001)
        limit = int(config.get("maxExecutions") or 0)
        start = trio.current_time()
        step = 0 if config.get("startImmediately", True) else 1
        fired = 0
        while limit == 0 or fired < limit:
            await trio.sleep_until(start + step * period)
            await ctx.send_async({"trigger": Message.object({"timestamp": rfc3339(nanos=_time.time_ns())})})
            fired += 1
            step += 1
            behind = trio.current_time() - (start + step * period)
            if behind > 0:  # a slow consumer held the send back: skip the missed beats, no burst
                step += int(behind // period) + 1
        await trio.sleep_until(start + step * period)
        ctx.done({"done": Message.flow()})


def _zone(name: str | None) -> Any:
    if not name or name.upper() == "UTC":
        return timezone.utc
    from zoneinfo import ZoneInfo  # lazy: only for non-UTC zones

    return ZoneInfo(name)


def _instant_from(data: Any) -> int | None:
    """Unix nanoseconds from an ISO 8601 String or a Unix-milliseconds number, else None."""
    if isinstance(data, bool):
        return None
    if isinstance(data, (int, float)):
        return int(round(data * 1_000_000))
    if isinstance(data, str):
        text = data.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        fraction_ns = 0
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        # keep digits beyond microseconds when present ("...05.123456789Z")
        if "." in text:
            digits = ""
            for char in text.split(".", 1)[1]:
                if not char.isdigit():
                    break
                digits += char
            if len(digits) > 6:
                fraction_ns = int(digits[6:9].ljust(3, "0"))
        micros = (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)
        return int(micros) * 1000 + fraction_ns
    return None


class DateTime(Actor):
    """The current time (or a parsed one) as a timestamp, an ISO text, a formatted text and its parts."""

    component = "tpl_date_time"
    inports = [
        PortSpec("input", None, "any packet; with operation parse, the time to parse"),
        PortSpec("trigger", None, "same as input"),
    ]
    outports = [
        PortSpec("output", "Object", "{timestamp, iso, formatted, year, month, day, hour, minute, second}"),
        PortSpec("timestamp", "Integer", "Unix milliseconds (operation epoch: Unix seconds)"),
        PortSpec("formatted", "String", "the time in `format`"),
        PortSpec("error", "Error", "`Unknown operation: X`, or a parse input that is not a time"),
    ]
    config_schema = schema(
        {
            "operation": {
                "type": "string",
                "enum": ["now", "epoch", "parse"],
                "default": "now",
                "description": "now: the current time on all three ports; epoch: Unix seconds on `timestamp` "
                "only; parse: the time in the packet (ISO 8601 String or Unix milliseconds) on all three ports.",
            },
            "format": {
                "type": "string",
                "default": "%Y-%m-%dT%H:%M:%S%.3fZ",
                "description": "strftime format; chrono's `%.3f`, `%.6f`, `%.9f`, `%f` (nanoseconds) and `%:z` work too.",
            },
            "timezone": {
                "type": "string",
                "default": "UTC",
                "description": "IANA zone (`Europe/Paris`) for `formatted`, `iso` and the parts.",
            },
        }
    )
    description = (
        "On any packet, sends the current time: `timestamp` (Unix ms), `formatted` (with `format`) and "
        "`output`, an Object with timestamp, iso (RFC 3339 with nanoseconds), formatted and the parts "
        "year..second as zero-padded Strings. operation epoch sends Unix seconds on `timestamp` only; "
        "operation parse reads the time from the packet instead of the clock."
    )
    example = {
        "config": {"operation": "parse", "format": "%d/%m/%Y"},
        "inputs": {"input": [{"type": "String", "data": "2024-03-05T06:07:08Z"}]},
        "outputs": {
            "timestamp": [{"type": "Integer", "data": 1709618828000}],
            "formatted": [{"type": "String", "data": "05/03/2024"}],
            "output": [
                {
                    "type": "Object",
                    "data": {
                        "timestamp": 1709618828000,
                        "iso": "2024-03-05T06:07:08.000000000+00:00",
                        "formatted": "05/03/2024",
                        "year": "2024",
                        "month": "03",
                        "day": "05",
                        "hour": "06",
                        "minute": "07",
                        "second": "08",
                    },
                }
            ],
        },
    }

    def run(self, ctx: Any) -> None:
        config = ctx.config
        operation = config.get("operation") or "now"
        if operation == "epoch":
            ctx.done({"timestamp": Message.integer(_time.time_ns() // 1_000_000_000)})
            return
        if operation == "now":
            nanos = _time.time_ns()
        elif operation == "parse":
            message = next(iter(ctx.inputs.values()))
            nanos = _instant_from(message.get("data"))
            if nanos is None:
                ctx.done(
                    {
                        "error": Message.error(
                            "parse needs an ISO 8601 String or Unix milliseconds, not "
                            f"{message['type']} {message.get('data')!r:.60}"
                        )
                    }
                )
                return
        else:
            ctx.done({"error": Message.error(f"Unknown operation: {operation}")})
            return
        try:
            zone = _zone(config.get("timezone"))
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError
            ctx.done({"error": Message.error(f"Unknown timezone {config.get('timezone')!r}: {exc}")})
            return
        seconds, fraction = divmod(nanos, 1_000_000_000)
        moment = datetime.fromtimestamp(seconds, tz=zone).replace(microsecond=fraction // 1000)
        formatted = strftime(moment, config.get("format") or "%Y-%m-%dT%H:%M:%S%.3fZ", fraction)
        millis = nanos // 1_000_000
        if zone is timezone.utc:
            iso = rfc3339(nanos=nanos)
        else:
            iso = f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction:09d}{strftime(moment, '%:z')}"
        ctx.done(
            {
                "output": Message.object(
                    {
                        "timestamp": millis,
                        "iso": iso,
                        "formatted": formatted,
                        "year": f"{moment.year:04d}",
                        "month": f"{moment.month:02d}",
                        "day": f"{moment.day:02d}",
                        "hour": f"{moment.hour:02d}",
                        "minute": f"{moment.minute:02d}",
                        "second": f"{moment.second:02d}",
                    }
                ),
                "timestamp": Message.integer(millis),
                "formatted": Message.string(formatted),
            }
        )


COMPONENTS: dict[str, type[Actor]] = {
    "tpl_interval_trigger": IntervalTrigger,
    "tpl_date_time": DateTime,
}
