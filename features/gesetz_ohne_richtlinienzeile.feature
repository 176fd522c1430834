# language: de
Funktionalität: Das Gesetz gilt, auch wo die Richtlinie schweigt (C1, C5)
  Als Finanzleitung will ich, dass eine Richtlinie ohne Zeile für Insolvenz oder Bestreiten
  das Gesetz nicht abschaltet: die Maschine hält an, wie es C1 und C5 verlangen, auch wenn
  niemand daran gedacht hat, es in die Richtlinie zu schreiben.

  Grundlage: Eine Leiter ohne `on insolvency` und ohne `on dispute_opened`
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "schweigsam" version 1 {
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
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-28     | 2025-08-11 | 900,00 |

  Szenario: C5 – die Insolvenz beendet die Mahnung auch ohne Zeile in der Richtlinie
    Angenommen der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-31 gelaufen ist
    Wenn für den Kunden "K1" am 2025-09-01 das Ereignis "Insolvenz" erfasst wird
    Und der Mahnlauf täglich vom 2025-09-01 bis zum 2025-10-10 läuft
    Dann steht "R1" im Zustand "insolvent"
    Und verzeichnet der Verlauf von "R1" die Aufgabe "Forderungsanmeldung"
    Und bucht das Hauptbuch von "R1" keine Mahngebühren
    Und liegen für "R1" 1 Nachrichten im Postausgang

  Szenario: C1 – ein Bestreiten hält die Mahnung an, auch ohne Zeile in der Richtlinie
    Angenommen der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-31 gelaufen ist
    Wenn "R1" am 2025-09-01 bestritten wird
    Und der Mahnlauf täglich vom 2025-09-01 bis zum 2025-10-10 läuft
    Dann steht "R1" im Zustand "erinnerung"
    Und gilt "R1" als bestritten
    Und bucht das Hauptbuch von "R1" keine Mahngebühren
    Und liegen für "R1" 1 Nachrichten im Postausgang
