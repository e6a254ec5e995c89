"""Custom actors for the text_stats example: plain reflow SDK code, loaded by the spec."""

from __future__ import annotations

from collections import Counter

from reflow_cli import Actor, Message, PortSpec


class LineStats(Actor):
    """Words, letters and long words of each line; forwards the end-of-stream Flow."""

    component = "line_stats"
    inports = [PortSpec("line", "String", "one line of text; a Flow ends the stream")]
    outports = [PortSpec("stats", "Object", "{words, letters, long_words: [...]} per line")]
    config_schema = {
        "type": "object",
        "properties": {
            "long_word": {"type": "integer", "minimum": 1, "default": 8, "description": "Length from which a word is long."},
        },
    }
    description = "Statistics of one line of text."
    example = {"config": {"long_word": 5}, "in": "Tyger Tyger", "out": {"words": 2, "letters": 10, "long_words": ["Tyger", "Tyger"]}}

    def run(self, ctx):
        packet = ctx.inputs["line"]
        if packet["type"] == "Flow":
            ctx.done({"stats": packet})
            return
        words = [word.strip(".,;:!?'\"()-") for word in packet["data"].split()]
        words = [word for word in words if word]
        ctx.done(
            {
                "stats": Message.object(
                    {
                        "words": len(words),
                        "letters": sum(len(word) for word in words),
                        "long_words": [w for w in words if len(w) >= ctx.config["long_word"]],
                    }
                )
            }
        )


class Summarise(Actor):
    """Turns all the per-line statistics into one summary line."""

    component = "summarise"
    inports = [PortSpec("stats", "Array", "every line's statistics")]
    outports = [PortSpec("summary", "String", "one human-readable line")]

    def run(self, ctx):
        lines = ctx.inputs["stats"]["data"]
        words = sum(line["words"] for line in lines)
        letters = sum(line["letters"] for line in lines)
        longest = Counter(word.lower() for line in lines for word in line["long_words"]).most_common(3)
        common = ", ".join(f"{word} ({count})" for word, count in longest)
        ctx.done(
            {
                "summary": Message.string(
                    f"{len(lines)} lines, {words} words, {letters / max(words, 1):.2f} letters per word; "
                    f"long words: {common}"
                )
            }
        )
