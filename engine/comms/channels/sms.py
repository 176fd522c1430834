"""SMS through the provider's webhook (`engine/comms/sms.py`, `[sms]` in the settings).

"Sent" is recorded after the provider's 2xx answer; every attempt of a message
carries the same `Idempotency-Key`.  D1: SMS only 08:00–20:00 local time unless
the policy says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mahnwerk.engine.comms.channels.base import DAYTIME_ONLY, Job, mobile_number, write_file

if TYPE_CHECKING:
    from mahnwerk.engine.comms.config import Settings
    from mahnwerk.engine.comms.planning import Bundle


class SmsChannel:
    name = "sms"
    templates = "sms"
    paper = False
    batched = False
    written = False
    fallback = "letter"
    opt_out = True
    quiet_hours = DAYTIME_ONLY
    unit_cost = "0.09"  # EUR: an SMS
    label_de = "SMS"

    def check_settings(self, settings: Settings) -> None:
        settings.need_sms()

    def recipient(self, bundle: Bundle) -> tuple[str | None, str | None]:
        return mobile_number(bundle.customer.phone)

    def transmit(self, job: Job, bundle: Bundle, recipient: str | None) -> str:
        from mahnwerk.engine.comms.sms import SmsWebhook

        hook = job.transport(self.name, lambda: SmsWebhook(job.settings.need_sms(), job.store))
        assert bundle.rendered is not None
        text, creditor = bundle.rendered.text, job.settings.creditor.name
        return hook.send(recipient or "", text, bundle.message_id, creditor)

    def dry_run_file(self, job: Job, bundle: Bundle) -> Path:
        assert bundle.rendered is not None
        text = f"To: {bundle.customer.phone}\n\n{bundle.rendered.text}\n"
        return write_file(job, job.folder / f"{job.stem(bundle)}.sms.txt", text.encode())


CHANNEL = SmsChannel()
