"""Scans made readable: OCR and PDF/A conversion of uploaded scans (``ocr.py``), the record of
what was derived from each (``readings.py``), and the fingerprint of a derived page that lets a
bundle's checker prove the pages it shows are the ones derived from the original
(``fingerprint.py``).

The original upload stays the evidence (its SHA-256 is in ``ScanAttached``); the PDF/A made
from it is another content-addressed blob, named with its text and page fingerprints in a
``ScanRead`` event. OCRmyPDF, Ghostscript and Tesseract are imported or started only in the
functions that convert, never on the way to ``archive --help``.
"""
