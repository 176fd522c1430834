"""Bookings out: what mahnwerk charged and wrote off, as a DATEV booking batch.

`accounts` holds the chart-of-accounts defaults (SKR03, SKR04) and the `[datev]`
settings; `datev` writes the EXTF file (a pure function of header and bookings);
`export` chooses the ledger lines not yet exported and records the batch.
"""
