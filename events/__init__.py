"""The event-sourced model: aggregates, their events, and the eventsourcing application.

Nothing here knows about document kinds, validation or storage configuration; those live in
``archive``. This package may import only the eventsourcing library and the standard library.
"""
