"""Migration 0019 on a database with history: what payments put on costs and interest.

An invoice paid up to the interest of its last week, dunned before this revision: the
upgrade must find from its ledger that the customer paid the invoice's amount, so the
next run treats the 0.60 EUR left as residual cents (issue 11) and not as unpaid price.
"""

from __future__ import annotations

from decimal import Decimal

from alembic import command
from sqlalchemy import select, text

from mahnwerk.engine import models as m
from mahnwerk.engine.store.db import alembic_config, init_db, make_engine

LEDGER = [  # (invoice, kind, amount)
    (1, "principal", "500.00"),
    (1, "fee", "1.00"),
    (1, "interest", "1.72"),
    (1, "interest", "0.60"),
    (1, "payment", "-502.72"),
    (2, "principal", "80.00"),
    (2, "fee", "1.00"),
    (2, "payment", "-81.00"),
]


def test_0019_fills_what_payments_put_on_costs_and_interest(db_url: str) -> None:
    command.upgrade(alembic_config(db_url), "0018")
    engine = make_engine(db_url)
    with engine.begin() as conn:  # plain SQL: the models already know later columns
        conn.execute(
            text("INSERT INTO customer (id, external_id, name, type) VALUES (1, 'K1', 'E', 'B2C')")
        )
        for n, state, principal in ((1, "mahnung_1", "0.60"), (2, "paid", "0.00")):
            conn.execute(
                text(
                    "INSERT INTO invoice (id, external_id, customer_id, issue_date, due_date, "
                    "amount, currency) VALUES (:n, :e, 1, '2026-01-05', '2026-01-19', 1, 'EUR')"
                ),
                {"n": n, "e": f"R{n}"},
            )
            conn.execute(
                text(
                    "INSERT INTO dunning_state (invoice_id, segment, ladder, state, entered_on, "
                    "principal_open) VALUES (:n, 'default', 'standard', :s, '2026-02-09', :p)"
                ),
                {"n": n, "s": state, "p": principal},
            )
        for invoice, kind, amount in LEDGER:
            conn.execute(
                text(
                    "INSERT INTO ledger (invoice_id, kind, amount, booked_on) "
                    "VALUES (:i, :k, :a, '2026-02-16')"
                ),
                {"i": invoice, "k": kind, "a": amount},
            )
    engine.dispose()
    init_db(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        paid = dict(conn.execute(select(m.DS.c.invoice_id, m.DS.c.add_ons_paid)).all())
    engine.dispose()
    assert {k: Decimal(v) for k, v in paid.items()} == {1: Decimal("3.32"), 2: Decimal("0.00")}
