"""How many bank credits mahnwerk matches on its own, and how many it gets wrong.

Two measurements, each in fresh SQLite databases, through the real import
(`mahnwerk.engine.bank.import_statement`):

``--samples`` (default)
    The public sample statements in tests/data/bank (camt.053/054 from genkgo/camt,
    MT940 from wolph/mt940) against the hand-written book in tests/data/bank/book,
    whose invoice numbers and amounts are what the samples' own remittance texts name.
    One database per file.  Per file: credits, matched by reference, by a near
    reference, by payer and amount, sent to the queue; returns/reversals for review.

``--generated N``
    A camt.053 written from the demo's payment plan (`engine.demo.plan_portfolio`:
    the demo's customers, invoices and calibrated payments), N credits over several
    daily statements, with the noise real remittance texts have: invoice numbers
    clean and messy (`Rg.-Nr. R-2026-000042`, `rechnung r 2026 000042`, `RE2026000042`),
    one-digit typos, no number at all, combined payments naming several invoices,
    payers paying from someone else's account, and credits from strangers (refunds,
    wrong transfers).  Each credit's true invoices are known, so the table shows, per
    kind of text, the share matched automatically *and* how many of those were wrong.

    /tmp/venv/bin/python bench/bench_bank.py [--samples] [--generated 2000] [--seed 7]
        [--out FILE.xml] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import insert, select

from mahnwerk.engine.bank import import_statement
from mahnwerk.engine.importer import import_file
from mahnwerk.engine.models import BANK_ENTRY, CUST, INV, PAY
from mahnwerk.engine.store.db import init_db, make_engine

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "tests" / "data" / "bank"
NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
# sepa_snippet.sta and postfinance.sta are left out: their statements do not balance (opening
# balance + entries != closing balance), so mahnwerk refuses them as incomplete.
SAMPLES = [
    "mt940/sepa_mt9401.sta",
    "mt940/cmxl_mt940.sta",
    "mt940/with_binary_character.sta",
    "mt940/mbank_mt940.sta",
    "camt/camt053.v2.minimal.xml",
    "camt/camt053.v2.five.decimals.xml",
    "camt/camt053.v2.multi.statement.xml",
    "camt/camt053.v8.xml",
    "camt/camt054.v4.xml",
    "own/camt053_de_cases.xml",
]


def _fresh(folder: Path, name: str):
    url = f"sqlite:///{folder / name}"
    init_db(url)
    return make_engine(url)


def _methods(engine) -> Counter:
    with engine.connect() as conn:
        rows = conn.execute(
            select(BANK_ENTRY.c.status, BANK_ENTRY.c.matched_by).where(
                BANK_ENTRY.c.kind == "credit"
            )
        ).all()
    return Counter(by if status == "matched" else status for status, by in rows)


def samples() -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, name in enumerate(SAMPLES):
            engine = _fresh(Path(tmp), f"s{n}.db")
            import_file(engine, "customers", BANK / "book" / "kunden.csv", now=NOW)
            import_file(engine, "invoices", BANK / "book" / "rechnungen.csv", now=NOW)
            result = import_statement(engine, BANK / name, now=NOW)
            by = _methods(engine)
            engine.dispose()
            out.append(
                {
                    "file": name,
                    "credits": result.credits,
                    "reference": by["reference"],
                    "near": by["reference_near"],
                    "amount": by["amount"],
                    "queue": by["unmatched"],
                    "review": result.review,
                }
            )
    return out


def print_samples(rows: list[dict[str, Any]]) -> None:
    head = f"{'file':<38}{'credits':>8}{'ref':>6}{'near':>6}{'amount':>8}{'queue':>7}"
    print(head + f"{'auto %':>8}{'review':>8}")
    total: Counter = Counter()
    for r in rows:
        auto = r["reference"] + r["near"] + r["amount"]
        share = f"{100 * auto / r['credits']:.0f}" if r["credits"] else "-"
        print(
            f"{r['file']:<38}{r['credits']:>8}{r['reference']:>6}{r['near']:>6}"
            f"{r['amount']:>8}{r['queue']:>7}{share:>8}{r['review']:>8}"
        )
        if not r["file"].startswith("own/"):
            total.update({k: v for k, v in r.items() if k != "file"})
    auto = total["reference"] + total["near"] + total["amount"]
    print(
        f"{'all public samples':<38}{total['credits']:>8}{total['reference']:>6}"
        f"{total['near']:>6}{total['amount']:>8}{total['queue']:>7}"
        f"{100 * auto / total['credits']:>8.0f}{total['review']:>8}"
    )


# ---------------------------------------------------------------------------
# A generated statement
# ---------------------------------------------------------------------------


def _iban(rng: random.Random) -> str:
    """A German IBAN with correct check digits (ISO 7064 mod 97-10)."""
    bban = f"{rng.randrange(10**7, 10**8)}{rng.randrange(10**9, 10**10)}"
    check = 98 - int(bban + "131400") % 97
    return f"DE{check:02d}{bban}"


def _bank_name(rng: random.Random, name: str, b2b: bool) -> str:
    """How the payer's bank prints the name."""
    plain = name.translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    if b2b:
        return rng.choice([name, plain.upper(), plain])
    first, _, last = name.partition(" ")
    return rng.choice([name, plain.upper(), f"{last}, {first}", f"{last.upper()}, {first.upper()}"])


def _spell(rng: random.Random, number: str) -> str:
    digits = number[1:]
    return rng.choice(
        [
            f"Rg.-Nr. R-{digits[:4]}-{digits[4:]}",
            f"rechnung r {digits[:4]} {digits[4:]} vielen dank",
            f"RE{digits}",
            f"Rechnungsnr. {digits}",
            f"{number.lower()} Danke",
        ]
    )


def _typo(rng: random.Random, number: str) -> str:
    digits = list(number[1:])
    i = rng.randrange(len(digits) - 1)
    kind = rng.choice(["swap", "change", "drop"])
    if kind == "swap" and digits[i] != digits[i + 1]:
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
    elif kind == "drop":
        del digits[i]
    else:
        digits[i] = str((int(digits[i]) + rng.randrange(1, 9)) % 10)
    return f"RE R{''.join(digits)}"


_NO_REF = ["Zahlung", "Danke", "Rechnung vom Februar", "", "Begleichung offener Posten", "Miete"]
_STRANGERS = [
    ("Stadtwerke Nord GmbH", "Erstattung Abschlag 2025"),
    ("Finanzamt Berlin", "Erstattung USt 01/2026"),
    ("Amazon Payments Europe", "Gutschrift Bestellung 302-4411"),
    ("Lisa Hoffmann", "Kaution zurueck"),
    ("Versicherung AG", "Schadenregulierung 88-1934"),
]


def generate(seed: int, credits: int, customers: int, invoices: int) -> tuple[Any, list[dict]]:
    """The demo's plan and `credits` bank credits made from its payments, with noise."""
    from mahnwerk.engine.demo import plan_portfolio

    start = date(2026, 1, 1)
    plan = plan_portfolio(seed, start, 90, customers, invoices)
    rng = random.Random(seed + 1)
    people = {c["external_id"]: c for c in plan.customers}
    accounts = {cid: _iban(rng) for cid in people}
    shown = {cid: _bank_name(rng, c["name"], c["type"] == "B2B") for cid, c in people.items()}
    owner = {
        inv["external_id"]: inv["customer_ext"]
        for day in plan.invoices_by_day.values()
        for inv in day
    }
    by_day_customer: dict[tuple[date, str], list[dict]] = defaultdict(list)
    for day in sorted(plan.payments_by_day):
        for p in plan.payments_by_day[day]:
            amount = Decimal(p["amount"]).quantize(Decimal("0.01"))
            if amount > 0:
                by_day_customer[(day, owner[p["invoice_ext"]])].append(p | {"amount": amount})
    out: list[dict] = []
    for (day, cid), group in sorted(by_day_customer.items(), key=lambda kv: kv[0]):
        if len(out) >= credits:
            break
        proxy = rng.random() < 0.06  # paid from a relative's or a colleague's account
        name = "Erika Sommer" if proxy else shown[cid]
        iban = _iban(rng) if proxy else accounts[cid]
        if len(group) > 1 and rng.random() < 0.7:
            numbers = [p["invoice_ext"] for p in group]
            text = rng.choice(["RE " + " ".join(numbers), "Rechnungen " + ", ".join(numbers)])
            out.append(
                {
                    "day": day,
                    "amount": sum((p["amount"] for p in group), Decimal(0)),
                    "name": name,
                    "iban": iban,
                    "text": text,
                    "truth": set(numbers),
                    "noise": "combined",
                }
            )
            continue
        for p in group:
            number = p["invoice_ext"]
            u = rng.random()
            if u < 0.40:
                text, noise = rng.choice([number, f"RE {number}", f"Rechnung {number}"]), "clean"
            elif u < 0.60:
                text, noise = _spell(rng, number), "messy"
            elif u < 0.68:
                text, noise = _typo(rng, number), "typo"
            elif u < 0.73:
                text, noise = f"Kd-Nr {cid} {rng.choice(_NO_REF)}".strip(), "customer no."
            else:
                text, noise = rng.choice(_NO_REF), "no number"
            if proxy:
                noise += " (proxy payer)"
            out.append(
                {
                    "day": day,
                    "amount": p["amount"],
                    "name": name,
                    "iban": iban,
                    "text": text,
                    "truth": {number},
                    "noise": noise,
                }
            )
    days = sorted({c["day"] for c in out}) or [start]
    for n in range(max(1, credits // 25)):  # about 4 % strangers
        who, text = rng.choice(_STRANGERS)
        out.append(
            {
                "day": rng.choice(days),
                "amount": Decimal(rng.randrange(500, 50000)) / 100,
                "name": who,
                "iban": _iban(rng),
                "text": f"{text} {n}",
                "truth": set(),
                "noise": "stranger",
            }
        )
    out.sort(key=lambda c: c["day"])
    for n, c in enumerate(out):
        c["ref"] = f"GEN{n:07d}"
    return plan, out


def write_camt(path: Path, credits: list[dict]) -> None:
    """One camt.053.001.08 file, one statement per booking day."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">',
        "<BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId>"
        "<CreDtTm>2026-03-31T18:00:00+02:00</CreDtTm></GrpHdr>",
    ]
    by_day: dict[date, list[dict]] = defaultdict(list)
    for c in credits:
        by_day[c["day"]].append(c)
    balance = Decimal("0.00")
    for n, (day, items) in enumerate(sorted(by_day.items()), 1):
        closing = balance + sum((Decimal(c["amount"]) for c in items), Decimal(0))
        lines.append(
            f"<Stmt><Id>BENCH-{day:%Y%m%d}</Id><ElctrncSeqNb>{n}</ElctrncSeqNb>"
            "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>"
            + "".join(
                f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
                f'<Amt Ccy="EUR">{abs(value)}</Amt>'
                f"<CdtDbtInd>{'DBIT' if value < 0 else 'CRDT'}</CdtDbtInd>"
                f"<Dt><Dt>{day}</Dt></Dt></Bal>"
                for code, value in (("OPBD", balance), ("CLBD", closing))
            )
        )
        balance = closing
        for c in items:
            lines.append(
                f'<Ntry><Amt Ccy="EUR">{c["amount"]}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
                f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt>"
                f"<ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{c['ref']}</AcctSvcrRef>"
                "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd>"
                "</Fmly></Domn></BkTxCd><NtryDtls><TxDtls>"
                "<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
                f"<RltdPties><Dbtr><Pty><Nm>{escape(c['name'])}</Nm></Pty></Dbtr>"
                f"<DbtrAcct><Id><IBAN>{c['iban']}</IBAN></Id></DbtrAcct></RltdPties>"
                f"<RmtInf><Ustrd>{escape(c['text'])}</Ustrd></RmtInf>"
                "</TxDtls></NtryDtls></Ntry>"
            )
        lines.append("</Stmt>")
    lines += ["</BkToCstmrStmt>", "</Document>", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def generated(seed: int, credits: int, out: Path | None) -> dict[str, Any]:
    plan, items = generate(seed, credits, customers=max(200, credits), invoices=credits * 4)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine = _fresh(folder, "gen.db")
        with engine.begin() as conn:
            conn.execute(
                insert(CUST),
                [
                    {"external_id": c["external_id"], "name": c["name"], "type": c["type"]}
                    for c in plan.customers
                ],
            )
            ids = dict(conn.execute(select(CUST.c.external_id, CUST.c.id)).all())
            conn.execute(
                insert(INV),
                [
                    {
                        "external_id": i["external_id"],
                        "customer_id": ids[i["customer_ext"]],
                        "issue_date": i["issue_date"],
                        "due_date": i["due_date"],
                        "amount": i["amount"],
                        "currency": "EUR",
                    }
                    for day in plan.invoices_by_day.values()
                    for i in day
                ],
            )
        path = out or folder / "generated.camt053.xml"
        write_camt(path, items)
        started = time.perf_counter()
        result = import_statement(engine, path, now=NOW)
        seconds = time.perf_counter() - started
        with engine.connect() as conn:
            status = dict(conn.execute(select(BANK_ENTRY.c.entry_ref, BANK_ENTRY.c.status)).all())
            ref_of = dict(conn.execute(select(BANK_ENTRY.c.id, BANK_ENTRY.c.entry_ref)).all())
            booked: dict[str, set[str]] = defaultdict(set)
            for ext, number in conn.execute(
                select(PAY.c.external_id, INV.c.external_id).join(INV, INV.c.id == PAY.c.invoice_id)
            ):
                booked[ref_of[int(ext.split(":")[1])]].add(number)
        engine.dispose()
    table: dict[str, Counter] = defaultdict(Counter)
    for c in items:
        row = table[c["noise"]]
        row["credits"] += 1
        if status[c["ref"]] == "matched":
            row["auto"] += 1
            # Right: money only on invoices the payer meant (a combined payment that does
            # not cover all of them pays the oldest first, § 366 BGB).
            row["right" if booked[c["ref"]] <= c["truth"] else "wrong"] += 1
        else:
            row["queue"] += 1
    return {"result": result, "seconds": seconds, "table": table}


def print_generated(report: dict[str, Any]) -> None:
    table = report["table"]
    print(f"{'remittance text':<28}{'credits':>8}{'auto':>7}{'auto %':>8}{'wrong':>7}{'queue':>7}")
    total: Counter = Counter()
    for noise in sorted(table, key=lambda k: -table[k]["credits"]):
        r = table[noise]
        total.update(r)
        print(
            f"{noise:<28}{r['credits']:>8}{r['auto']:>7}"
            f"{100 * r['auto'] / r['credits']:>8.1f}{r['wrong']:>7}{r['queue']:>7}"
        )
    print(
        f"{'all':<28}{total['credits']:>8}{total['auto']:>7}"
        f"{100 * total['auto'] / total['credits']:>8.1f}{total['wrong']:>7}{total['queue']:>7}"
    )
    n = total["credits"]
    print(f"import: {report['seconds']:.2f} s for {n} credits ({n / report['seconds']:.0f}/s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", action="store_true", help="the public sample statements")
    parser.add_argument("--generated", type=int, metavar="N", help="N generated credits")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="keep the generated camt.053 here")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {}
    if args.samples or not args.generated:
        rows = samples()
        print_samples(rows)
        figures["samples"] = rows
    if args.generated:
        if args.samples or not args.generated:
            print()
        report = generated(args.seed, args.generated, args.out)
        print_generated(report)
        figures["generated"] = {k: dict(v) for k, v in report["table"].items()}
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
