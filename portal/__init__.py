"""The customer's side: a personal link on every letter and e-mail, and the page it opens.

* `links.py` — the links: HMAC-signed, expiring, scoped to one customer, revocable.
* `tables.py` — what the portal stores (links, one-use form tokens, uploads, visits).
* `view.py` — what the page shows, read from the engine's own books.
* `actions.py` — what the customer may do; each act becomes the engine's own event.
* `guard.py` — rate limits, form tokens, the security headers, upload checks.
* `web.py` — the FastAPI sub-app `mahnwerk serve` mounts at `/p`.
"""
