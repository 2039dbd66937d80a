"""Month volumes as PDF/A-3b bundles, and single documents as PDFs.

``pipeline`` (``bundle_volume``, ``print_document``) drives the rest: ``bindings`` (which
documents, the fee summary), ``layout`` (a document as print data), ``render`` + ``parallel``
+ ``cache`` (WeasyPrint on every core, renderings kept by content), ``pages`` (which pages
each document takes), ``front_matter`` (cover, contents, bookmarks), ``manifest``
(manifest.json, with the proofs of ``archive.integrity.proofs``), ``merge`` + ``page_numbers``
(one file, numbered). ``printed`` reads page numbers, form heads and fees back from a finished
file, for ``archive verify-bundle``. Templates are in ``templates/print/``.
"""
