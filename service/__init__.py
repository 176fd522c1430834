"""mahnwerk as a service: the HTTP API, identities and roles, webhooks and the scheduler.

Importing this package is cheap (no web framework): `tables` is imported by
`mahnwerk.engine.models` so the schema has one metadata; the FastAPI app lives
in `app.py` and is only loaded by `mahnwerk serve` and the tests.
"""
