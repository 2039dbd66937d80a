"""The print templates (``templates/print/``), read as package resources.

Read through ``importlib.resources`` rather than from a path next to the source, so they are
found in a non-editable install too. Their fingerprint goes into every cache key: editing a
template makes the cached renderings stale.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

import jinja2
import weasyprint

PRINT_FOLDER = "print"


class ResourceLoader(jinja2.BaseLoader):
    """Loads ``print/...`` names from the ``templates`` package."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, None]:
        resource = files("templates").joinpath(*template.split("/"))
        if not resource.is_file():
            raise jinja2.TemplateNotFound(template)
        # No file name or up-to-date check: resources may live inside a zip.
        return resource.read_text(encoding="utf-8"), None, None


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=ResourceLoader(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )


@cache
def fingerprint() -> str:
    """SHA-256 over the print templates and the WeasyPrint version."""
    digest = hashlib.sha256(f"weasyprint {weasyprint.__version__}\n".encode())
    for resource in _print_files(files("templates").joinpath(PRINT_FOLDER)):
        digest.update(resource.name.encode() + b"\0" + resource.read_bytes() + b"\0")
    return digest.hexdigest()


def _print_files(folder: Traversable) -> list[Traversable]:
    found: list[Traversable] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            found.extend(_print_files(entry))
        elif entry.is_file():
            found.append(entry)
    return found
