"""The store layer (issue 21): the one place that builds SQL against mahnwerk's tables.

Everything that reads or writes a table through a query lives in this package, in modules
named for what they hold; the rest of mahnwerk (the CLI, the TUI, the HTTP API, the
portal, the reports) calls their functions and never builds a statement itself.
`tests/test_store_layer.py` fails when a module outside it does, except for the short,
explained allow-list there of what has not moved yet.

* `records`  — the values the step works on: the run's record and customer selects, the
  row ↔ value mappings (`Record`'s columns derived from its fields), the book-event writer;
* `invoices` — one invoice and lists of them as people see them (`show`, `invoices`), and
  the events people record for the next run (`record_event`, `record_customer_event`);
* `screens`  — the TUI's read models: the queue by keyset pages, its filters, the
  dashboard, an invoice's header and waiting inbox, what a run changed;
* `customers` — the views around one customer or invoice (`engine/customer_view`): the
  search, the customer's invoices, notes and messages, the waiting inbox, policy texts;
* `experiments` — the experiments as the TUI lists them and an experiment's report reads
  them, and the engine's own: running experiments, assignments, enrolment, the end;
* `analysis`  — what `analyse` reads and writes: the behaviour table, risk scores;
* `saved_filters` — the operators' saved queue filters;
* `simulation` — what `simulate` reads of the book (all invoices, or the open ones);
* `imports`   — what the CSV importers read (stored rows, numbers) and their bulk writes;
* `deploys`   — what a deploy's review reads: the active version, the open book;
* `api`      — the HTTP API's pages (customers, payments, messages, runs), policy versions,
  webhook subscriptions, and the figures of `/health` and `/metrics`;
* `portal`   — what the customer portal's page reads, filtered by the linked customer;
* `reports`  — what the reports read: Skonto, the forecast, feedback, and the receivables
  reports (aging, DSO, CEI, stages, channels);
* `privacy`  — GDPR access and erasure: a customer's row (locked for erasure), the scope
  of their rows in every table, the open claims that refuse erasure, the booking days,
  the export's reads and erasure's writes (fields, free text, dropped rows, cancellations);
* `operator_events` — operators' acts: inbox rows, log entries, `work_done`, the
  write-off requests waiting for a second person;
* `worklist` — Today's list: each kind's first items by its index, the counts of all that
  waits, the fingerprint the TUI polls;
* `policies` — the deployed policy versions and the hand-over of a version's invoices;
* `approvals` — the four-eyes approvals and their decisions (the row locked while deciding);
* `audit`    — the audit log's hash chain: the seal lock, the head, the entries after it,
  the seals with their entries, the seals' insert;
* `bank`     — the bank statements: entries imported, the book the matcher reads, the
  payments and events a match books, learnt accounts, the queue waiting for a person;
* `accounting` — the books' exports: the ledger lines of a DATEV batch and the batches,
  a handed-over claim's case file, the customer types an OPOS list meets;
* `einvoices` — what an e-invoice import matches against and writes (customers,
  invoices, the documents imported, credit notes as payments);
* `inbox`    — what is put in for the next run: inbox events and payments, and what an
  event import reads (the import ids stored, the invoices a file names);
* `demo`     — the demo's generated customers and invoices, and its summary's figures;
* `timeline` — one invoice's timeline rows (`show`), through the DBAPI, no SQLAlchemy;
* `quick`    — what the command line reads of an SQLite file first (its revision, the
  login's role), through `sqlite3` alone;
* `portal_links`, `portal_requests`, `portal_actions` — the portal's own tables (links
  and key; rate-limit hits, form tokens, visits, uploads) and what its actions write;
* `people`, `idempotency`, `webhooks`, `schedule` — the service's own tables (people
  and API tokens, idempotency records, webhook subscriptions and deliveries, the jobs);
* `messages` — what dispatch reads to plan and word its messages: the due outbox rows,
  the inbox events that stop one, parked residuals, the latest run's window, and the
  customers and invoices (dunning state, ledger lines) a template may speak of;
* `deliveries` — what dispatch writes around a transport: claiming rows, deliveries and
  their items, sent / released / retried / failed, cancellations, the crashed
  dispatcher's reconcile, audit events, `delivery_failed` inbox entries, bounces seen
  (the transactions themselves are opened by `engine/comms/ledger.py` and `bounces.py`);
* `contacts` — the recent and queued contacts the guards D1–D3 count (`ContactBook`).
* `run`      — what the daily run reads and marks batch by batch: its own row, the due
  invoices claimed or locked, the new ones taken up, a batch's states, customers, payments
  and inbox events, and the marks that they were applied;
* `action_writers` — the daily run's writers, one per action type (transitions, charges,
  messages, approvals, tasks, notes), and which of a step's messages are kept;
* `bulk`     — the run's bulk writer through the DBAPI (SQLite `executemany`, PostgreSQL
  `COPY` and one `UPDATE … FROM` a temporary table), values converted column by column;
* `book_summary` — the summary the run keeps of the book (the dashboard's figures);
* `lease`    — who writes the book now: one run or import at a time, its heartbeat;
* `db`       — the connection itself: making the engine (SQLite's pragmas, PostgreSQL's
  pool), the schema's Alembic revision and `init_db`, sessions.

The names of `records` are re-exported here: they are what most of the engine imports.
They are loaded on first use (PEP 562), not when the package is: `records` imports the
ORM's table metadata, and the command line's fast path (`store.quick`, `store.timeline`,
read through the bare DBAPI) must start without it (issue 21: `show` under 0.3 s).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mahnwerk.engine.store.records import (
        _RECORD_COLUMNS,
        BEHAVIOUR_FACTS,
        STEP_INVOICE_COLUMNS,
        StepRows,
        changed_row,
        customer_select,
        customer_value,
        customer_values,
        invoice_value,
        log_book_event,
        record_row,
        record_select,
        record_value,
    )

__all__ = [
    "_RECORD_COLUMNS",
    "BEHAVIOUR_FACTS",
    "STEP_INVOICE_COLUMNS",
    "StepRows",
    "changed_row",
    "customer_select",
    "customer_value",
    "customer_values",
    "invoice_value",
    "log_book_event",
    "record_row",
    "record_select",
    "record_value",
]


def __getattr__(name: str) -> Any:
    """A re-exported name of `records`, imported when first asked for.  Anything else is
    an AttributeError, so `from mahnwerk.engine.store import people` imports the module."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("mahnwerk.engine.store.records"), name)
    globals()[name] = value
    return value
