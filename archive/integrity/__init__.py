"""Tamper evidence for the archive: a Merkle ledger of every stored event, signed checkpoints
of it, and a verification that names what was changed.

- ``projections.ledger``: the ledger projection (one RFC 6962 leaf per stored event);
- :mod:`archive.integrity.keys`: the Ed25519 key under ``$ARCHIVE_HOME/keys/``;
- :mod:`archive.integrity.notes`: checkpoints in the C2SP signed-note format;
- :mod:`archive.integrity.checkpoints`: making, keeping and listing checkpoints;
- :mod:`archive.integrity.verify`: recomputing from the store and comparing;
- :mod:`archive.integrity.proofs`: inclusion proofs of a bundle's events, for its manifest;
- :mod:`archive.integrity.witness`: checkpoints exported and checked again from outside;
- :mod:`archive.integrity.cosignature`: a witness's cosignatures (C2SP cosignature/v1);
- :mod:`archive.bundle.check`: checking a bundle PDF with nothing but the PDF.

Wiring: ``archive init`` calls :func:`ensure_key`; sealing a month calls
:func:`make_checkpoint`; ``archive.bundle.manifest`` calls ``prove_events``;
``archive.cli.integrity`` adds ``checkpoint``, ``checkpoints``, ``verify`` and ``verify-bundle``
to the command line, and ``web.pages.verify`` the 核验 page.
"""

from archive.integrity.checkpoints import (
    CheckpointRefused,
    StoredCheckpoint,
    list_checkpoints,
    make_checkpoint,
)
from archive.integrity.findings import Finding
from archive.integrity.keys import KeyProblem, ensure_key, load_verifier, log_name
from archive.integrity.verify import VerifyReport, verify

__all__ = [
    "CheckpointRefused",
    "Finding",
    "KeyProblem",
    "StoredCheckpoint",
    "VerifyReport",
    "ensure_key",
    "list_checkpoints",
    "load_verifier",
    "log_name",
    "make_checkpoint",
    "verify",
]
