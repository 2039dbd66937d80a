"""The application: configuration and layout, the composition root, the document-kind
registry, staff, the one write path, reading, blobs, PDF bundles, integrity, the demo, the CLI.

Entry points call :func:`archive.bootstrap.open_archive` and then the functions of
``archive.commands`` (to change anything) or ``archive.queries`` (to read). The README's
"Where each behaviour lives" maps each room.
"""
