"""Segments follow the customer: the pure step moves an invoice when its segment changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from mahnwerk.dsl.compile import compile_source
from mahnwerk.engine.state import Charge, Customer, Invoice, Message, Note, Transition
from mahnwerk.engine.step import step

POLICY = """policy "moves" version 1 {
  currency EUR
  timezone "Europe/Berlin"
  calendar DE region BE
  language de
  MOVE
  segment risky   when customer.risk_score > 80 use telefon
  segment default                               use standard

  ladder standard {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; fee 1.00 EUR }
    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; fee 1.00 EUR }
    state ende after 14d in mahnung_2 { notify "team"; wait }
  }
  ladder telefon {
    state erinnerung at 3d after due { letter "zahlungserinnerung" }
    state anruf after 5d in erinnerung { call "anruf_risiko" }
    state mahnung_1 after 7d in anruf { letter "mahnung_1"; fee 1.00 EUR }
    state ende after 14d in mahnung_1 { notify "team"; wait }
  }
  on dispute_opened pause
  on insolvency stop -> insolvent
}
"""
DUE = date(2026, 3, 2)
INV = Invoice("R1", "K1", DUE - timedelta(days=14), DUE, Decimal("300.00"))
CALM = Customer("K1", region="BE", risk_score=Decimal(20))
RISKY = replace(CALM, risk_score=Decimal(90))


def policy(move: str = ""):
    return compile_source(POLICY.replace("MOVE", move), "moves.mahn")


def walk(compiled, days, cust_of=lambda day: CALM, record=None):
    actions = []
    for day in days:
        out = step(record, INV, cust_of(day), [], day, compiled)
        record = out.record
        actions.extend(out.actions)
    return record, actions


def daily(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_a_customer_who_becomes_risky_moves_to_the_new_ladder_at_the_next_step():
    cp = policy()
    became_risky = DUE + timedelta(days=12)
    record, actions = walk(
        cp, daily(DUE - timedelta(days=10), DUE + timedelta(days=20)),
        lambda day: RISKY if day >= became_risky else CALM,
    )
    moves = [a for a in actions if isinstance(a, Transition) and "segment change" in a.reason]
    assert len(moves) == 1
    move = moves[0]
    assert (move.source, move.target, move.on) == ("erinnerung", "erinnerung", became_risky)
    # both segment lines cited: the old one (default, line 8) and the new one (risky, line 7)
    assert "'default' (moves.mahn:8) -> 'risky' (moves.mahn:7)" in move.reason
    assert move.rule == "moves.mahn:7"
    assert "customer.risk_score > 80" in move.reason
    # five days in the new ladder's `erinnerung` later the call is queued
    calls = [a for a in actions if isinstance(a, Message) and a.channel == "call"]
    assert [(c.template, c.on) for c in calls] == [("anruf_risiko", became_risky + timedelta(5))]
    assert record.segment == "risky" and record.state == "anruf"


def test_the_move_sends_nothing_and_charges_nothing():
    cp = policy()
    record, _ = walk(cp, daily(DUE - timedelta(days=10), DUE + timedelta(days=11)))
    out = step(record, INV, RISKY, [], DUE + timedelta(days=12), cp)
    assert [type(a) for a in out.actions] == [Transition]
    assert out.record.fees_open == record.fees_open


def test_same_state_keeps_an_invoice_whose_state_the_new_ladder_lacks():
    cp = policy()
    record, _ = walk(cp, daily(DUE - timedelta(days=10), DUE + timedelta(days=40)))
    assert record.state == "mahnung_2"
    out = step(record, INV, RISKY, [], DUE + timedelta(days=41), cp)
    assert out.record.segment == "default" and out.record.state == "mahnung_2"
    notes = [a.text for a in out.actions if isinstance(a, Note)]
    assert any("has no state 'mahnung_2'" in n and "same state" in n for n in notes)


def test_same_rank_lands_on_the_state_of_equal_position_and_charges_no_fee_twice():
    cp = policy("on segment change move to same rank")
    record, actions = walk(cp, daily(DUE - timedelta(days=10), DUE + timedelta(days=25)))
    assert record.state == "mahnung_1" and record.fees_charged == 1
    last = DUE + timedelta(days=60)
    record, after = walk(cp, daily(DUE + timedelta(days=26), last), lambda d: RISKY, record)
    move = next(a for a in after if isinstance(a, Transition))
    assert (move.source, move.target) == ("mahnung_1", "anruf")  # rank 2 in both ladders
    # the new ladder's mahnung_1 is fee level 1, already charged: neither letter nor fee again
    assert not [a for a in after if isinstance(a, Charge) and a.kind == "fee"]
    assert not [a for a in after if isinstance(a, Message) and a.template == "mahnung_1"]
    assert any(isinstance(a, Note) and "not sent again" in a.text for a in after)
    assert record.state == "ende"


def test_start_walks_the_new_ladder_without_repeating_a_letter():
    cp = policy("on segment change move to start")
    record, _ = walk(cp, daily(DUE - timedelta(days=10), DUE + timedelta(days=10)))
    assert "zahlungserinnerung" in record.sent_templates
    record, after = walk(
        cp, daily(DUE + timedelta(days=11), DUE + timedelta(days=20)), lambda d: RISKY, record
    )
    move = next(a for a in after if isinstance(a, Transition))
    assert (move.source, move.target) == ("erinnerung", "open")
    sent = [a.template for a in after if isinstance(a, Message)]
    assert "zahlungserinnerung" not in sent and "anruf_risiko" in sent


def test_a_pending_approval_is_decided_before_the_invoice_moves():
    cp = policy()
    record, _ = walk(cp, daily(DUE - timedelta(days=10), DUE + timedelta(days=10)))
    waiting = record.evolve(pending_approval="mahnung_1")
    out = step(waiting, INV, RISKY, [], DUE + timedelta(days=11), cp)
    assert out.record.segment == "default"
