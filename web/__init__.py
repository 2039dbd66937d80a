"""The FastAPI app: pages and the JSON API."""
