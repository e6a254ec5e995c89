"""Time family: timers, cron schedules and dates.

``tpl_interval_trigger`` and ``tpl_cron_trigger`` are async actors: their tick
awaits ``trio.sleep`` on the run's event loop, so they never block other nodes,
and a run with a finite schedule completes after its ``done`` packet.
"""

from __future__ import annotations

import json
import time as _time
from datetime import datetime, timedelta, timezone
from typing import Any

from reflow_cli import Actor, Message, PortSpec
from reflow_cli.errors import ReflowError

from ._common import natural, rfc3339, rfc3339_now, schema, strftime

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
            await ctx.send_async({"trigger": Message.object({"timestamp": rfc3339_now()})})
            fired += 1
            step += 1
            behind = trio.current_time() - (start + step * period)
            if behind > 0:  # a slow consumer held the send back: skip the missed beats, no burst
                step += int(behind // period) + 1
        await trio.sleep_until(start + step * period)
        ctx.done({"done": Message.flow()})


# -- tpl_cron_trigger ------------------------------------------------------------------------------

#: The reference's `commonSchedules` names and the expressions they stand for.
COMMON_SCHEDULES: dict[str, str] = {
    "Every minute": "* * * * *",
    "Every 5 minutes": "*/5 * * * *",
    "Every 15 minutes": "*/15 * * * *",
    "Every 30 minutes": "*/30 * * * *",
    "Every hour": "0 * * * *",
    "Every day at midnight": "0 0 * * *",
    "Every Monday at 9 AM": "0 9 * * 1",
    "First day of month": "0 0 1 * *",
}

_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


class CronError(ReflowError, ValueError):
    """A cron expression or time zone that cannot be used."""


def cron_schedule(expression: str, zone: Any = timezone.utc, start: datetime | None = None) -> Any:
    """A croniter for ``expression`` (5 fields, 6 fields with seconds first, or an ``@hourly``-style alias)."""
    from croniter import CroniterError, croniter  # lazy: only cron triggers need it

    text = " ".join(str(expression).split())
    if text.startswith("@"):
        if text.lower() not in _ALIASES:
            raise CronError(f"unknown cron alias {text!r} (use one of {', '.join(_ALIASES)})")
        text = text.lower()
        six = False
    else:
        fields = len(text.split(" ")) if text else 0
        if fields not in (5, 6):
            raise CronError(
                f"a cron expression has 5 fields (minute hour day month weekday) or 6 (second first), "
                f"not {fields}: {expression!r}"
            )
        six = fields == 6
    moment = start if start is not None else datetime.now(zone)
    try:
        return croniter(text, moment, second_at_beginning=six)
    except (CroniterError, ValueError, KeyError) as exc:
        raise CronError(f"invalid cron expression {expression!r}: {exc}") from None


def next_fire_times(expression: str, start: datetime, count: int) -> list[datetime]:
    """The next ``count`` times ``expression`` fires after ``start`` (for tests and docs)."""
    schedule = cron_schedule(expression, start.tzinfo or timezone.utc, start)
    return [schedule.get_next(datetime) for _ in range(count)]


class CronTrigger(Actor):
    """Sends `trigger` at the times a cron expression names (5 or 6 fields, or @hourly-style aliases)."""

    component = "tpl_cron_trigger"
    long_running = True  # fires until maxExecutions or shutdown: shutdown stops it at once
    inports = [PortSpec("start", None, "any packet starts the schedule")]
    outports = [
        PortSpec("trigger", None, "at every fire time: {timestamp, schedule} (or the `payload` template)"),
        PortSpec("done", "Flow", "after the last trigger (only when maxExecutions > 0)"),
        PortSpec("error", "Error", "an invalid cron expression or time zone"),
    ]
    config_schema = schema(
        {
            "commonSchedules": {
                "type": "string",
                "enum": ["Custom", *COMMON_SCHEDULES],
                "default": "Custom",
                "description": "A named schedule; Custom uses `cronExpression`. "
                + "; ".join(f"{name}: `{expr}`" for name, expr in COMMON_SCHEDULES.items()),
            },
            "cronExpression": {
                "type": "string",
                "default": "0 * * * *",
                "description": "5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first "
                "(`*/10 * * * * *`: every 10 s), or an alias: @hourly, @daily (@midnight), @weekly, @monthly, "
                "@yearly (@annually). Ranges, lists, steps and names (MON, JAN) work.",
            },
            "timezone": {"type": "string", "default": "UTC", "description": "IANA zone the schedule is read in (`Europe/Paris`)."},
            "maxExecutions": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "Number of triggers, then `done`; 0 fires until the run stops.",
            },
            "payload": {
                "type": ["string", "null"],
                "default": None,
                "description": "Template of each trigger: `${timestamp}`, `${schedule}` and `${executionCount}` are "
                "filled in, then the text is parsed as JSON (else sent as a String). null: "
                "{\"timestamp\": ..., \"schedule\": ...}.",
            },
        }
    )
    description = (
        "On a packet on `start`, fires at every time the cron schedule names (computed with croniter in "
        "`timezone`) and sends {\"timestamp\": RFC 3339 UTC, \"schedule\": the expression} on `trigger` (the "
        "reference never fired). Fire times missed while a consumer held a trigger back are skipped. After "
        "`maxExecutions` triggers it sends a Flow on `done`. An invalid expression goes to `error`."
    )
    example = {
        "config": {"cronExpression": "* * * * * *", "maxExecutions": 1},
        "inputs": {"start": [{"type": "Flow"}]},
        "outputs": {
            "trigger": [{"type": "Object", "data": {"timestamp": "<rfc3339>", "schedule": "* * * * * *"}}],
            "done": [{"type": "Flow"}],
        },
    }

    async def run(self, ctx: Any) -> None:
        import trio

        config = ctx.config
        named = config.get("commonSchedules") or "Custom"
        expression = COMMON_SCHEDULES.get(named) or config.get("cronExpression") or "0 * * * *"
        try:
            zone = _zone(config.get("timezone"))
            schedule = cron_schedule(expression, zone)
        except CronError as exc:
            ctx.done({"error": Message.error(str(exc))})
            return
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError
            ctx.done({"error": Message.error(f"Unknown timezone {config.get('timezone')!r}: {exc}")})
            return
        limit = int(config.get("maxExecutions") or 0)
        template = config.get("payload")
        fired = 0
        while limit == 0 or fired < limit:
            at = schedule.get_next(float)
            delay = at - _time.time()
            if delay < -1.0:  # fell behind (a slow consumer): skip the missed times
                schedule = cron_schedule(expression, zone)
                continue
            if delay > 0:
                await trio.sleep(delay)
            fired += 1
            stamp = rfc3339_now()
            if template is None:
                payload = Message.object({"timestamp": stamp, "schedule": expression})
            else:
                text = (
                    str(template)
                    .replace("${timestamp}", stamp)
                    .replace("${schedule}", expression)
                    .replace("${executionCount}", str(fired))
                )
                try:
                    payload = natural(json.loads(text))
                except ValueError:
                    payload = Message.string(text)
            await ctx.send_async({"trigger": payload})
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
        PortSpec("*", None, "any other port name: same as input (the reference takes a packet on any port)"),
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
        "On a packet on any port, sends the current time: `timestamp` (Unix ms), `formatted` (with `format`) and "
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
    "tpl_cron_trigger": CronTrigger,
}
