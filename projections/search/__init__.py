"""Search: the query language, the index entries, and the engine behind one small seam.

Callers parse a query string into a tree (``query.parse``) and hand the tree to a
``SearchBackend``; the Whoosh backend is the one built now, and another engine (Tantivy,
PostgreSQL full text) can be added behind the same interface without touching any caller.
"""
