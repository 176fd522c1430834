"""A letter shop: the letter's PDF POSTed to a print service that prints and posts it.

Instead of a print batch on disk for someone to carry to the printer, each letter
goes to the shop's web address as it is dispatched:

    [letter_shop]
    url = "http://127.0.0.1:8040/print"      # the print service
    headers = { Authorization = "Bearer ..." }   # or $MAHNWERK_LETTER_SHOP_HEADERS_AUTHORIZATION
    timeout = 30

The request body is the PDF (`Content-Type: application/pdf`); `Idempotency-Key`
is the message's id, the same on every attempt, so a shop that honours it prints
a letter once even when a dispatcher died after the upload and sends it again.
"Sent" is recorded after the shop's 2xx answer (`webhook.post` says which answers
are retried).  A copy of each PDF stays in the day's letters folder, as a letter's
does.  A letter shop message is a letter in every other respect: rendered from the
letter templates, to the postal address, carrying parked residuals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mahnwerk.engine.comms.channels.base import Job, postal_address, write_file
from mahnwerk.engine.comms.channels.letter import pdf_of

if TYPE_CHECKING:
    from mahnwerk.engine.comms.config import Settings
    from mahnwerk.engine.comms.planning import Bundle


@dataclass(frozen=True, slots=True)
class Shop:
    url: str
    headers: dict[str, str]
    timeout: float


def shop(settings: Settings) -> Shop:
    """`[letter_shop]`, or a `ConfigError` naming the file and key."""
    from mahnwerk.engine.comms.config import ConfigError

    r = settings.reader()
    url = r.text("letter_shop", "url")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(settings.path, "[letter_shop] url", f"{url!r} is not a web address",
                          "write http(s)://host/path of the print service")  # fmt: skip
    timeout = float(r.integer("letter_shop", "timeout", 30))
    return Shop(url, r.table("letter_shop", "headers"), timeout)


class LetterShopChannel:
    name = "letter_shop"
    templates = "letter"
    paper = True
    batched = False
    written = True
    fallback = None
    opt_out = False
    quiet_hours = ()
    unit_cost = "0.95"  # EUR: as a letter: print, envelope and postage
    label_de = "Brief (Druckdienst)"

    def check_settings(self, settings: Settings) -> None:
        shop(settings)

    def recipient(self, bundle: Bundle) -> tuple[str | None, str | None]:
        return postal_address(bundle)

    def transmit(self, job: Job, bundle: Bundle, recipient: str | None) -> str:
        import httpx

        from mahnwerk.engine.comms.webhook import post

        cfg = shop(job.settings)
        pdf = pdf_of(job, bundle)
        # the copy of what the debtor receives, where the letters' copies are kept: the
        # court dossier (accounting/dossier.py) attaches it like any letter's
        write_file(job, job.folder / f"{job.stem(bundle)}.pdf", pdf)
        client = job.transport(self.name, lambda: httpx.Client(timeout=cfg.timeout))
        headers = {
            "Content-Type": "application/pdf",
            "Idempotency-Key": bundle.message_id,
            "Content-Disposition": f'attachment; filename="{job.stem(bundle)}.pdf"',
            **cfg.headers,
        }
        return post(client, cfg.url, pdf, headers, "letter shop")

    def dry_run_file(self, job: Job, bundle: Bundle) -> Path:
        path = job.folder / f"{job.stem(bundle)}.letter_shop.pdf"
        return write_file(job, path, pdf_of(job, bundle))


CHANNEL = LetterShopChannel()
