"""``python -m reflow_cli`` is the ``reflow`` command."""

from .cli import main

main()
