# language: de
Funktionalität: Zahlungsanreize der Richtlinie (Issue 19)
  Als Finanzleitung will ich guten Zahlern mit der Erinnerung einen befristeten Nachlass
  anbieten können (`offer discount 2 % until 14d after due`), den die Maschine bei
  rechtzeitiger Zahlung genau wie Skonto anerkennt und als Nachlass mit der Zeile der
  Richtlinie bucht.

  Szenario: Ein angebotener Nachlass, rechtzeitig genutzt, begleicht die Rechnung
    Die Richtlinie bietet guten Zahlern mit der Erinnerung 2 % Nachlass bis 14 Tage nach
    Fälligkeit; die Kundin zahlt 98 % am zehnten Tag nach Fälligkeit.
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "anreiz" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment geschaeft when customer.type == B2B use gute
        segment default use gute
        ladder gute {
          state erinnerung "Zahlungserinnerung" at 3d after due {
            email "zahlungserinnerung"
            offer discount 2 % until 14d after due
          }
          state mahnung_1 "1. Mahnung" after 14d in erinnerung { letter "mahnung_1"; wait }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name        | Typ | Bundesland | E-Mail            |
      | K1           | Muster GmbH | B2B | BY         | ap@muster.example |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R2              | K1           | 2025-03-03     | 2025-03-17 | 500,00 |
    Wenn der Mahnlauf täglich vom 2025-03-13 bis zum 2025-03-26 läuft
    Und die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z2          | 2025-03-27    | 490,00 | R2              |
    Und der Mahnlauf täglich vom 2025-03-27 bis zum 2025-04-30 läuft
    Dann steht "R2" im Zustand "paid"
    Und betragen die Nachlässe auf "R2" insgesamt -10,00 EUR
    Und nennen die Buchungen "discount" von "R2" die Regel "richtlinie_1.mahn:11"
    Und liegen für "R2" im Postausgang:
      | Kanal | Vorlage            |
      | email | zahlungserinnerung |
