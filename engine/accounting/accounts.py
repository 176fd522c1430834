"""Which account each of mahnwerk's bookings goes to, and the `[datev]` settings.

The defaults follow DATEV's standard charts of accounts (SKR03 and SKR04), in the
account names DATEV gives them.  What mahnwerk books are claims *beside* the invoice:

* **dunning fees** and **the 40 EUR lump sum** (§ 288 Abs. 5 BGB) are damages for the
  delay, not consideration for a supply, so they carry no VAT (UStAE Abschn. 1.3 Abs. 6)
  and go to "Sonstige Erträge" / "Sonstige betriebliche Erträge": SKR03 2700, SKR04 4830;
* **default interest** (§ 288 Abs. 1, 2 BGB) is interest income, also without VAT:
  "Sonstige Zinsen und ähnliche Erträge", SKR03 2650, SKR04 7100;
* **write-offs** (and residual cents written off) are "Forderungsverluste (übliche
  Höhe)", SKR03 2400, SKR04 6930.  Writing off *principal* also corrects the VAT it
  contained (§ 17 Abs. 2 Nr. 1 UStG): the export leaves the tax key (BU-Schlüssel)
  empty, so the accountant books the correction with the rate the invoice had;
* **Skonto** granted: "Gewährte Skonti", SKR03 8730, SKR04 4730; a **discount** the
  policy offered for early payment (`offer discount …`) goes there too unless
  `[datev.accounts] discount` names its own account.

The debtor side is the customer's personal account (Debitor, 10000–69999 with the
usual 4-digit ledger accounts) when the customer number is such a number, else the
collective debtor `debtor_fallback` (default 10000), with the customer number in the
booking text.  Every account can be overridden in `mahnwerk.toml`:

```toml
[datev]
consultant = 1001          # Beraternummer
client = 1                 # Mandantennummer
chart = "SKR03"            # or "SKR04"
fiscal_year_start = "01-01"
account_length = 4
[datev.accounts]
fees = 2700                # any of fees, lump_sum, interest, write_off, skonto, discount
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from mahnwerk.engine.comms.config import _Reader
from mahnwerk.engine.config_file import ConfigError, read_config

#: Default accounts per chart, by what was booked (the ledger kind).
CHARTS: dict[str, dict[str, int]] = {
    "SKR03": {
        "fees": 2700,
        "lump_sum": 2700,
        "interest": 2650,
        "write_off": 2400,
        "skonto": 8730,
        "discount": 8730,
    },
    "SKR04": {
        "fees": 4830,
        "lump_sum": 4830,
        "interest": 7100,
        "write_off": 6930,
        "skonto": 4730,
        "discount": 4730,
    },
}
#: Personal accounts of debtors with 4-digit ledger accounts (DATEV convention).
DEBTOR_RANGE = range(10000, 70000)

EXAMPLE = """\
[datev]
consultant = 1001
client = 1
chart = "SKR03"
"""


@dataclass(frozen=True, slots=True)
class DatevSettings:
    consultant: int
    client: int
    chart: str = "SKR03"
    fiscal_year_start: tuple[int, int] = (1, 1)  # month, day
    account_length: int = 4
    debtor_fallback: int = 10000
    accounts: dict[str, int] = field(default_factory=dict)

    def account(self, what: str) -> int:
        return self.accounts.get(what) or CHARTS[self.chart][what]

    def debtor(self, customer_number: str) -> int:
        if customer_number.isdigit() and int(customer_number) in DEBTOR_RANGE:
            return int(customer_number)
        return self.debtor_fallback

    def fiscal_year_of(self, day: date) -> date:
        month, dom = self.fiscal_year_start
        start = date(day.year, month, dom)
        return start if day >= start else date(day.year - 1, month, dom)


def load_datev_settings(
    path: str | Path | None = None, env: dict[str, str] | None = None
) -> DatevSettings:
    """The `[datev]` section of mahnwerk.toml, each wrong key named with what to write."""
    import os

    file, data = read_config(path, f"create it with a [datev] section, e.g.\n{EXAMPLE}")
    if "datev" not in data:
        raise ConfigError(
            file, "[datev]", "missing", f"add the section with your DATEV numbers, e.g.\n{EXAMPLE}"
        )
    return parse_datev(data, file, dict(os.environ if env is None else env))


def parse_datev(data: dict[str, Any], file: Path | str, env: dict[str, str]) -> DatevSettings:
    r = _Reader(data, file, env)
    consultant = r.integer("datev", "consultant", 0)
    if not 1001 <= consultant <= 9999999:
        raise ConfigError(
            file,
            "[datev] consultant",
            f"{consultant or 'missing'}: not a Beraternummer",
            "write your tax adviser's number, 1001 to 9999999",
        )
    client = r.integer("datev", "client", 0)
    if not 1 <= client <= 99999:
        raise ConfigError(
            file,
            "[datev] client",
            f"{client or 'missing'}: not a Mandantennummer",
            "write the client number, 1 to 99999",
        )
    chart = (r.text("datev", "chart", required=False) or "SKR03").upper()
    if chart not in CHARTS:
        raise ConfigError(
            file,
            "[datev] chart",
            f"{chart!r} is not supported",
            'write chart = "SKR03" or chart = "SKR04"',
        )
    start = r.text("datev", "fiscal_year_start", required=False) or "01-01"
    try:
        month, day = (int(x) for x in start.split("-"))
        date(2024, month, day)
    except ValueError:
        raise ConfigError(
            file,
            "[datev] fiscal_year_start",
            f"{start!r} is not MM-DD",
            'write e.g. fiscal_year_start = "07-01"',
        ) from None
    accounts = data["datev"].get("accounts", {})
    unknown = sorted(set(accounts) - set(CHARTS[chart]))
    if unknown or not all(isinstance(v, int) and v > 0 for v in accounts.values()):
        raise ConfigError(
            file,
            "[datev.accounts]",
            f"unknown or not an account: {unknown}",
            f"keys are {', '.join(CHARTS[chart])}; values account numbers",
        )
    return DatevSettings(
        consultant=consultant,
        client=client,
        chart=chart,
        fiscal_year_start=(month, day),
        account_length=r.integer("datev", "account_length", 4),
        debtor_fallback=r.integer("datev", "debtor_fallback", 10000),
        accounts=dict(accounts),
    )
