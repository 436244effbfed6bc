"""``python -m ttwood``: the same as the ``ttwood`` command."""

from ttwood.cli import main

main()
