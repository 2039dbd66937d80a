"""Jinja2 templates: pages for the browser and print layouts for PDF."""
