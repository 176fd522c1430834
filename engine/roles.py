"""Who may do what: the one table of roles for every command, endpoint and screen action.

Roles are ordered — viewer < operator < approver < manager < admin — and each may do
everything the roles before it may:

* viewer   — read: lists, timelines, reports, previews;
* operator — the day's work: events, notes, promises, imports, bank matching, runs,
  dispatch;
* approver — four-eyes decisions (approvals, large write-offs);
* manager  — what changes how dunning works: policy deploy, templates, exports to
  bookkeeping and agencies;
* admin    — who may act (people, tokens), webhooks, the service itself, erasure.

`ANYONE` marks what touches no store (reading a policy file, printing an example) and
the two operations endpoints; everything else names its role here and nowhere else.
The command line (`mahnwerk.authority`), the HTTP API (`mahnwerk.service.deps`) and the
TUI (`MahnwerkApp.run_action`) look their role up in these tables before they act,
and a test walks every command, route and screen action, so one added without a role
here fails (tests/engine/test_roles_table.py).
"""

from __future__ import annotations

from typing import Final

ROLES: Final = ("viewer", "operator", "approver", "manager", "admin")
"""Ordered: each role may do everything the roles before it may."""
ANYONE: Final = "anyone"
"""No proof needed: the command reads no store, or the endpoint is for monitoring."""


def may(have: str, need: str) -> bool:
    """Whether the role `have` covers `need` (`ANYONE` is covered by every role)."""
    return need == ANYONE or ROLES.index(have) >= ROLES.index(need)


COMMANDS: Final[dict[str, str]] = {
    # files only, no store
    "policy check": ANYONE,
    "policy graph": ANYONE,
    "policy convert": ANYONE,
    "policy facts": ANYONE,
    "policy explain": ANYONE,
    "letters check": ANYONE,
    "letters templates": ANYONE,
    "letters config-example": ANYONE,
    "demo": ANYONE,  # writes a new demo file of its own
    "init": ANYONE,  # creating the store: whoever may write the file / has DDL rights
    # reading
    "show": "viewer",
    "invoices": "viewer",
    "report": "viewer",
    "forecast": "viewer",
    "simulate": "viewer",
    "tui": "viewer",  # each screen action has its own role (SCREEN_ACTIONS)
    "approvals list": "viewer",
    "letters preview": "viewer",
    "bank unmatched": "viewer",
    "bank show": "viewer",
    "audit verify": "viewer",
    "experiment report": "viewer",
    # the day's work
    "run": "operator",
    "dispatch": "operator",
    "analyse": "operator",
    "event dispute": "operator",
    "event dispute-resolved": "operator",
    "event promise-broken": "operator",
    "event instalment-missed": "operator",
    "event insolvency": "operator",
    "event write-off": "operator",
    "event hold": "operator",
    "event release": "operator",
    "event death": "operator",
    "event delivery-failed": "operator",
    "event court-served": "operator",
    "event objection": "operator",
    "event enforcement": "operator",
    "event conversation": "operator",
    "event callback": "operator",
    "event customer": "operator",
    "event promise": "operator",
    "event plan": "operator",
    "event payment": "operator",
    "import customers": "operator",
    "import invoices": "operator",
    "import payments": "operator",
    "import events": "operator",
    "import bank": "operator",
    "import einvoice": "operator",
    "import opos": "operator",
    "bank assign": "operator",
    "bank dismiss": "operator",
    "bank account": "operator",
    "bank rematch": "operator",
    "customer export": "operator",
    "portal link": "operator",  # a customer's personal link to the portal
    "portal revoke": "operator",  # answering a data subject's request (Art. 15 GDPR)
    # four eyes
    "approvals approve": "approver",
    "approvals reject": "approver",
    # how dunning works
    "policy deploy": "manager",
    "export datev": "manager",
    "export handover": "manager",
    "experiment start": "manager",
    "experiment promote": "manager",
    "experiment stop": "manager",
    # who may act, the service, what cannot be undone
    "customer erase": "admin",
    "audit seal": "admin",
    "serve": "admin",
    "scheduler": "admin",
    "users add": "admin",
    "users role": "admin",
    "users list": "admin",
    "token create": "admin",
    "token revoke": "admin",
    "token list": "admin",
    "webhooks add": "admin",
    "webhooks deliveries": "admin",
    "webhooks replay": "admin",
}
"""Each `mahnwerk` command (its words) → the role it needs."""

ENDPOINTS: Final[dict[str, str]] = {
    "GET /customers": "viewer",
    "GET /customers/{customer_id}": "viewer",
    "POST /customers": "operator",
    "PUT /customers/{customer_id}": "operator",
    "GET /invoices": "viewer",
    "GET /invoices/{invoice_id}": "viewer",
    "GET /invoices/{invoice_id}/timeline": "viewer",
    "POST /invoices": "operator",
    "PUT /invoices/{invoice_id}": "operator",
    "GET /payments": "viewer",
    "POST /payments": "operator",
    "POST /invoices/{invoice_id}/events": "operator",
    "POST /customers/{customer_id}/events": "operator",
    "GET /approvals": "viewer",
    "POST /approvals/{approval_id}/decision": "approver",
    "GET /messages": "viewer",
    "GET /messages/{message_id}": "viewer",
    "GET /policies": "viewer",
    "POST /policies": "manager",
    "POST /runs": "operator",
    "GET /runs": "viewer",
    "GET /runs/{run_id}": "viewer",
    "GET /reports/{name}": "viewer",
    "POST /tokens": "admin",
    "GET /tokens": "admin",
    "DELETE /tokens/{token_id}": "admin",
    "POST /webhooks": "admin",
    "GET /webhooks": "admin",
    "DELETE /webhooks/{subscription_id}": "admin",
    "GET /webhooks/deliveries": "admin",
    "POST /webhooks/deliveries/{delivery_id}/replay": "admin",
    "GET /health": ANYONE,
    "GET /metrics": ANYONE,
}
"""Each HTTP operation (method and route) → the role its token needs."""

_LOOK = ("open", "customer", "reload", "mark", "mark_all", "mark_open")
SCREEN_ACTIONS: Final[dict[str, str]] = {
    **{
        f"{screen}.{action}": "viewer"
        for screen in (
            "TodayScreen",
            "ApprovalsScreen",
            "DashboardScreen",
            "QueueScreen",
            "InvoiceScreen",
            "CustomerScreen",
            "BankScreen",
        )
        for action in _LOOK
    },  # fmt: skip
    "PolicyScreen.format": "viewer",
    "PolicyScreen.events": "viewer",
    "PolicyScreen.reload": "viewer",
    "RunScreen.leave_field": "viewer",
    "RunScreen.reload": "viewer",
    "QueueScreen.clear_filters": "viewer",
    "QueueScreen.filters": "viewer",
    "QueueScreen.first_page": "viewer",
    "QueueScreen.next_page": "viewer",
    "QueueScreen.previous_page": "viewer",
    "QueueScreen.reverse": "viewer",
    "QueueScreen.show_all": "viewer",
    "QueueScreen.sort": "viewer",
    "QueueScreen.to_table": "viewer",
    "QueueScreen.export": "viewer",
    "QueueScreen.save_filter": "viewer",  # a person's own saved filter
    "QueueScreen.load_filter": "viewer",
    "InvoiceScreen.policy_line": "viewer",
    "ExperimentScreen.reload": "viewer",  # `experiment report`, read in the terminal
    "ExperimentScreen.open": "viewer",
    "TodayScreen.done": "operator",
    "TodayScreen.call": "operator",  # Enter on a call: its outcome is recorded
    "TodayScreen.decide_write_off": "approver",  # Enter on a write-off request (four eyes)
    "InvoiceScreen.act": "operator",
    "InvoiceScreen.undo": "operator",
    "InvoiceScreen.write_off": "operator",  # a large one waits for an approver (four eyes)
    "CustomerScreen.act": "operator",
    "CustomerScreen.undo": "operator",
    "BankScreen.assign": "operator",
    "BankScreen.dismiss_entry": "operator",
    "RunScreen.run": "operator",
    "ApprovalsScreen.decide": "approver",
    "PolicyScreen.deploy": "manager",  # as `policy deploy`: how dunning works
}
"""Each TUI screen action (`Screen class.action`) → the role it needs."""


def role_of(table: dict[str, str], key: str, where: str) -> str:
    """The role of `key`; a `LookupError` for something nobody gave a role (deny by default)."""
    try:
        return table[key]
    except KeyError:
        raise LookupError(
            f"{where} {key!r} has no role in mahnwerk.engine.roles; add it there"
        ) from None


__all__ = [
    "ANYONE",
    "COMMANDS",
    "ENDPOINTS",
    "ROLES",
    "SCREEN_ACTIONS",
    "may",
    "role_of",
]
