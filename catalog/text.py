"""Text family: regular expressions, string templates, and the print/log sink.

A ``Flow`` (end of a stream) passes through: ``tpl_regex_matcher`` forwards it
on ``output`` and ``groups``, ``tpl_text_format`` and ``tpl_log`` on ``output``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from ._common import render_template, schema, settings, text_of

__all__ = ["COMPONENTS"]

_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "a": re.ASCII}


def _compile(config: Mapping[str, Any]) -> tuple[re.Pattern[str] | None, str | None, bool]:
    pattern = config.get("pattern")
    if pattern is None:
        pattern = ".*"
    flags = 0
    for letter in config.get("flags") or "":
        flag = _FLAGS.get(letter)
        if flag is None:
            return None, f"Invalid regex flag {letter!r}: use letters from 'imsxa'", False
        flags |= flag
    try:
        compiled = re.compile(str(pattern), flags)
    except re.error as exc:
        return None, f"Invalid regex pattern {pattern!r}: {exc}", False
    return compiled, None, bool(config.get("global"))


def _groups(match: re.Match[str]) -> Any:
    named = match.groupdict()
    return named if named else list(match.groups())


class RegexMatcher(Actor):
    """Matches a String against a Python regular expression."""

    component = "tpl_regex_matcher"
    inports = [PortSpec("input", None, "the String to match; a Flow passes through to output and groups")]
    outports = [
        PortSpec("matched", "Boolean", "whether the pattern was found (sent for every String)"),
        PortSpec("matches", "Array", "on a match: [whole match, group 1, ...]; global: [{index, match[, groups]}, ...]"),
        PortSpec("output", None, "on a match: the input String itself (use the matcher as a filter)"),
        PortSpec("groups", None, "on a match: the named groups as an Object, or the groups as an Array (global: one per match)"),
        PortSpec("error", "Error", "non-String input or an invalid pattern"),
    ]
    config_schema = schema(
        {
            "pattern": {
                "type": "string",
                "default": ".*",
                "description": "A Python regular expression (`re` syntax, searched anywhere in the String).",
            },
            "global": {"type": "boolean", "default": False, "description": "Find every match, not just the first."},
            "flags": {
                "type": "string",
                "pattern": "^[imsxa]*$",
                "default": "",
                "description": "Letters: i ignore case, m multiline, s dot matches newline, x verbose, a ASCII.",
            },
        }
    )
    description = (
        "Searches each String with the full Python `re` engine (the reference only matched literal "
        "substrings). `matched` always gets true or false; on a match `matches` gets [whole match, "
        "groups...] (global: [{index, match}] for every match, with `groups` when the pattern has "
        "any; index counts characters), `output` the input String and `groups` the named groups "
        "(Object) or groups (Array). Non-Strings go to `error` (`Expected String on input port`), as "
        "does every packet when the pattern does not compile."
    )
    example = {
        "config": {"pattern": r"(?P<level>[A-Z]+) (?P<service>\w+)"},
        "inputs": {"input": [{"type": "String", "data": "ERROR api timeout"}]},
        "outputs": {
            "matched": [{"type": "Boolean", "data": True}],
            "matches": [{"type": "Array", "data": ["ERROR api", "ERROR", "api"]}],
            "output": [{"type": "String", "data": "ERROR api timeout"}],
            "groups": [{"type": "Object", "data": {"level": "ERROR", "service": "api"}}],
        },
    }

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        kind = message["type"]
        if kind == "Flow":
            ctx.done({"output": message, "groups": message})
            return
        if kind != "String":
            ctx.done({"error": Message.error("Expected String on input port")})
            return
        pattern, problem, find_all = settings(ctx, _compile)
        if pattern is None:
            ctx.done({"error": Message.error(problem or "invalid pattern")})
            return
        text = message["data"]
        if find_all:
            found = []
            per_match = []
            has_groups = pattern.groups > 0
            for match in pattern.finditer(text):
                entry: dict[str, Any] = {"index": match.start(), "match": match.group(0)}
                if has_groups:
                    entry["groups"] = _groups(match)
                    per_match.append(entry["groups"])
                found.append(entry)
            if not found:
                ctx.done({"matched": Message.boolean(False)})
                return
            ctx.done(
                {
                    "matched": Message.boolean(True),
                    "matches": Message.array(found),
                    "output": message,
                    "groups": Message.array(per_match),
                }
            )
            return
        match = pattern.search(text)
        if match is None:
            ctx.done({"matched": Message.boolean(False)})
            return
        groups = _groups(match)
        ctx.done(
            {
                "matched": Message.boolean(True),
                "matches": Message.array([match.group(0), *match.groups()]),
                "output": message,
                "groups": Message.object(groups) if isinstance(groups, dict) else Message.array(groups),
            }
        )


_MISSING_MODES = ("keep", "empty", "error")


class TextFormat(Actor):
    """Renders a `${...}` template with the packet's data."""

    component = "tpl_text_format"
    inports = [PortSpec("input", None, "any packet; a Flow passes through")]
    outports = [
        PortSpec("output", None, "the rendered String"),
        PortSpec("error", "Error", "a placeholder naming an absent field, with missing: error"),
    ]
    config_schema = schema(
        {
            "template": {
                "type": "string",
                "default": "${value}",
                "description": "`${value}` is the whole data as text (Strings as they are, anything else compact "
                "JSON); `${name}`, `${a.b}`, `${items[0]}` are fields; `${price:.2f}` applies a Python format "
                "spec; `$$` is a dollar sign.",
            },
            "missing": {
                "type": "string",
                "enum": list(_MISSING_MODES),
                "default": "keep",
                "description": "A placeholder for an absent field: keep it as written, make it empty, or send "
                "the packet to `error`.",
            },
        }
    )
    description = (
        "Fills `template` from the packet's data and sends the String on `output`: `${value}` is the "
        "data, `${field}` / `${a.b[0]}` fields of an Object, with optional format specs (`${n:>5}`, "
        "`${x:.1f}`)."
    )
    example = {
        "config": {"template": "${name}: ${score:.1f} points"},
        "inputs": {"input": [{"type": "Object", "data": {"name": "ada", "score": 9.25}}]},
        "outputs": {"output": [{"type": "String", "data": "ada: 9.2 points"}]},
    }

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        if message["type"] == "Flow":
            ctx.done({"output": message})
            return
        config = ctx.config
        template = config.get("template")
        if template is None:
            template = "${value}"
        missing = config.get("missing") or "keep"
        try:
            text = render_template(template, message.get("data"), missing)
        except KeyError as exc:
            ctx.done({"error": Message.error(f"tpl_text_format: no field {exc.args[0]!r} in the input")})
            return
        ctx.done({"output": Message.string(text)})


class Log(Actor):
    """Prints each packet's data on stdout (the sink for `reflow run` output)."""

    component = "tpl_log"
    inports = [PortSpec("input", None, "any packet")]
    outports = [PortSpec("output", None, "the packet, unchanged (optional: connect it to keep the stream going)", optional=True)]
    config_schema = schema(
        {
            "format": {
                "type": "string",
                "default": "${value}",
                "description": "A tpl_text_format template for each line; `${value}` is the data (Strings as they "
                "are, Bytes decoded as UTF-8, anything else compact JSON).",
            },
            "prefix": {"type": "string", "default": "", "description": "Text put before every line."},
            "stream": {
                "type": "string",
                "enum": ["stdout", "stderr"],
                "default": "stdout",
                "description": "Where the lines go.",
            },
        }
    )
    description = (
        "Prints one line per packet: `prefix` + `format` filled with the data (Strings as they are, other "
        "kinds as compact JSON), flushed at once so output interleaves correctly. A Flow prints nothing. "
        "Every packet is also forwarded unchanged on `output`."
    )
    example = {
        "config": {"prefix": "> "},
        "inputs": {"input": [{"type": "String", "data": "hello"}, {"type": "Object", "data": {"n": 1}}]},
        "outputs": {"output": [{"type": "String", "data": "hello"}, {"type": "Object", "data": {"n": 1}}]},
        "prints": ["> hello", "> {\"n\":1}"],
    }

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        if message["type"] != "Flow":
            config = ctx.config
            template = config.get("format")
            data = message.get("data")
            if template is None or template == "${value}":
                text = text_of(data)
            else:
                text = render_template(template, data)
            stream = sys.stderr if config.get("stream") == "stderr" else sys.stdout
            stream.write(f"{config.get('prefix') or ''}{text}\n")
            stream.flush()
        ctx.done({"output": message})


COMPONENTS: dict[str, type[Actor]] = {
    "tpl_regex_matcher": RegexMatcher,
    "tpl_text_format": TextFormat,
    "tpl_log": Log,
}
