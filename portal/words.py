"""Everything the portal says, in German and English: one table, one key per phrase.

The page's language is the customer's (`customer.language`); anything else falls back to
German.  Phrases with `{…}` are `str.format` templates filled by the page; the page's
template escapes whatever is filled in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mahnwerk.engine.customer_view import Upcoming

WORDS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Ihr Kundenkonto bei {creditor}",
        "skip": "Zum Inhalt springen",
        "hello": "Guten Tag {name}",
        "intro": "Hier sehen Sie Ihre offenen Rechnungen, unsere Schreiben an Sie und was als "
        "Nächstes geschieht. Sie können bezahlen, widersprechen, eine Zahlung zusagen oder "
        "Raten vereinbaren.",
        "customer_no": "Kundennummer",
        "open_invoices": "Offene Rechnungen",
        "none_open": "Sie haben keine offenen Rechnungen. Vielen Dank!",
        "total": "Insgesamt offen",
        "invoice": "Rechnung",
        "issued": "Rechnungsdatum",
        "due": "Fällig am",
        "amount": "Rechnungsbetrag",
        "principal": "Offener Rechnungsbetrag",
        "interest": "Verzugszinsen",
        "interest_line": "{rate} p. a. auf {principal} vom {start} bis {end} ({days} Tage)",
        "payments": "Ihre Zahlungen",
        "paid_on": "Zahlung vom {day}",
        "balance": "Offen",
        "next": "Wie es weitergeht",
        "told": "Ihre Nachricht vom {day} liegt uns vor und wird bearbeitet.",
        "letters": "Unsere Schreiben an Sie",
        "no_letters": "Noch keine Schreiben.",
        "letter": "Brief",
        "email": "E-Mail",
        "pdf": "PDF öffnen",
        "actions": "Was möchten Sie tun?",
        "pay": "Bezahlen",
        "dispute": "Widersprechen",
        "promise": "Zahlung zusagen",
        "plan": "Raten vereinbaren",
        "feedback": "Sagen Sie uns, warum",
        "contact": "Kontaktdaten und Benachrichtigungen",
        "back": "Zurück zur Übersicht",
        "language": "Sprache",
        "link_bad": "Dieser Link ist ungültig. Bitte verwenden Sie den Link aus unserem "
        "letzten Schreiben oder rufen Sie uns an: {phone}.",
        "link_expired": "Dieser Link ist abgelaufen. Den aktuellen Link finden Sie in unserem "
        "letzten Schreiben, oder rufen Sie uns an: {phone}.",
        "link_revoked": "Dieser Link wurde gesperrt. Bitte rufen Sie uns an: {phone}.",
        "too_many": "Zu viele Anfragen. Bitte warten Sie eine Minute und versuchen Sie es erneut.",
        "valid_until": "Dieser Link gilt bis {day}.",
        "contact_us": "Fragen? Telefon {phone}, E-Mail {email}",
        "next_new": "Wir haben die Rechnung erfasst. Bitte zahlen Sie bis zum Fälligkeitstag.",
        "next_terminal": "Zu dieser Rechnung ist nichts mehr zu tun.",
        "next_approval": "Wir prüfen den Vorgang. Vor einer Entscheidung erhalten Sie nichts "
        "weiter von uns.",
        "next_held": "Der Vorgang ruht. Sie erhalten vorerst keine weiteren Schreiben.",
        "next_disputed": "Sie haben widersprochen. Bis wir Ihren Einwand geklärt haben, "
        "mahnen wir nicht weiter.",
        "next_paused": "Der Vorgang ruht ({reason}). Am {day} sehen wir wieder nach.",
        "next_paused_open": "Der Vorgang ruht ({reason}).",
        "next_step": "Wenn bis {day} keine Zahlung eingeht, folgt: {what}.",
        "next_waits": "Zurzeit ist kein weiterer Schritt geplant.",
    },
    "en": {
        "title": "Your account with {creditor}",
        "skip": "Skip to content",
        "hello": "Hello {name}",
        "intro": "Here you see your open invoices, our letters to you and what happens next. "
        "You can pay, dispute an invoice, promise a payment or agree instalments.",
        "customer_no": "Customer number",
        "open_invoices": "Open invoices",
        "none_open": "You have no open invoices. Thank you!",
        "total": "Total open",
        "invoice": "Invoice",
        "issued": "Invoice date",
        "due": "Due on",
        "amount": "Invoice amount",
        "principal": "Invoice amount open",
        "interest": "Default interest",
        "interest_line": "{rate} p.a. on {principal} from {start} to {end} ({days} days)",
        "payments": "Your payments",
        "paid_on": "Payment of {day}",
        "balance": "Open",
        "next": "What happens next",
        "told": "We have your message of {day} and are dealing with it.",
        "letters": "Our letters to you",
        "no_letters": "No letters yet.",
        "letter": "Letter",
        "email": "E-mail",
        "pdf": "Open PDF",
        "actions": "What would you like to do?",
        "pay": "Pay",
        "dispute": "Dispute",
        "promise": "Promise to pay",
        "plan": "Pay in instalments",
        "feedback": "Tell us why",
        "contact": "Contact details and notifications",
        "back": "Back to the overview",
        "language": "Language",
        "link_bad": "This link is not valid. Please use the link in our latest letter or call "
        "us: {phone}.",
        "link_expired": "This link has expired. You find the current link in our latest "
        "letter, or call us: {phone}.",
        "link_revoked": "This link was blocked. Please call us: {phone}.",
        "too_many": "Too many requests. Please wait a minute and try again.",
        "valid_until": "This link is valid until {day}.",
        "contact_us": "Questions? Phone {phone}, e-mail {email}",
        "next_new": "We have recorded the invoice. Please pay by its due date.",
        "next_terminal": "Nothing more is to be done about this invoice.",
        "next_approval": "We are reviewing the case. You will hear nothing further from us "
        "before a decision.",
        "next_held": "The case is on hold. You will receive no further letters for now.",
        "next_disputed": "You disputed this invoice. We send no further reminders until we "
        "have resolved your objection.",
        "next_paused": "The case is paused ({reason}). We will look at it again on {day}.",
        "next_paused_open": "The case is paused ({reason}).",
        "next_step": "If no payment arrives by {day}, the next step is: {what}.",
        "next_waits": "No further step is planned at the moment.",
    },
}

#: Why a case is paused, as the customer reads it (the engine's `pause_reason` words).
PAUSE_WORDS = {
    "de": {"promise": "Zahlungszusage", "plan": "Ratenzahlung", "death": "Todesfall"},
    "en": {"promise": "promise to pay", "plan": "instalment plan", "death": "bereavement"},
}


def words(language: str) -> dict[str, str]:
    return WORDS.get(language, WORDS["de"])


def _pause(reason: str | None, language: str) -> str:
    text = (reason or "").lower()
    for key, said in PAUSE_WORDS.get(language, PAUSE_WORDS["de"]).items():
        if key in text:
            return said
    return reason or ""


def next_words(u: Upcoming, language: str, day: Callable[[Any], str]) -> str:
    """The engine's next step (`customer_view.upcoming`) as the customer reads it: the day
    and the step's title from the policy (its words for the step, e.g. "1. Mahnung")."""
    w = words(language)
    if u.kind == "paused":
        if u.on is None:
            return w["next_paused_open"].format(reason=_pause(u.reason, language))
        return w["next_paused"].format(reason=_pause(u.reason, language), day=day(u.on))
    if u.kind == "step":
        return w["next_step"].format(day=day(u.on), what=u.title or u.target)
    return w[f"next_{u.kind}"]


#: The forms, their refusals and their confirmations.
WORDS["de"].update(
    {
        "girocode": "GiroCode zum Bezahlen mit der Banking-App",
        "pay_intro": "Überweisen Sie bitte {amount} mit dem Verwendungszweck „{reference}“ auf "
        "unser Konto. Mit der Banking-App können Sie den GiroCode scannen; alle Angaben sind "
        "dann schon ausgefüllt.",
        "pay_intro_many": "Bitte überweisen Sie {amount} in {n} Überweisungen – so viele "
        "Rechnungsnummern passen nicht in einen Verwendungszweck. Je GiroCode eine Überweisung:",
        "pay_quoting": "{amount} mit dem Verwendungszweck „{reference}“",
        "pay_one": "Ihre Überweisung: {amount}",
        "pay_part": "Überweisung {n} von {of}: {amount}",
        "pays_invoices": "Diese Überweisung bezahlt:",
        "girocode_for": "GiroCode für {amount} mit dem Verwendungszweck „{reference}“ – mit der "
        "Banking-App scannen",
        "amount_to_pay": "Betrag",
        "no_code": "Für diese Auswahl können wir keinen GiroCode zeigen; bitte überweisen Sie mit "
        "den Angaben oben.",
        "choose_invoices": "Welche Rechnungen möchten Sie bezahlen?",
        "choose_apply": "Auswahl übernehmen",
        "pay_choose": "Rechnungen auswählen und bezahlen",
        "recipient": "Empfänger",
        "iban": "IBAN",
        "bic": "BIC",
        "reference": "Verwendungszweck",
        "provider": "Online bezahlen",
        "dispute_intro": "Stimmt etwas mit Rechnung {invoice} nicht? Sagen Sie uns, was. Bis wir "
        "Ihren Einwand geklärt haben, mahnen wir diese Rechnung nicht weiter.",
        "reason": "Grund",
        "text": "Ihre Nachricht (freiwillig, höchstens 2000 Zeichen)",
        "file": "Beleg anhängen (freiwillig: PDF, JPEG oder PNG, höchstens {mb} MB)",
        "send": "Absenden",
        "r_not_received": "Ware oder Leistung nicht erhalten",
        "r_wrong_amount": "Betrag falsch",
        "r_already_paid": "Bereits bezahlt",
        "r_defect": "Mangel an Ware oder Leistung",
        "r_not_ordered": "Nicht bestellt",
        "r_other": "Anderer Grund",
        "promise_intro": "Bis wann zahlen Sie Rechnung {invoice}? Wählen Sie einen Tag bis "
        "spätestens {latest}. Bis dahin mahnen wir nicht.",
        "promise_rule": "Sie können für eine Rechnung höchstens zweimal eine Zahlung zusagen.",
        "until": "Ich zahle bis zum",
        "promises_left": "Zusagen möglich: {n}",
        "plan_intro": "Sie können Rechnung {invoice} ({amount}) in Raten zahlen.",
        "plan_offer": "Wir bieten bis zu {n} Monatsraten an.",
        "plan_no_offer": "Für diese Rechnung bieten wir keine Ratenzahlung an; Sie können uns "
        "aber darum bitten. Ein Mitarbeiter meldet sich dann bei Ihnen.",
        "plan_beyond": "Mehr Raten als angeboten? Wählen Sie die Zahl; wir prüfen Ihre Bitte.",
        "count": "Anzahl der Raten",
        "schedule": "Ratenplan bei {n} Raten",
        "accept": "Ratenplan annehmen",
        "ask": "Um Ratenzahlung bitten",
        "feedback_intro": "Warum ist die Zahlung noch offen? Ihre Antwort hilft uns, besser zu "
        "werden. Sie ist freiwillig.",
        "f_forgot": "Vergessen",
        "f_cash_flow": "Finanzieller Engpass",
        "f_unclear": "Rechnung unklar",
        "f_not_received": "Rechnung nicht erhalten",
        "f_disagree": "Nicht einverstanden",
        "f_other": "Anderes",
        "contact_intro": "Ihre Kontaktdaten und wie wir Sie benachrichtigen dürfen.",
        "e_mail": "E-Mail-Adresse",
        "phone": "Telefonnummer",
        "opt_out": "Keine Nachrichten per …",
        "o_email": "E-Mail",
        "o_sms": "SMS",
        "opt_out_note": "Briefe schicken wir weiterhin, wenn nötig.",
        "save": "Speichern",
        "choose": "Bitte wählen",
        "error": "Bitte prüfen Sie Ihre Eingabe",
        "form_bad": "Das Formular ist ungültig. Bitte laden Sie die Seite neu.",
        "form_used": "Dieses Formular wurde bereits abgeschickt. Bitte laden Sie die Seite neu, "
        "wenn Sie noch etwas mitteilen möchten.",
        "not_yours": "Diese Rechnung finden wir in Ihrem Kundenkonto nicht.",
        "reason_missing": "Bitte wählen Sie einen Grund.",
        "text_long": "Der Text ist zu lang.",
        "already_disputed": "Sie haben dieser Rechnung bereits widersprochen.",
        "date_bad": "Bitte geben Sie ein Datum an.",
        "date_range": "Bitte wählen Sie einen Tag zwischen morgen und dem genannten letzten Tag.",
        "promises_used": "Für diese Rechnung sind keine weiteren Zusagen möglich.",
        "count_bad": "Bitte wählen Sie die Anzahl der Raten.",
        "plan_not_now": "Für diese Rechnung ist gerade keine Ratenzahlung möglich.",
        "email_bad": "Die E-Mail-Adresse ist nicht gültig.",
        "phone_bad": "Die Telefonnummer ist nicht gültig.",
        "opt_out_bad": "Unbekannte Auswahl.",
        "upload_large": "Die Datei ist zu groß.",
        "upload_type": "Nur PDF-, JPEG- oder PNG-Dateien sind möglich.",
        "upload_scan": "Die Datei konnte nicht geprüft werden. Bitte versuchen Sie es später.",
        "upload_infected": "Die Datei wurde abgelehnt.",
        "thanks": "Vielen Dank",
        "mailed": "Wir haben Ihnen eine Bestätigung per E-Mail geschickt.",
        "not_mailed": "Die Bestätigung per E-Mail konnte nicht gesendet werden; Ihre Angabe ist "
        "trotzdem bei uns eingegangen.",
        "done_dispute": "Ihr Widerspruch zu Rechnung {invoices} ist eingegangen. Bis zur "
        "Klärung mahnen wir diese Rechnung nicht weiter.",
        "done_promise": "Ihre Zusage, Rechnung {invoices} bis zum {day} zu zahlen, ist "
        "eingegangen.",
        "done_plan": "Der Ratenplan für Rechnung {invoices} ist vereinbart:",
        "done_plan_request": "Ihre Bitte um {count} Raten für Rechnung {invoices} ist eingegangen. "
        "Wir melden uns bei Ihnen.",
        "done_feedback": "Danke für Ihre Antwort.",
        "done_contact": "Ihre Kontaktdaten sind gespeichert.",
        "mail_subject": "Ihre Nachricht an {creditor}",
        "mail_closing": "Mit freundlichen Grüßen\n{creditor}",
        "none_open_pay": "Keine offene Rechnung.",
        "term_skonto": "Skonto: Bei Zahlung bis zum {day} zahlen Sie nur {pay} ({percent} % "
        "weniger).",
        "term_discount": "Nachlass: Bei Zahlung bis zum {day} zahlen Sie nur {pay} ({percent} % "
        "weniger).",
    }
)
WORDS["en"].update(
    {
        "girocode": "GiroCode to pay with your banking app",
        "pay_intro": "Please transfer {amount} to our account quoting the reference "
        "\"{reference}\". Your banking app can scan the GiroCode; everything is then filled in.",
        "pay_intro_many": "Please transfer {amount} in {n} transfers – that many invoice numbers "
        "do not fit one reference. One transfer per GiroCode:",
        "pay_quoting": "{amount} quoting the reference \"{reference}\"",
        "pay_one": "Your transfer: {amount}",
        "pay_part": "Transfer {n} of {of}: {amount}",
        "pays_invoices": "This transfer pays:",
        "girocode_for": "GiroCode for {amount} with the reference \"{reference}\" – scan it "
        "with your banking app",
        "amount_to_pay": "Amount",
        "no_code": "We cannot show a GiroCode for this choice; please transfer with the details "
        "above.",
        "choose_invoices": "Which invoices do you want to pay?",
        "choose_apply": "Apply this choice",
        "pay_choose": "Choose invoices and pay",
        "recipient": "Payee",
        "iban": "IBAN",
        "bic": "BIC",
        "reference": "Reference",
        "provider": "Pay online",
        "dispute_intro": "Is something wrong with invoice {invoice}? Tell us what. We send no "
        "further reminders about it until we have resolved your objection.",
        "reason": "Reason",
        "text": "Your message (optional, at most 2000 characters)",
        "file": "Attach a document (optional: PDF, JPEG or PNG, at most {mb} MB)",
        "send": "Send",
        "r_not_received": "Goods or service not received",
        "r_wrong_amount": "Wrong amount",
        "r_already_paid": "Already paid",
        "r_defect": "Defective goods or service",
        "r_not_ordered": "Not ordered",
        "r_other": "Other reason",
        "promise_intro": "By when will you pay invoice {invoice}? Choose a day no later than "
        "{latest}. Until then we send no reminders.",
        "promise_rule": "You can promise a payment at most twice for an invoice.",
        "until": "I will pay by",
        "promises_left": "Promises left: {n}",
        "plan_intro": "You can pay invoice {invoice} ({amount}) in instalments.",
        "plan_offer": "We offer up to {n} monthly instalments.",
        "plan_no_offer": "We offer no instalments for this invoice, but you may ask for them. "
        "Someone will get in touch with you.",
        "plan_beyond": "More instalments than offered? Choose the number; we will review your "
        "request.",
        "count": "Number of instalments",
        "schedule": "Schedule with {n} instalments",
        "accept": "Accept this plan",
        "ask": "Ask for instalments",
        "feedback_intro": "Why is the payment still open? Your answer helps us do better. It is "
        "optional.",
        "f_forgot": "Forgot",
        "f_cash_flow": "Cash-flow problem",
        "f_unclear": "Invoice unclear",
        "f_not_received": "Invoice not received",
        "f_disagree": "Disagree",
        "f_other": "Other",
        "contact_intro": "Your contact details and how we may notify you.",
        "e_mail": "E-mail address",
        "phone": "Phone number",
        "opt_out": "No messages by …",
        "o_email": "E-mail",
        "o_sms": "Text message (SMS)",
        "opt_out_note": "We will still send letters where needed.",
        "save": "Save",
        "choose": "Please choose",
        "error": "Please check your entry",
        "form_bad": "This form is not valid. Please reload the page.",
        "form_used": "This form was already sent. Please reload the page if you want to tell us "
        "more.",
        "not_yours": "We cannot find this invoice in your account.",
        "reason_missing": "Please choose a reason.",
        "text_long": "The text is too long.",
        "already_disputed": "You have already disputed this invoice.",
        "date_bad": "Please enter a date.",
        "date_range": "Please choose a day between tomorrow and the last day given.",
        "promises_used": "No further promises are possible for this invoice.",
        "count_bad": "Please choose the number of instalments.",
        "plan_not_now": "Instalments are not possible for this invoice at the moment.",
        "email_bad": "The e-mail address is not valid.",
        "phone_bad": "The phone number is not valid.",
        "opt_out_bad": "Unknown choice.",
        "upload_large": "The file is too large.",
        "upload_type": "Only PDF, JPEG or PNG files are accepted.",
        "upload_scan": "The file could not be checked. Please try again later.",
        "upload_infected": "The file was rejected.",
        "thanks": "Thank you",
        "mailed": "We have sent you a confirmation by e-mail.",
        "not_mailed": "The confirmation e-mail could not be sent; we have received your message "
        "all the same.",
        "done_dispute": "Your objection to invoice {invoices} has been received. We send no "
        "further reminders about it until it is resolved.",
        "done_promise": "Your promise to pay invoice {invoices} by {day} has been received.",
        "done_plan": "The instalment plan for invoice {invoices} is agreed:",
        "done_plan_request": "Your request for {count} instalments for invoice {invoices} has "
        "been received. We will get in touch.",
        "done_feedback": "Thank you for your answer.",
        "done_contact": "Your contact details are saved.",
        "mail_subject": "Your message to {creditor}",
        "mail_closing": "Kind regards\n{creditor}",
        "none_open_pay": "No open invoice.",
        "term_skonto": "Early-payment discount: pay by {day} and you pay only {pay} ({percent} % "
        "less).",
        "term_discount": "Discount: pay by {day} and you pay only {pay} ({percent} % less).",
    }
)
