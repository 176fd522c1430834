# language: de
Funktionalität: Datenschutz – Auskunft, Löschung und Aufbewahrung (E2)
  Als Finanzleitung will ich einem Kunden auf Verlangen alles zeigen, was wir über ihn
  speichern (Art. 15 DSGVO), und seine Daten löschen, sobald keine Forderung mehr offen ist
  und die Aufbewahrungsfristen (§ 147 AO, § 257 HGB: zehn Jahre) es erlauben (Art. 17).

  Grundlage: Ein Verbraucher mit einer Rechnung, die gemahnt wurde
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "standard" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state erinnerung "Zahlungserinnerung" at 11d after due {
            letter "zahlungserinnerung"
          }
          state mahnung "1. Mahnung" after 14d in erinnerung {
            letter "mahnung_1"
            fee 1.00 EUR
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland | E-Mail                  | Telefon        |
      | K1           | Anna Schmidt | B2C | BE         | anna.schmidt@example.de | +49 30 1234567 |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 300,00 |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-09-01 gelaufen ist

  Szenario: Art. 15 – die Auskunft enthält alles, was über die Rechnung gespeichert ist
    Wenn die Auskunft über "K1" erstellt wird
    Dann enthält die Auskunft jede Rechnung, Buchung, Nachricht und Entscheidung zu "R1"

  Szenario: Art. 17 Abs. 3 – solange die Forderung offen ist, wird nicht gelöscht
    Wenn "Datenschutz Team" am 2025-09-02 die Löschung der Daten von "K1" verlangt
    Dann wird die Löschung abgelehnt mit "R1"
    Und enthält die Auskunft über "K1" "anna.schmidt@example.de"

  Szenario: Vor Ablauf der Aufbewahrung wird eingeschränkt, danach anonymisiert
    Angenommen die Zahlungen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z1          | 2025-09-05    | 301,00 | R1              |
    Und der Mahnlauf am 2025-09-06 gelaufen ist
    Wenn "Datenschutz Team" am 2025-10-01 die Löschung der Daten von "K1" verlangt
    Dann sind die Daten von "K1" eingeschränkt
    Und enthält die Auskunft über "K1" nirgends "anna.schmidt@example.de"
    Und enthält die Auskunft über "K1" nirgends "1234567"
    # Name und Anschrift gehören zum Buchungsbeleg (§ 14 Abs. 4 UStG) und bleiben bis 2035.
    Und enthält die Auskunft über "K1" "Anna Schmidt"
    Wenn "Datenschutz Team" am 2036-01-02 die Löschung der Daten von "K1" verlangt
    Dann sind die Daten von "K1" anonymisiert
    Und enthält die Auskunft über "K1" nirgends "Anna Schmidt"
