# language: de
Funktionalität: Skonto und Zahlungsanreize (Issue 19)
  Als Finanzleitung will ich, dass ein Kunde, der Skonto rechtzeitig abzieht, als bezahlt
  gilt und keine Mahnung bekommt; dass ein zu spät abgezogenes Skonto als eigene Forderung
  offen bleibt und höflich nachgefordert wird, nicht mit Gebühr und Inkasso; dass Verzug
  und Zinsen erst ab dem Nettoziel laufen; und dass E-Rechnungen ihre Skontostufen behalten.

  Hintergrund:
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "skonto" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits { minimum balance 5.00 EUR }
        segment geschaeft when customer.type == B2B use b2b
        segment default use b2b_ohne_pauschale
        ladder b2b {
          state erinnerung "Zahlungserinnerung" at 7d after due { email "zahlungserinnerung" }
          state mahnung_1 "1. Mahnung" after 14d in erinnerung { letter "mahnung_1"; fee 2.50 EUR; lump sum; interest statutory }
          state inkasso "Inkasso" after 14d in mahnung_1 { approval by 1; handover to "Inkasso GmbH" }
        }
        ladder b2b_ohne_pauschale {
          state erinnerung "Zahlungserinnerung" at 7d after due { email "zahlungserinnerung" }
          state mahnung_1 "1. Mahnung" after 14d in erinnerung { letter "mahnung_1"; fee 2.50 EUR; wait }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name        | Typ | Bundesland | E-Mail             |
      | K1           | Muster GmbH | B2B | BY         | ap@muster.example  |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Skonto 1 Tage | Skonto 1 Prozent |
      | R1              | K1           | 2025-03-03     | 2025-04-02 | 1.200,00 | 10            | 2,00             |
    Und der Mahnlauf täglich vom 2025-03-03 bis zum 2025-03-12 gelaufen ist

  Szenario: Skonto rechtzeitig abgezogen: die Rechnung ist bezahlt, keine Erinnerung folgt
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag   | Rechnungsnummer |
      | Z1          | 2025-03-13    | 1.176,00 | R1              |
    Und der Mahnlauf täglich vom 2025-03-13 bis zum 2025-05-31 läuft
    Dann steht "R1" im Zustand "paid"
    Und schuldet "R1" noch 0,00 EUR
    Und zeigt das Hauptbuch von "R1" die Buchungen:
      | Art       | Betrag    | Datum      |
      | principal | 1.200,00  | 2025-03-03 |
      | skonto    | -24,00    | 2025-03-13 |
      | payment   | -1.176,00 | 2025-03-13 |
    Und liegt für "R1" keine Nachricht im Postausgang
    Und nennt der Verlauf von "R1" "Skonto 2 % (10 Tage, bis 2025-03-13) earned"

  Szenario: Skonto einen Tag zu spät abgezogen: der Abzug bleibt offen, das Skontoschreiben geht hinaus, keine Mahnung
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag   | Rechnungsnummer |
      | Z1          | 2025-03-14    | 1.176,00 | R1              |
    Und der Mahnlauf täglich vom 2025-03-13 bis zum 2025-05-31 läuft
    Dann steht "R1" im Zustand "open"
    Und ist die Hauptforderung von "R1" noch 24,00 EUR offen
    Und liegen für "R1" im Postausgang:
      | Kanal  | Vorlage              |
      | letter | skonto_nachforderung |
    Und bucht das Hauptbuch von "R1" keine Mahngebühren
    Und bucht das Hauptbuch von "R1" keine Pauschale
    Und bucht das Hauptbuch von "R1" keine Skonti
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "Inkassoübergabe"
    Und nennt der Verlauf von "R1" "unjustified Skonto deduction: 24.00 deducted by a payment credited 2025-03-14"

  Szenario: Ohne Skonto läuft der Verzug erst ab dem Nettoziel
    Wenn der Mahnlauf täglich vom 2025-03-13 bis zum 2025-04-08 läuft
    Dann steht "R1" im Zustand "open"
    Und liegt für "R1" keine Nachricht im Postausgang
    Und ist "R1" am 2025-04-02 nicht in Verzug

  Szenario: Eine E-Rechnung mit drei Skontostufen wird mit allen drei eingelesen
    Wenn die E-Rechnung "tests/data/xrechnung/01.10a-INVOICE_uncefact.xml" eingelesen wird
    Dann hat "Rechnungsnummer" die Skontostufen:
      | Tage | Prozent |
      | 7    | 2,00    |
      | 14   | 1,00    |
      | 30   | 0,00    |

