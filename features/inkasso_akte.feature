# language: de
Funktionalität: Die Akte für das Inkassounternehmen – was übergeben wird, stimmt mit dem Hauptbuch
  Als Finanzleitung will ich bei der Übergabe an das Inkassounternehmen eine Akte, die alles
  enthält, was das Unternehmen nach § 13a RDG dem Schuldner sagen muss und zum Weiterarbeiten
  braucht: Gläubiger, Schuldner mit Anschrift und Kontakt, Rechnung, Hauptforderung, jede
  Zinszeile mit Satz und Zeitraum, Gebühren, die Pauschale, Zahlungen, die versandten Briefe.
  Die Zahlen sind die des Hauptbuchs; das Dossier enthält die Briefe, wie sie versandt wurden.

  Grundlage: Eine Leiter aus Briefen bis zur Übergabe
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "akte" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment firmen when customer.type == B2B use standard
        segment default use privat
        ladder standard {
          state mahnung "Mahnung" at 14d after due {
            letter "mahnung_1"
            interest statutory
          }
          state letzte "Letzte Mahnung" after 14d in mahnung {
            letter "letzte_mahnung"
            fee 2.50 EUR
            lump sum
          }
          state inkasso "Übergabe an Inkasso" after 14d in letzte {
            letter "inkasso_ankuendigung"
            approval by 1
            handover to "Inkasso Partner GmbH"
          }
        }
        ladder privat {
          state erinnerung "Zahlungserinnerung" at 14d after due {
            letter "zahlungserinnerung"
          }
          state klaerung after 14d in erinnerung { notify "team"; wait }
        }
      }
      """

  Szenario: Die Übergabe erzeugt Fallakte und Dossier, und ihre Beträge sind die des Hauptbuchs
    Angenommen die Kunden:
      | Kundennummer | Name            | Typ | Bundesland | Straße       | PLZ   | Ort     | E-Mail          | Telefon         |
      | K1           | Holzbau Lenz KG | B2B | BY         | Sägeweg 3    | 80331 | München | info@lenz.test  | +49 89 1234567  |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   |
      | R1              | K1           | 2025-06-02     | 2025-06-16 | 2.400,00 |
    Und der Mahnlauf täglich vom 2025-06-16 bis zum 2025-07-01 gelaufen ist
    Und die Post vom 2025-07-01 verschickt wurde
    Und die Zahlungen:
      | Zahlungsnummer | Rechnungsnummer | Datum      | Betrag |
      | Z1             | R1              | 2025-07-08 | 400,00 |
    Und der Mahnlauf täglich vom 2025-07-02 bis zum 2025-07-15 gelaufen ist
    Und die Post vom 2025-07-15 verschickt wurde
    Und der Mahnlauf täglich vom 2025-07-16 bis zum 2025-07-29 gelaufen ist
    Wenn "Petra Vogel" die Eskalation von "R1" am 2025-07-29 freigibt
    Und der Mahnlauf am 2025-07-29 läuft
    Und die Post vom 2025-07-29 verschickt wird
    Und die Akte für "Inkasso Partner GmbH" erstellt wird
    Dann steht "R1" im Zustand "handed_over"
    Und enthält die Akte "R1" mit dem Schuldner "Holzbau Lenz KG, Sägeweg 3, 80331 München"
    Und nennt die Akte von "R1" die Kontakte "info@lenz.test" und "+49 89 1234567"
    Und stimmen die Beträge der Akte von "R1" mit dem Hauptbuch überein
    Und nennt die Akte von "R1" die Zahlung vom 2025-07-08 über 400,00 EUR
    Und nennt die Akte von "R1" die versandten Briefe "mahnung_1, letzte_mahnung, inkasso_ankuendigung"
    Und enthält das Dossier von "R1" die Kopien der drei Briefe
    Und steht in der CSV-Akte für "R1" der offene Betrag aus dem Hauptbuch
