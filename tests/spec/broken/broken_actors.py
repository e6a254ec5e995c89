"""Components used by the broken specs (imported through python:broken_actors:NAME)."""

from reflow_cli import Actor


class Source(Actor):
    """Emits on out when triggered."""

    inports = ["trigger"]
    outports = ["out", "error"]

    def run(self, ctx):
        ctx.done({"out": {"type": "Integer", "data": 1}})


class Step(Actor):
    """Scales what comes in."""

    inports = ["in"]
    outports = ["out", "error"]
    config_schema = {
        "type": "object",
        "properties": {"factor": {"type": "integer"}},
        "required": ["factor"],
        "additionalProperties": False,
    }

    def run(self, ctx):
        ctx.done({"out": ctx.inputs["in"]})


class Tune(Actor):
    """Passes what comes in; its config schema is open (other keys allowed, like most catalog components)."""

    inports = ["in"]
    outports = ["out"]
    config_schema = {
        "type": "object",
        "properties": {"factor": {"type": "integer", "default": 1}, "offset": {"type": "integer", "default": 0}},
    }

    def run(self, ctx):
        ctx.done({"out": ctx.inputs["in"]})


class Sink(Actor):
    """Swallows what comes in."""

    inports = ["in"]
    outports = []

    def run(self, ctx):
        ctx.done()
