"""The communications settings: who the creditor is and how messages leave the house.

One TOML file (`mahnwerk.toml` in the current folder, or `--config FILE`) holds
the creditor's name, address and bank details, the SMTP server, the SMS
webhook and the delivery rules.  Secrets need not live in the file: every
scalar key can be overridden by an environment variable
`MAHNWERK_<SECTION>_<KEY>` (e.g. `MAHNWERK_SMTP_PASSWORD`,
`MAHNWERK_SMS_HEADERS_AUTHORIZATION` for a header).

A missing or wrong setting is a `ConfigError` naming the file and the key and
saying what to write, raised when the file is loaded — not halfway through a
dispatch, after half the letters went out.  The IBAN is validated (checksum,
length, country format) with schwifty, because a letter with a wrong account
number sends the customer's money nowhere.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

# ConfigError and config_path are imported from here by the CLI and the portal too.
from mahnwerk.engine.config_file import ConfigError, config_path, read_config  # noqa: F401

ENV_PREFIX = "MAHNWERK_"

EXAMPLE = """\
[creditor]
name = "Muster Versand GmbH"
street = "Hauptstraße 1"
postal_code = "10115"
city = "Berlin"
phone = "030 1234567"            # the customer's way to reach a person: on every letter
email = "forderungen@example.com"
iban = "DE89 3704 0044 0532 0130 00"
bic = "COBADEFFXXX"              # optional: derived from a German IBAN
payment_link = "https://pay.example.com/{reference}"   # optional
# What business letters must state for the legal form (`mahnwerk letters check` refuses
# letters without it): GmbH, UG (haftungsbeschränkt), AG, OHG, KG, GmbH & Co. KG, e.K.,
# eG or Einzelunternehmen.  § 35a GmbHG: seat, register court and number, every managing
# director; AG and eG: board (and supervisory_board_chair); GmbH & Co. KG: general_partner.
legal_form = "GmbH"
seat = "Berlin"
register_court = "Amtsgericht Berlin-Charlottenburg"
register_number = "HRB 123456 B"
managing_directors = ["Erika Muster", "Max Beispiel"]
vat_id = "DE123456789"           # optional

[smtp]
host = "mail.example.com"
port = 587
starttls = true
username = "forderungen@example.com"   # password: $MAHNWERK_SMTP_PASSWORD
sender = "Muster Versand GmbH <forderungen@example.com>"

[sms]
url = "https://sms.example.com/send"
headers = { Authorization = "Bearer ..." }   # or $MAHNWERK_SMS_HEADERS_AUTHORIZATION
body = '{"to": {{ to|tojson }}, "text": {{ text|tojson }}}'

[portal]                         # optional: the customers' page (mahnwerk serve at /p/…)
base_url = "https://kunden.example.com"   # links on letters and e-mails point here
link_days = 60                   # a link opens the page this long; secret: $MAHNWERK_PORTAL_SECRET
# payment_url = "https://pay.example.com/?amount={amount}&ref={reference}"
# virus_scan = "clamdscan --no-summary"   # run on each upload; exit 0 = clean

[bounces]                        # optional: where bounce reports (DSNs) arrive
maildir = "/var/mail/forderungen"      # a Maildir folder, or an IMAP mailbox:
# imap_host = "mail.example.com"       # imap_port = 993, imap_user = "...",
# imap_folder = "INBOX"                # password: $MAHNWERK_BOUNCES_IMAP_PASSWORD
"""


@dataclass(frozen=True, slots=True)
class Creditor:
    name: str
    street: str
    postal_code: str
    city: str
    country: str
    iban: str  # formatted in groups of four; "" for a creditor paid only online
    bic: str
    bank: str
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    register: str | None = None  # e.g. "Amtsgericht Berlin HRB 12345" (older files)
    vat_id: str | None = None
    # the details business letters must state (engine/comms/legal.py says which, by form)
    legal_form: str | None = None
    seat: str | None = None
    register_court: str | None = None
    register_number: str | None = None
    managing_directors: tuple[str, ...] = ()
    board: tuple[str, ...] = ()
    supervisory_board_chair: str | None = None
    general_partner: str | None = None
    payment_link: str | None = None  # may contain {reference}
    payment_days: int = 10  # pay within this many days of the letter

    @property
    def address_line(self) -> str:
        return f"{self.name}, {self.street}, {self.postal_code} {self.city}"


@dataclass(frozen=True, slots=True)
class Collection:
    """The debt collector named in the handover letter (§ 13a RDG needs its details)."""

    agency: str = "Inkasso Partner GmbH"
    address: str = ""
    supervisory_authority: str = "Bundesamt für Justiz, Adenauerallee 99–103, 53113 Bonn"
    registered_as: str = ""  # register of legal services (Rechtsdienstleistungsregister)
    vat_deductible: bool = True  # if False, letters must say VAT cannot be deducted


@dataclass(frozen=True, slots=True)
class Smtp:
    host: str
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = ""
    ca_file: str | None = None  # trust this CA (a self-signed test server)
    timeout: float = 30.0
    attach_pdf: bool = False  # attach the letter's PDF to the e-mail as well


@dataclass(frozen=True, slots=True)
class Sms:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"to": {{ to|tojson }}, "text": {{ text|tojson }}}'
    content_type: str = "application/json"
    timeout: float = 15.0


@dataclass(frozen=True, slots=True)
class Bounces:
    """Where delivery status notifications (RFC 3464) arrive: a Maildir or an IMAP box."""

    maildir: str | None = None
    imap_host: str | None = None
    imap_port: int = 993
    imap_user: str | None = None
    imap_password: str | None = None
    imap_folder: str = "INBOX"
    imap_ssl: bool = True


@dataclass(frozen=True, slots=True)
class Delivery:
    neutral_subjects: bool = True  # E1: no debt wording in subjects or on envelopes
    bundle: bool = True  # D3: one letter/e-mail per customer, channel and template
    max_attempts: int = 5
    backoff_seconds: int = 300  # doubled after every temporary failure
    lease_seconds: int = 600  # a claim older than this was left by a crashed dispatcher
    letters_folder: str = "letters"  # real letters: PDFs for the print shop
    templates: str | None = None  # a folder of own templates, tried before the shipped ones


UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/png")


@dataclass(frozen=True, slots=True)
class Portal:
    """The customer portal (`mahnwerk.portal`): where its links point and how long they hold.

    Without `base_url` letters and e-mails carry no portal link (a link must reach a
    server); `mahnwerk serve` still serves the pages at `/p/…` on its own address.
    """

    base_url: str | None = None  # e.g. "https://kunden.example.com" (serve behind a proxy)
    link_days: int = 60  # a link opens the page this many days after it was made
    secret: str | None = None  # HMAC key; none: one is made and kept in the database
    payment_url: str | None = None  # a payment provider, with {amount} and {reference}
    upload_max_bytes: int = 5 * 1024 * 1024
    upload_types: tuple[str, ...] = UPLOAD_TYPES
    virus_scan: str | None = None  # a command given the file's path; exit 0 = clean
    keep_addresses_days: int = 90  # E2: client addresses of portal actions, then erased
    requests_per_minute: int = 60  # per client address and per link
    promise_days: int = 30  # D6: a promise may name a day at most this far ahead


@dataclass(frozen=True, slots=True)
class Settings:
    path: str
    creditor: Creditor
    collection: Collection
    delivery: Delivery
    smtp: Smtp | None = None
    sms: Sms | None = None
    bounces: Bounces | None = None
    portal: Portal = field(default_factory=Portal)
    #: The file's sections as read and the environment: a channel reads its own section
    #: (e.g. `[letter_shop]`) through `reader()`, so a new channel needs no field here.
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    env: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def reader(self) -> _Reader:
        """Typed access to any `[section] key` of the file: environment first
        (`MAHNWERK_<SECTION>_<KEY>`), errors naming the file and the key."""
        return _Reader(self.raw, self.path, self.env)

    def need_smtp(self) -> Smtp:
        if self.smtp is None:
            raise ConfigError(
                self.path,
                "[smtp]",
                "no SMTP server configured",
                "add an [smtp] section with host, port and sender",
            )
        return self.smtp

    def need_sms(self) -> Sms:
        if self.sms is None:
            raise ConfigError(
                self.path,
                "[sms]",
                "no SMS webhook configured",
                "add an [sms] section with url (and headers, body)",
            )
        return self.sms


_COLLECTION = Collection()
_SMS_BODY = '{"to": {{ to|tojson }}, "text": {{ text|tojson }}}'


def demo_settings() -> Settings:
    """The settings of `mahnwerk demo`: a made-up creditor with a valid test IBAN."""
    data = tomllib.loads(EXAMPLE)
    data.pop("sms")
    data.pop("bounces", None)  # a made-up creditor has no mailbox to read bounces from
    return parse_settings(data, "<demo>", env={})


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read and validate the file; `env` (default: os.environ) overrides scalar keys."""
    file, data = read_config(
        path, f"create it (see `mahnwerk letters config-example`) or pass --config\n{EXAMPLE}"
    )
    env = dict(os.environ if env is None else env)
    return parse_settings(data, file, env)


def parse_settings(data: dict[str, Any], file: Path | str, env: dict[str, str]) -> Settings:
    r = _Reader(data, file, env)
    # A creditor paid only online (payment_link) may have no account to print: its letters
    # then carry no bank line and no GiroCode.  Without either, a letter could not say how
    # to pay, so the IBAN is required.
    online_only = bool(r.text("creditor", "payment_link", required=False))
    iban_text = r.text("creditor", "iban", required=not online_only)
    if iban_text is None:
        return _settings(r, file, data, env, None, "", "")
    try:
        iban = IBAN(iban_text)
    except SchwiftyException as exc:
        raise ConfigError(
            file,
            "[creditor] iban",
            f"invalid IBAN {iban_text!r}: {exc}",
            "copy the IBAN from a bank statement (e.g. DE89 3704 0044 0532 0130 00)",
        ) from None
    bic_text = r.text("creditor", "bic", required=False)
    if bic_text:
        try:
            bic = BIC(bic_text)
        except SchwiftyException as exc:
            raise ConfigError(
                file,
                "[creditor] bic",
                f"invalid BIC {bic_text!r}: {exc}",
                "write the 8 or 11 characters of the BIC",
            ) from None
    else:
        bic = iban.bic
        if bic is None:
            raise ConfigError(
                file, "[creditor] bic", "missing and not derivable from the IBAN", 'add bic = "..."'
            )
    return _settings(r, file, data, env, iban, str(bic), "")


def _settings(
    r: _Reader,
    file: Path | str,
    data: dict[str, Any],
    env: dict[str, str],
    iban: IBAN | None,
    bic: str,
    default_bank: str,
) -> Settings:
    """The rest of `parse_settings`, once the account (or its absence) is known."""
    return Settings(
        str(file), _creditor(r, iban, bic, default_bank), _collection(r), _delivery(r),
        _smtp(r, data, env), _sms(r, data), _bounces(r, data), _portal(r), raw=data, env=env,
    )  # fmt: skip


def _creditor(r: _Reader, iban: IBAN | None, bic: str, default_bank: str) -> Creditor:
    bank_name = getattr(iban, "bank_name", None) if iban is not None else None
    bank = r.text("creditor", "bank", required=False) or bank_name or default_bank
    creditor = Creditor(
        name=r.text("creditor", "name"),
        street=r.text("creditor", "street"),
        postal_code=r.text("creditor", "postal_code"),
        city=r.text("creditor", "city"),
        country=r.text("creditor", "country", required=False) or "DE",
        iban=iban.formatted if iban is not None else "",
        bic=bic,
        bank=bank,
        email=r.text("creditor", "email", required=False),
        phone=r.text("creditor", "phone", required=False),
        website=r.text("creditor", "website", required=False),
        register=r.text("creditor", "register", required=False),
        vat_id=r.text("creditor", "vat_id", required=False),
        legal_form=r.text("creditor", "legal_form", required=False),
        seat=r.text("creditor", "seat", required=False),
        register_court=r.text("creditor", "register_court", required=False),
        register_number=r.text("creditor", "register_number", required=False),
        managing_directors=r.names("creditor", "managing_directors"),
        board=r.names("creditor", "board"),
        supervisory_board_chair=r.text("creditor", "supervisory_board_chair", required=False),
        general_partner=r.text("creditor", "general_partner", required=False),
        payment_link=r.text("creditor", "payment_link", required=False),
        payment_days=r.integer("creditor", "payment_days", 10),
    )
    link = creditor.payment_link
    if link and not link.startswith(("https://", "http://")):
        raise ConfigError(
            r.file,
            "[creditor] payment_link",
            f"{link!r} is not a web address",
            "write https://…, optionally with {reference}",
        )
    return creditor


def _collection(r: _Reader) -> Collection:
    return Collection(
        agency=r.text("collection", "agency", required=False) or _COLLECTION.agency,
        address=r.text("collection", "address", required=False) or "",
        supervisory_authority=r.text("collection", "supervisory_authority", required=False)
        or _COLLECTION.supervisory_authority,
        registered_as=r.text("collection", "registered_as", required=False) or "",
        vat_deductible=r.boolean("collection", "vat_deductible", True),
    )


def _delivery(r: _Reader) -> Delivery:
    return Delivery(
        neutral_subjects=r.boolean("delivery", "neutral_subjects", True),
        bundle=r.boolean("delivery", "bundle", True),
        max_attempts=r.integer("delivery", "max_attempts", 5),
        backoff_seconds=r.integer("delivery", "backoff_seconds", 300),
        lease_seconds=r.integer("delivery", "lease_seconds", 600),
        letters_folder=r.text("delivery", "letters_folder", required=False) or "letters",
        templates=r.text("delivery", "templates", required=False),
    )


def _smtp(r: _Reader, data: dict[str, Any], env: dict[str, str]) -> Smtp | None:
    if "smtp" not in data and not any(k.startswith(ENV_PREFIX + "SMTP_HOST") for k in env):
        return None
    smtp = Smtp(
        host=r.text("smtp", "host"),
        port=r.integer("smtp", "port", 587),
        starttls=r.boolean("smtp", "starttls", True),
        ssl=r.boolean("smtp", "ssl", False),
        username=r.text("smtp", "username", required=False),
        password=r.text("smtp", "password", required=False),
        sender=r.text("smtp", "sender"),
        ca_file=r.text("smtp", "ca_file", required=False),
        timeout=float(r.integer("smtp", "timeout", 30)),
        attach_pdf=r.boolean("smtp", "attach_pdf", False),
    )
    if smtp.starttls and smtp.ssl:
        raise ConfigError(
            r.file,
            "[smtp] ssl",
            "starttls and ssl are both on",
            "use starttls = true (port 587) or ssl = true (port 465)",
        )
    return smtp


def _sms(r: _Reader, data: dict[str, Any]) -> Sms | None:
    if "sms" not in data:
        return None
    sms = Sms(
        url=r.text("sms", "url"),
        headers=r.table("sms", "headers"),
        body=r.text("sms", "body", required=False) or _SMS_BODY,
        content_type=r.text("sms", "content_type", required=False) or "application/json",
        timeout=float(r.integer("sms", "timeout", 15)),
    )
    if not sms.url.startswith(("http://", "https://")):
        raise ConfigError(
            r.file, "[sms] url", f"{sms.url!r} is not a web address", "write http(s)://host/path"
        )
    return sms


def _portal(r: _Reader) -> Portal:
    base = r.text("portal", "base_url", required=False)
    if base and not base.startswith(("https://", "http://")):
        raise ConfigError(
            r.file, "[portal] base_url", f"{base!r} is not a web address",
            "write the address customers reach `mahnwerk serve` at, e.g. https://kunden.example.com",
        )  # fmt: skip
    pay = r.text("portal", "payment_url", required=False)
    if pay and not pay.startswith("https://"):
        raise ConfigError(
            r.file, "[portal] payment_url", f"{pay!r} is not an https address",
            "write https://…?amount={amount}&ref={reference}",
        )  # fmt: skip
    days = r.integer("portal", "link_days", 60)
    if days < 1:
        raise ConfigError(r.file, "[portal] link_days", "must be at least 1", "write e.g. 60")
    types = r.names("portal", "upload_types") or UPLOAD_TYPES
    return Portal(
        base_url=base.rstrip("/") if base else None,
        link_days=days,
        secret=r.text("portal", "secret", required=False),
        payment_url=pay,
        upload_max_bytes=r.integer("portal", "upload_max_bytes", 5 * 1024 * 1024),
        upload_types=types,
        virus_scan=r.text("portal", "virus_scan", required=False),
        keep_addresses_days=r.integer("portal", "keep_addresses_days", 90),
        requests_per_minute=r.integer("portal", "requests_per_minute", 60),
        promise_days=r.integer("portal", "promise_days", 30),
    )


def _bounces(r: _Reader, data: dict[str, Any]) -> Bounces | None:
    if "bounces" not in data:
        return None
    bounces = Bounces(
        maildir=r.text("bounces", "maildir", required=False),
        imap_host=r.text("bounces", "imap_host", required=False),
        imap_port=r.integer("bounces", "imap_port", 993),
        imap_user=r.text("bounces", "imap_user", required=False),
        imap_password=r.text("bounces", "imap_password", required=False),
        imap_folder=r.text("bounces", "imap_folder", required=False) or "INBOX",
        imap_ssl=r.boolean("bounces", "imap_ssl", True),
    )
    if bool(bounces.maildir) == bool(bounces.imap_host):
        raise ConfigError(
            r.file,
            "[bounces]",
            "needs exactly one mailbox",
            'write maildir = "/path/to/Maildir" or imap_host = "mail.example.com"',
        )
    return bounces


class _Reader:
    """Typed access to `[section] key`, environment first, errors naming file and key."""

    def __init__(self, data: dict[str, Any], file: Path | str, env: dict[str, str]) -> None:
        self.data, self.file, self.env = data, file, env

    def _raw(self, section: str, key: str) -> Any:
        env_key = f"{ENV_PREFIX}{section}_{key}".upper()
        if env_key in self.env:
            return self.env[env_key]
        block = self.data.get(section, {})
        if not isinstance(block, dict):
            raise ConfigError(
                self.file, f"[{section}]", "is not a table", f"write a [{section}] section"
            )
        return block.get(key)

    def text(self, section: str, key: str, required: bool = True) -> Any:
        value = self._raw(section, key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise ConfigError(
                    self.file,
                    f"[{section}] {key}",
                    "missing",
                    f'add {key} = "..." to the [{section}] section',
                )
            return None
        if not isinstance(value, str):
            raise ConfigError(
                self.file,
                f"[{section}] {key}",
                f"{value!r} is not text",
                'write it in quotes: key = "..."',
            )
        return value.strip()

    def names(self, section: str, key: str) -> tuple[str, ...]:
        """A list of people: a TOML array, or (from the environment) comma-separated."""
        value = self._raw(section, key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(
                self.file,
                f"[{section}] {key}",
                f"{value!r} is not a list of names",
                f'write {key} = ["First Last", "First Last"]',
            )
        return tuple(v.strip() for v in value if v.strip())

    def integer(self, section: str, key: str, default: int) -> int:
        value = self._raw(section, key)
        if value is None:
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(
                self.file,
                f"[{section}] {key}",
                f"{value!r} is not a whole number",
                f"write e.g. {key} = {default}",
            ) from None
        if number < 0:
            raise ConfigError(self.file, f"[{section}] {key}", "must not be negative")
        return number

    def boolean(self, section: str, key: str, default: bool) -> bool:
        value = self._raw(section, key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(
            self.file,
            f"[{section}] {key}",
            f"{value!r} is not true or false",
            f"write {key} = true or {key} = false",
        )

    def table(self, section: str, key: str) -> dict[str, str]:
        value = self.data.get(section, {}).get(key) or {}
        if not isinstance(value, dict):
            raise ConfigError(
                self.file,
                f"[{section}] {key}",
                "is not a table",
                f'write {key} = {{ Name = "value" }}',
            )
        out = {str(k): str(v) for k, v in value.items()}
        prefix = f"{ENV_PREFIX}{section}_{key}_".upper()
        for env_key, env_value in self.env.items():
            if env_key.startswith(prefix):
                name = env_key[len(prefix) :]
                match = next((k for k in out if k.upper() == name), None)
                out[match or name.title()] = env_value
        return out
