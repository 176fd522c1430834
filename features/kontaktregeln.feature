# language: de
Funktionalität: Kontaktregeln – wann eine Nachricht den Kunden erreichen darf (D1–D4)
  Als Finanzleitung will ich, dass niemand nachts eine SMS, an Sonn- und Feiertagen Post
  oder zwei Mahnungen in einer Woche bekommt – auch wenn er mehrere Rechnungen offen hat.
  Die Engine entscheidet, dass eine Nachricht fällig ist; wann sie hinausgehen darf,
  steht im Postausgang ("Frühestens", in der Zeitzone des Kunden).

  Szenariogrundriss: D1 und D2 – Brief und SMS am 15. August, in <Land> <Feiertag>
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "kontakt" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          no sms between 20:00 and 09:00
        }
        segment alle use standard
        ladder standard {
          state erinnerung "Zahlungserinnerung" at 11d after due {
            letter "zahlungserinnerung"
            sms "vorab_hinweis_sms"
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | <Land>     |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 250,00 |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-15 läuft
    Dann steht "R1" im Zustand "erinnerung"
    Und liegen für "R1" im Postausgang:
      | Kanal  | Vorlage            | Frühestens |
      | letter | zahlungserinnerung | <Brief>    |
      | sms    | vorab_hinweis_sms  | <SMS>      |

    Beispiele:
      | Land | Feiertag                         | Brief            | SMS              |
      | BY   | ist Mariä Himmelfahrt Feiertag   | 2025-08-16 08:00 | 2025-08-16 09:00 |
      | BE   | ist der Tag ein Werktag          | 2025-08-15 08:00 | 2025-08-15 09:00 |

  Szenario: D2 – an einem Sonntag fällige Post geht am Montag hinaus
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "sonntag" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state erinnerung "Zahlungserinnerung" at 13d after due {
            letter "zahlungserinnerung"
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | HH         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 250,00 |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-17 läuft
    Dann liegen für "R1" im Postausgang:
      | Kanal  | Vorlage            | Frühestens       |
      | letter | zahlungserinnerung | 2025-08-18 08:00 |

  Szenario: D3 – höchstens eine schriftliche Mahnung pro Woche, auch bei zwei Rechnungen
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "woche" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
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
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 250,00 |
      | R2              | K1           | 2025-07-24     | 2025-08-07 | 80,00  |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-25 läuft
    Dann liegen für den Kunden "K1" im Postausgang:
      | Kanal  | Vorlage            | Frühestens       |
      | letter | zahlungserinnerung | 2025-08-15 08:00 |
      | letter | zahlungserinnerung | 2025-08-22 08:00 |
    Und nennt der Verlauf von "R2" "at most 1 written reminders per 7 days (D3)"

  Szenario: D3 – zwei am selben Tag fällige Rechnungen gehen in einen Brief
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "sammel" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
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
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 250,00 |
      | R2              | K1           | 2025-07-21     | 2025-08-04 | 80,00  |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-15 läuft
    Dann liegen für den Kunden "K1" im Postausgang:
      | Kanal  | Vorlage            | Frühestens       |
      | letter | zahlungserinnerung | 2025-08-15 08:00 |
      | letter | zahlungserinnerung | 2025-08-15 08:00 |

  Szenario: D3 – die Obergrenze der Richtlinie gilt über alle Kanäle
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "kanaele" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          at most 1 contacts per 7 days
        }
        segment alle use standard
        ladder standard {
          state hinweis "SMS-Hinweis" at 11d after due {
            sms "vorab_hinweis_sms"
          }
          state anruf "Anruf" after 2d in hinweis {
            call "anruf_key_account"
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
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 250,00 |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-20 läuft
    Dann liegen für "R1" im Postausgang:
      | Kanal | Vorlage           | Frühestens       |
      | sms   | vorab_hinweis_sms | 2025-08-15 08:00 |
      | call  | anruf_key_account | 2025-08-22 08:00 |

  Szenario: D4 – zwischen zwei Briefen zur selben Rechnung liegen die Tage der Richtlinie
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "abstand" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          letters at least 14 days apart
        }
        segment alle use standard
        ladder standard {
          state mahnung_1 "1. Mahnung" at 11d after due {
            letter "mahnung_1"
          }
          state mahnung_2 "2. Mahnung" after 10d in mahnung_1 {
            letter "mahnung_2"
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
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 250,00 |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-09-05 läuft
    Dann ist "R1" am 2025-08-29 in den Zustand "mahnung_2" gewechselt
    Und liegen für "R1" im Postausgang:
      | Kanal  | Vorlage   | Frühestens       |
      | letter | mahnung_1 | 2025-08-15 08:00 |
      | letter | mahnung_2 | 2025-08-29 08:00 |

  Szenario: D3 – nach einem Gespräch mit dem Kunden sieben Tage kein Anruf
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "gespraech" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state anruf "Anruf" at 11d after due {
            call "anruf_key_account"
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
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 250,00 |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-11 gelaufen ist
    Und für "R1" am 2025-08-12 das Ereignis "conversation" erfasst wurde
    Wenn der Mahnlauf täglich vom 2025-08-12 bis zum 2025-08-15 läuft
    Dann liegen für "R1" im Postausgang:
      | Kanal | Vorlage           | Frühestens       |
      | call  | anruf_key_account | 2025-08-19 08:00 |
    Und nennt der Verlauf von "R1" "conversation recorded by sachbearbeitung"
