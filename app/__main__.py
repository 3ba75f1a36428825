"""``python -m app``: the same as the ``linear-classify-demo`` command."""

from app.cli import main

main()
