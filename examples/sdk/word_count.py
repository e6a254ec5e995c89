"""Count words in a text file with three Python actors (the SDK, no CLI).

    python examples/sdk/word_count.py [FILE]

read_lines streams the file's lines (ctx.send: one packet per line, with
backpressure) followed by a Flow that marks the end; count_words tallies the
words of each line and emits its totals when the Flow arrives (FIFO along an
edge guarantees it comes after the last line); report prints the ten most
common words.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from reflow_cli import Actor, Message, Network

WORD = re.compile(r"[a-z']+")


class ReadLines(Actor):
    """Sends every line of the file named in the config, then a Flow marking the end."""

    component = "read_lines"
    inports = ["start"]
    outports = ["line"]

    def run(self, ctx):
        with open(ctx.config["path"], encoding="utf-8") as handle:
            for line in handle:
                ctx.send({"line": Message.string(line)})
        ctx.done({"line": Message.flow()})


class CountWords(Actor):
    """Keeps running word counts (per node, in ctx.state); emits them at the end-of-file Flow."""

    component = "count_words"
    inports = ["line"]
    outports = ["counts"]

    def run(self, ctx):
        counts = ctx.state.setdefault("counts", Counter())
        packet = ctx.inputs["line"]
        if packet["type"] == "Flow":
            ctx.done({"counts": Message.object(dict(counts))})
        else:
            counts.update(WORD.findall(packet["data"].lower()))
            ctx.done()


class Report(Actor):
    """Prints the ten most common words."""

    component = "report"
    inports = ["counts"]
    outports = []

    def run(self, ctx):
        counts = Counter(ctx.inputs["counts"]["data"])
        for word, count in counts.most_common(10):
            print(f"{count:6d}  {word}")
        ctx.done()


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("sample.txt")
    net = Network(on_error="fail")
    net.register_actor("read_lines", ReadLines)
    net.register_actor("count_words", CountWords)
    net.register_actor("report", Report)
    net.add_node("read", "read_lines", {"path": str(path)})
    net.add_node("count", "count_words")
    net.add_node("report", "report")
    net.add_connection("read", "line", "count", "line")
    net.add_connection("count", "counts", "report", "counts")
    net.add_initial("read", "start", Message.flow())
    status = net.run(timeout=60)
    if not status:
        print(f"pipeline did not complete: {status.describe()}", file=sys.stderr)
        return 1
    stats = net.stats()
    print(f"{stats.nodes['count'].ticks - 1} lines in {stats.elapsed_s:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
