"""Document kinds as data: field types, identifier checks, the registry, validation."""

from archive.kinds.registry import KINDS, Field, Kind, UnknownKind, get_kind

__all__ = ["KINDS", "Field", "Kind", "UnknownKind", "get_kind"]
