# language: de
Funktionalität: Insolvenz und Tod des Schuldners (C5, C6)
  Als Finanzleitung will ich, dass mit der Eröffnung des Insolvenzverfahrens jede Mahnung
  zu Altforderungen endet und die Forderung zur Tabelle angemeldet wird, während neue
  Forderungen getrennt weiterlaufen – und dass nach einem Todesfall Ruhe ist.

  Grundlage: Eine Leiter mit Erinnerung und kostenpflichtiger Mahnung
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
        on insolvency stop -> insolvent
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |

  Szenario: C5 – Insolvenz: Altforderung wird angemeldet, Neuforderung läuft getrennt weiter
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-28     | 2025-08-11 | 900,00 |
      | R2              | K1           | 2025-09-10     | 2025-09-24 | 120,00 |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-31 gelaufen ist
    Wenn für den Kunden "K1" am 2025-09-01 das Ereignis "Insolvenz" erfasst wird
    Und der Mahnlauf täglich vom 2025-09-01 bis zum 2025-10-10 läuft
    Dann steht "R1" im Zustand "insolvent"
    Und verzeichnet der Verlauf von "R1" die Aufgabe "Forderungsanmeldung"
    Und bucht das Hauptbuch von "R1" keine Mahngebühren
    Und liegen für "R1" 1 Nachrichten im Postausgang
    Und steht "R2" im Zustand "erinnerung"
    Und liegen für "R2" 1 Nachrichten im Postausgang

  Szenario: C6 – nach einer Todesnachricht ruht alles mindestens sechs Wochen, ohne Gebühren
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 300,00 |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-20 gelaufen ist
    Wenn für den Kunden "K1" am 2025-08-20 das Ereignis "Todesfall" erfasst wird
    Und der Mahnlauf täglich vom 2025-08-20 bis zum 2025-10-01 läuft
    Dann steht "R1" im Zustand "erinnerung"
    Und bucht das Hauptbuch von "R1" keine Mahngebühren
    Und liegen für "R1" 1 Nachrichten im Postausgang
    Wenn der Mahnlauf täglich vom 2025-10-02 bis zum 2025-10-03 läuft
    Dann ist "R1" am 2025-10-02 in den Zustand "mahnung" gewechselt

  Szenario: C5 – eine erst nach der Insolvenz importierte Altforderung wird nicht gemahnt, bis zum Eröffnungstag
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-28     | 2025-08-11 | 900,00 |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-31 gelaufen ist
    Wenn für den Kunden "K1" am 2025-09-01 das Ereignis "Insolvenz" erfasst wird
    Und die Rechnungen eingehen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R3              | K1           | 2025-08-20     | 2025-09-03 | 400,00 |
      | R4              | K1           | 2025-09-01     | 2025-09-15 | 250,00 |
      | R5              | K1           | 2025-09-02     | 2025-09-16 | 120,00 |
    Und der Mahnlauf täglich vom 2025-09-01 bis zum 2025-10-10 läuft
    Dann steht "R3" im Zustand "insolvent"
    Und verzeichnet der Verlauf von "R3" die Aufgabe "Forderungsanmeldung"
    Und liegt für "R3" keine Nachricht im Postausgang
    Und steht "R4" im Zustand "insolvent"
    Und liegt für "R4" keine Nachricht im Postausgang
    Und steht "R5" im Zustand "erinnerung"
    Und liegen für "R5" 1 Nachrichten im Postausgang

  Szenario: C6 – eine erst nach der Todesnachricht importierte Rechnung ruht ebenso sechs Wochen
    Wenn für den Kunden "K1" am 2025-08-20 das Ereignis "Todesfall" erfasst wird
    Und die Rechnungen eingehen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 300,00 |
    Und der Mahnlauf täglich vom 2025-08-20 bis zum 2025-10-01 läuft
    Dann liegt für "R1" keine Nachricht im Postausgang
    Und bucht das Hauptbuch von "R1" keine Mahngebühren
    Wenn der Mahnlauf täglich vom 2025-10-02 bis zum 2025-10-03 läuft
    Dann ist "R1" am 2025-10-02 in den Zustand "erinnerung" gewechselt
