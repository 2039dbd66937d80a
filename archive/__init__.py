"""The application: configuration, the document-kind registry, the one write path, blobs, the CLI.

Entry points call :func:`archive.bootstrap.open_archive` and then the functions of
``archive.commands`` (to change anything) or ``archive.queries.documents`` (to read).
"""
