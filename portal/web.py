"""The portal's HTTP face: a FastAPI sub-app that `mahnwerk serve` mounts at `/p`.

Server-rendered HTML (Jinja2 in a sandbox, autoescaped, strict about missing variables),
no scripts, one stylesheet of our own: a page works with any browser, a screen reader and
the keyboard alone, and a phone.  Each request: the rate limit (per client address and
per link), then the link (`links.verify`), then the page from the books (`view.load_page`),
read fresh every time — what an operator or a run changed shows at once.  POSTs go
through `actions`, which spend the form's one-use token in the same transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from sqlalchemy import Engine

from mahnwerk.dsl.statute import BERLIN
from mahnwerk.engine.comms import formatting
from mahnwerk.engine.comms.config import Settings
from mahnwerk.portal import actions, links
from mahnwerk.portal.guard import HEADERS, Limiter, Refused, check_upload, issue_form, prune
from mahnwerk.portal.mailer import confirm
from mahnwerk.portal.pay import transfers
from mahnwerk.portal.view import Page, letter_file, load_page
from mahnwerk.portal.words import next_words, words

log = logging.getLogger("mahnwerk.portal")
HERE = Path(__file__).parent
ACTIONS = ("dispute", "promise", "plan", "feedback", "contact")


def _env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


class Portal:
    def __init__(self, engine: Engine, clock: Callable[[], datetime], settings: Settings,
                 rate_clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.engine, self.clock, self.settings = engine, clock, settings
        self.config = settings.portal
        # wall-clock seconds, shared by every process on the database (a `serve --now`
        # clock stands still, and a minute that never ends would never forgive)
        self.limiter = Limiter(engine, self.config.requests_per_minute, rate_clock)
        self.env = _env()
        self.pruned: datetime | None = None  # no database work here: the openapi build
        # makes this app on an empty in-memory database

    def prune(self) -> None:
        """E2: erase client addresses past their retention — on the first request and then
        hourly, so they go even while nobody acts (each action prunes too, `guard.visit`)."""
        now = self.clock()
        if self.pruned is not None and now - self.pruned < timedelta(hours=1):
            return
        with self.engine.begin() as conn:
            erased = prune(conn, now, self.config)
        self.pruned = now
        if erased:
            log.info("portal: %d client address(es) erased after their retention (E2)", erased)

    # -- helpers -------------------------------------------------------------
    def today(self) -> date:
        return self.clock().astimezone(BERLIN).date()

    def render(self, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = ctx.get("lang", "de")
        fmt = {
            "money": lambda v, cur="EUR": formatting.money(v, lang, cur),
            "day": lambda d: formatting.day(d, lang),
            "rate": lambda r: formatting.percent(r, lang) if r is not None else "–",
        }
        html = self.env.get_template(name).render(
            w=words(lang), creditor=self.settings.creditor, fmt=fmt, **ctx
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def refuse(self, key: str, status: int, lang: str = "de") -> HTMLResponse:
        c = self.settings.creditor
        text = words(lang)[key].format(phone=c.phone or "", email=c.email or "")
        return self.render("message.html.j2", status, lang=lang, text=text, back=None)

    def open(self, request: Request, token: str):
        """(link, page, lang) for a good link, else the refusal page to return."""
        self.prune()
        address = request.client.host if request.client else "unknown"
        if not self.limiter.allow(f"ip:{address}", f"link:{token[:16]}"):
            return self.refuse("too_many", 429)
        with self.engine.begin() as conn:
            checked = links.verify(conn, token, self.config, self.clock())
        if checked.verdict != links.Verdict.GOOD:
            key = {"expired": "link_expired", "revoked": "link_revoked"}.get(
                checked.verdict, "link_bad"
            )
            return self.refuse(key, 410 if checked.verdict != "unknown" else 404)
        assert checked.link is not None
        page = load_page(self.engine, checked.link.customer_id, self.today())
        lang = request.query_params.get("lang") or page.language
        lang = lang if lang in ("de", "en") else "de"
        return checked.link, page, lang

    def base(self, link: links.Link, page: Page, lang: str) -> dict[str, Any]:
        return {
            "lang": lang,
            "root": f"{links.PATH}/{link.token}",
            "q": f"?lang={lang}",
            "page": page,
            "link": link,
            "next_words": lambda u: next_words(u, lang, lambda d: formatting.day(d, lang)),
        }

    def form(self, link: links.Link) -> str:
        with self.engine.begin() as conn:
            return issue_form(conn, link.id, self.clock())


def create_portal(engine: Engine, clock: Callable[[], datetime], settings: Settings,
                  rate_clock: Callable[[], float] = time.time) -> FastAPI:  # fmt: skip
    """The sub-app; `service.app.create_app` mounts it at `links.PATH`."""
    p = Portal(engine, clock, settings, rate_clock)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = p

    @app.get("/static/portal.css")
    def css() -> Response:
        return Response((HERE / "static" / "portal.css").read_bytes(), media_type="text/css",
                        headers={**HEADERS, "Cache-Control": "max-age=3600"})  # fmt: skip

    @app.get("/{token}", response_class=HTMLResponse)
    def overview(request: Request, token: str) -> Response:
        got = p.open(request, token)
        if isinstance(got, Response):
            return got
        link, page, lang = got
        return p.render("overview.html.j2", **p.base(link, page, lang))

    @app.get("/{token}/letters/{delivery_id}")
    def letter(request: Request, token: str, delivery_id: int) -> Response:
        got = p.open(request, token)
        if isinstance(got, Response):
            return got
        link, page, lang = got
        path = letter_file(engine, link.customer_id, delivery_id)
        if path is None:
            return p.refuse("not_yours", 404, lang)
        return FileResponse(path, media_type="application/pdf", headers=HEADERS,
                            filename=f"{page.customer.number}-{delivery_id}.pdf")  # fmt: skip

    @app.get("/{token}/pay", response_class=HTMLResponse)
    def pay(request: Request, token: str) -> Response:
        got = p.open(request, token)
        if isinstance(got, Response):
            return got
        link, page, lang = got
        asked = request.query_params.getlist("invoice")
        chosen = [i for i in page.invoices if i.number in asked] or page.invoices
        if not chosen:
            return p.refuse("none_open", 200, lang)
        amount = sum((i.facts.balance for i in chosen), Decimal("0.00"))
        parts = transfers(settings, page.customer.number, chosen, words(lang)["girocode"])
        return p.render("pay.html.j2", **p.base(link, page, lang), chosen=chosen, amount=amount,
                        transfers=parts, svg=Markup)  # fmt: skip

    @app.get("/{token}/{action}", response_class=HTMLResponse)
    def show_form(request: Request, token: str, action: str) -> Response:
        got = p.open(request, token)
        if isinstance(got, Response):
            return got
        link, page, lang = got
        if action not in ACTIONS:
            return p.refuse("not_yours", 404, lang)
        return _form_page(p, link, page, lang, action, request.query_params.get("invoice"))

    @app.post("/{token}/{action}", response_class=HTMLResponse)
    async def act(request: Request, token: str, action: str) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > p.config.upload_max_bytes + 65536:
            return p.refuse("upload_large", 413)
        from anyio import to_thread

        got = await to_thread.run_sync(p.open, request, token)
        if isinstance(got, Response):
            return got
        link, page, lang = got
        if action not in ACTIONS:
            return p.refuse("not_yours", 404, lang)
        form = await request.form(max_files=1, max_fields=20)
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        upload = None
        file = form.get("file")
        if file is not None and not isinstance(file, str) and file.filename:
            data = await file.read(p.config.upload_max_bytes + 1)
            try:
                kind = check_upload(file.filename, data, p.config)
            except Refused as exc:
                return _form_page(p, link, page, lang, action, fields.get("invoice"), exc)
            upload = actions.Upload(file.filename, kind, data)
        opt_out = [v for k, v in form.multi_items() if k == "opt_out" and isinstance(v, str)]
        address = request.client.host if request.client else None
        try:
            done = await to_thread.run_sync(
                lambda: _do(p, action, link, page, fields, upload, opt_out, address)
            )
        except Refused as exc:
            return _form_page(p, link, page, lang, action, fields.get("invoice"), exc)
        fresh = load_page(engine, link.customer_id, p.today())
        mailed = await to_thread.run_sync(
            lambda: confirm(settings, fresh.customer, done, lang, p.clock())
        )
        return p.render("done.html.j2", **p.base(link, fresh, lang), done=done, mailed=mailed)

    return app


def _form_page(p: Portal, link: links.Link, page: Page, lang: str, action: str,
               number: str | None, error: Refused | None = None) -> HTMLResponse:  # fmt: skip
    inv = page.invoice(number) if number else None
    if action in ("dispute", "promise", "plan") and inv is None:
        return p.refuse("not_yours", 404, lang)
    extra: dict[str, Any] = {}
    if action == "plan" and inv is not None:
        most = inv.offers.payment_plan
        extra["counts"] = list(range(2, (most or 6) + 1))
        extra["offered"] = most
        extra["preview"] = {
            n: actions.schedule(inv.facts.balance, n, p.today()) for n in extra["counts"]
        }
    if action == "promise":
        extra["latest"] = p.today().toordinal() + p.config.promise_days
        extra["latest_day"] = date.fromordinal(extra["latest"])
        extra["earliest_day"] = date.fromordinal(p.today().toordinal() + 1)
    return p.render(
        f"{action}.html.j2",
        422 if error is not None else 200,
        **p.base(link, page, lang),
        inv=inv,
        nonce=p.form(link),
        error=error.key if error is not None else None,
        reasons=actions.DISPUTE_REASONS if action == "dispute" else actions.FEEDBACK_REASONS,
        opt_outs=actions.OPT_OUTS,
        config=p.config,
        **extra,
    )


def _do(
    p: Portal,
    action: str,
    link: links.Link,
    page: Page,
    f: dict[str, str],
    upload: actions.Upload | None,
    opt_out: list[str],
    address: str | None,
) -> actions.Done:
    now, today, nonce, cfg = p.clock(), p.today(), f.get("nonce", ""), p.config
    number = f.get("invoice", "")
    if action == "dispute":
        return actions.dispute(p.engine, page, link, nonce, number, f.get("reason", ""),
                               f.get("text", ""), upload, address, today, now, cfg)  # fmt: skip
    if action == "promise":
        return actions.promise(p.engine, page, link, nonce, number, f.get("until", ""),
                               address, today, now, cfg)  # fmt: skip
    if action == "plan":
        count = f.get("count", "")
        if not count.isdigit():
            raise Refused("count_bad", 422)
        return actions.plan(p.engine, page, link, nonce, number, int(count), address, today,
                            now, cfg)  # fmt: skip
    if action == "feedback":
        reason, text = f.get("reason", ""), f.get("text", "")
        return actions.feedback(p.engine, page, link, nonce, reason, text, number or None,
                                address, today, now, cfg)  # fmt: skip
    return actions.contact(p.engine, page, link, nonce, f.get("email", ""), f.get("phone", ""),
                           opt_out, address, today, now, cfg)  # fmt: skip
