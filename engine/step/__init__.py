"""The engine's core step: a pure function of (record, facts, events, today, policy).

    step(record, invoice, customer, events, today, compiled) -> Outcome(record, actions)

No clock, no database, no network: the runner loads due invoices, calls
`step`, and writes each outcome in one transaction.  Everything hard —
catch-up, idempotency, the legal rules — is testable here with plain values.

How time is handled (catch-up)
------------------------------
A rule's *effective date* is the latest of the date its trigger names
(`7d after due`, `14d in erinnerung`), the day the invoice entered its current
state, the end of a pause (or of a dispute or hold), the end of the A9 grace for
payments in transit (three TARGET2 days after the due date) and, for a step that
posts a letter, the policy's gap after the last letter (D4, at least 7 days).
The step replays, in date order,
every event and every rule whose effective date is not after `today`.  Silent
transitions take effect on their own effective dates, and interest runs by
date, so interest comes out to the cent as if the engine had run every day.
A letter that is not sent never happened: a level that speaks to the customer
takes effect on the day its message goes out — the run's day when a run
catches up missed days — after every event up to that day; a run moves an
invoice at most one such level, and the next one is timed from it (its
`after 14d in …` and the letter gap D4).  A pre-due note whose date passed
during an outage is passed silently, never sent late.  An invoice
the engine sees for the first time starts on that day: rules whose dates have
already passed all become effective that day and the most advanced one wins,
so an invoice imported 20 days overdue gets the reminder due now, not a
"payment due soon" note after the fact.
"""

from mahnwerk.engine.step.facts import where
from mahnwerk.engine.step.run import facts_at, start, step

__all__ = ["facts_at", "start", "step", "where"]
