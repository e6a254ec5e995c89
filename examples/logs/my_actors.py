"""Custom actors for the logs example (loaded by `component: "python:my_actors:ParseLines"`)."""

from __future__ import annotations

import re

from reflow_cli import Actor, Message, PortSpec

LINE = re.compile(r"^(?P<time>\S+)\s+(?P<level>[A-Z]+)\s+(?P<service>[\w-]+):\s*(?P<message>.*)$")


class ParseLines(Actor):
    """Parses a whole log file (Bytes) into an Array of {time, level, service, message} records."""

    component = "parse_lines"
    inports = [PortSpec("in", "Bytes", "the log file's content")]
    outports = [PortSpec("out", "Array", "one record per well-formed line")]

    def run(self, ctx):
        text = ctx.inputs["in"]["data"].decode("utf-8", errors="replace")
        records = [match.groupdict() for match in map(LINE.match, text.splitlines()) if match]
        ctx.done({"out": Message.array(records)})
