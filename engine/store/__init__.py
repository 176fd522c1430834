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
* `experiments` — the experiments as the TUI lists them;
* `analysis`  — what `analyse` reads and writes: the behaviour table, risk scores;
* `saved_filters` — the operators' saved queue filters;
* `simulation` — what `simulate` reads of the book (all invoices, or the open ones);
* `imports`   — what the CSV importers read (stored rows, numbers) and their bulk writes;
* `deploys`   — what a deploy's review reads: the active version, the open book;
* `api`      — the HTTP API's pages (customers, payments, messages, runs), policy versions,
  webhook subscriptions, and the figures of `/health` and `/metrics`;
* `portal`   — what the customer portal's page reads, filtered by the linked customer;
* `reports`  — what the reports read (begun with the Skonto report's);
* `messages` — what dispatch reads to plan and word its messages: the due outbox rows,
  the inbox events that stop one, parked residuals, the latest run's window, and the
  customers and invoices (dunning state, ledger lines) a template may speak of;
* `deliveries` — what dispatch writes around a transport: claiming rows, deliveries and
  their items, sent / released / retried / failed, cancellations, the crashed
  dispatcher's reconcile, audit events, `delivery_failed` inbox entries, bounces seen
  (the transactions themselves are opened by `engine/comms/ledger.py` and `bounces.py`);
* `contacts` — the recent and queued contacts the guards D1–D3 count (`ContactBook`).

The names of `records` are re-exported here: they are what most of the engine imports.
"""

from mahnwerk.engine.store.records import (
    _RECORD_COLUMNS,
    BEHAVIOUR_FACTS,
    STEP_INVOICE_COLUMNS,
    StepRows,
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
    "customer_select",
    "customer_value",
    "customer_values",
    "invoice_value",
    "log_book_event",
    "record_row",
    "record_select",
    "record_value",
]
