"""``python -m archive.cli``: the ``archive`` command without its console script."""

from archive.cli import main

main()
