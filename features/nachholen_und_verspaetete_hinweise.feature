# language: de
Funktionalität: Nachholen nach Tagen ohne Mahnlauf und Hinweise, die zu spät kämen (B1, D3, D4)
  Als Finanzleitung will ich, dass ein Brief, der nicht verschickt wird, nie stattgefunden hat:
  Nach einem Ausfall holt der Mahnlauf eine Stufe nach, nicht drei, berechnet nur deren Gebühr
  und zählt die nächste Stufe ab dem Tag, an dem der Brief wirklich hinausgeht.  Ein Hinweis
  vor der Fälligkeit, der erst danach hinausginge, wird nicht mehr verschickt, und er
  verbraucht nicht die eine schriftliche Mahnung pro Woche.

  Szenario: Nachholen – nach drei Wochen ohne Lauf eine Stufe, ihre Gebühr, die nächste ab dem Brief
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "nachholen" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state erinnerung "Zahlungserinnerung" at 7d after due {
            letter "zahlungserinnerung"
          }
          state mahnung_1 "1. Mahnung" after 14d in erinnerung {
            letter "mahnung_1"
            fee 1.00 EUR
          }
          state letzte "Letzte Mahnung" after 14d in mahnung_1 {
            letter "letzte_mahnung"
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
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 300,00 |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-14 läuft
    Und der Mahnlauf am 2025-09-22 läuft
    Dann steht "R1" im Zustand "mahnung_1"
    Und ist "R1" am 2025-09-22 in den Zustand "mahnung_1" gewechselt
    Und betragen die Mahngebühren auf "R1" insgesamt 1,00
    Und liegen für "R1" im Postausgang:
      | Kanal  | Vorlage            | Frühestens       |
      | letter | zahlungserinnerung | 2025-08-11 08:00 |
      | letter | mahnung_1          | 2025-09-22 08:00 |
    Wenn der Mahnlauf täglich vom 2025-09-23 bis zum 2025-10-06 läuft
    Dann ist "R1" am 2025-10-06 in den Zustand "letzte" gewechselt
    Und betragen die Mahngebühren auf "R1" insgesamt 2,00
    Und nennt der Verlauf von "R1" nicht "not sent: a later level was reached"

  Szenario: Nachholen – ein Hinweis vor Fälligkeit, dessen Tag im Ausfall lag, geht nicht mehr hinaus
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "vorab" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state vorab "Hinweis vor Fälligkeit" at 3d before due {
            email "vorab_hinweis"
          }
          state erinnerung "Zahlungserinnerung" at 11d after due {
            letter "zahlungserinnerung"
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
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 300,00 |
    Wenn der Mahnlauf am 2025-07-21 läuft
    Und der Mahnlauf am 2025-08-06 läuft
    Dann liegt für "R1" keine Nachricht im Postausgang
    Und nennt der Verlauf von "R1" "vorab: not sent, its purpose expired"

  Szenario: D3 – ein Hinweis vor Fälligkeit verbraucht nicht die Mahnung der Woche
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "woche" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state vorab "Hinweis vor Fälligkeit" at 3d before due {
            email "vorab_hinweis"
          }
          state erinnerung "Zahlungserinnerung" at 11d after due {
            letter "zahlungserinnerung"
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
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 300,00 |
      | R2              | K1           | 2025-08-01     | 2025-08-15 | 80,00  |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-16 läuft
    Dann liegen für den Kunden "K1" im Postausgang:
      | Kanal  | Vorlage            | Frühestens       |
      | email  | vorab_hinweis      | 2025-08-01 08:00 |
      | email  | vorab_hinweis      | 2025-08-12 08:00 |
      | letter | zahlungserinnerung | 2025-08-15 08:00 |

  Szenario: D3 – ein Hinweis vor Fälligkeit, den die Kontaktgrenze über die Fälligkeit schöbe, entfällt
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "grenze" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          at most 1 contacts per 7 days
        }
        segment alle use standard
        ladder standard {
          state vorab "Hinweis vor Fälligkeit" at 3d before due {
            email "vorab_hinweis"
          }
          state erinnerung "Zahlungserinnerung" at 11d after due {
            letter "zahlungserinnerung"
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
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 300,00 |
      | R2              | K1           | 2025-08-05     | 2025-08-19 | 80,00  |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-25 läuft
    Dann liegt für "R2" keine Nachricht im Postausgang
    Und nennt der Verlauf von "R2" "a note before the due date 2025-08-19 could go out only on 2025-08-22"
    Und liegen für "R1" im Postausgang:
      | Kanal  | Vorlage            | Frühestens       |
      | email  | vorab_hinweis      | 2025-08-01 08:00 |
      | letter | zahlungserinnerung | 2025-08-15 08:00 |
