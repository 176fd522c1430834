# language: de
Funktionalität: Eskalation nur, wenn sie rechtlich trägt (A9, C2, C3, C4, D9, D10)
  Als Finanzleitung will ich, dass keine Mahnung eine Zahlung überholt, die schon unterwegs
  ist, dass eine Auskunfteimeldung nur erfolgt, wenn § 31 BDSG erfüllt ist, dass das
  gerichtliche Mahnverfahren seine Fristen einhält und dass kein Brief droht, was wir
  nicht tun werden.

  Szenariogrundriss: A9 – die Erinnerung wartet drei TARGET2-Tage auf Zahlungen im Zulauf
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "zulauf" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state erinnerung "Zahlungserinnerung" at 7d after due {
            letter "zahlungserinnerung"
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    # Fällig am Dienstag, 15. April 2025: Karfreitag und Ostermontag sind TARGET2-frei,
    # die Schonfrist endet am 22. April; "7 Tage nach Fälligkeit" wäre der 22. April.
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-04-01     | 2025-04-15 | 250,00 |
    Und der Mahnlauf täglich vom 2025-04-10 bis zum 2025-04-22 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag   | Rechnungsnummer |
      | Z1          | <gutgeschrieben> | <Betrag> | R1           |
    Und der Mahnlauf am 2025-04-23 läuft
    Dann steht "R1" im Zustand "<Zustand>"
    Und liegen für "R1" <Briefe> Nachrichten im Postausgang

    Beispiele:
      | gutgeschrieben | Betrag | Zustand    | Briefe |
      | 2025-04-22     | 250,00 | paid       | 0      |
      | 2025-04-23     | 100,00 | erinnerung | 1      |

  Szenariogrundriss: C2 – Auskunfteimeldung frühestens vier Wochen nach der ersten Mahnung
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "auskunftei" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung_1 "1. Mahnung" at 19d after due {
            letter "mahnung_1"
          }
          state mahnung_2 "2. Mahnung" after 14d in mahnung_1 {
            letter "mahnung_2"
          }
          state meldung "Meldung an die Auskunftei" after <Tage> in mahnung_2 {
            approval by 1
            report to "SCHUFA"
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    # Die 1. Mahnung geht am 29.03. zur Post und gilt am 01.04. als zugegangen (mit dem
    # Hinweis auf die mögliche Meldung), die 2. am 12.04. (Zugang 15.04.).
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-02-24     | 2025-03-10 | 480,00 |
    Und der Mahnlauf täglich vom 2025-03-01 bis zum <Meldetag> gelaufen ist
    Dann kündigt die letzte Nachricht zu "R1" die "Auskunfteimeldung" an
    Und wartet "R1" auf eine Freigabe
    Wenn "Petra Vogel" die Eskalation von "R1" am <Meldetag> freigibt
    Und der Mahnlauf am <Meldetag> läuft
    Dann steht "R1" im Zustand "meldung"
    Und verzeichnet der Verlauf von "R1" <Meldung> Aufgabe "Auskunfteimeldung"

    Beispiele:
      | Tage | Meldetag   | Meldung |
      | 16d  | 2025-04-28 | keine   |
      | 17d  | 2025-04-29 | die     |

  Szenario: C2 – ohne vorherigen Hinweis auf die Meldung keine Meldung
    # Die Briefe gingen unter einer Richtlinie ohne Auskunfteimeldung hinaus, also ohne
    # Hinweis darauf.  Dass eine neue Fassung die Meldung einführt, holt den Hinweis nicht nach.
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "wechsel" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung_1 "1. Mahnung" at 19d after due {
            letter "mahnung_1"
          }
          state mahnung_2 "2. Mahnung" after 14d in mahnung_1 {
            letter "mahnung_2"
          }
          state pruefung "Prüfung" after 14d in mahnung_2 {
            notify "forderungsmanagement"
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
      | R1              | K1           | 2025-02-24     | 2025-03-10 | 480,00 |
    Und der Mahnlauf täglich vom 2025-03-01 bis zum 2025-04-30 gelaufen ist
    Und die Richtlinie ist in Kraft:
      """
      policy "wechsel" version 2 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung_1 "1. Mahnung" at 19d after due {
            letter "mahnung_1"
          }
          state mahnung_2 "2. Mahnung" after 14d in mahnung_1 {
            letter "mahnung_2"
          }
          state pruefung "Prüfung" after 14d in mahnung_2 {
            notify "forderungsmanagement"
          }
          state meldung "Meldung an die Auskunftei" after 14d in pruefung {
            approval by 1
            report to "SCHUFA"
            wait
          }
        }
      }
      """
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-05-14 läuft
    Und "Petra Vogel" die Eskalation von "R1" am 2025-05-14 freigibt
    Und der Mahnlauf am 2025-05-14 läuft
    Dann steht "R1" im Zustand "meldung"
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "Auskunfteimeldung"
    Und nennt der Verlauf von "R1" "the debtor was not told of the possible report beforehand"

  Szenario: C3 – Mahnbescheid: Widerspruchsfrist, dann Vollstreckungsbescheid
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "gericht" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung "Mahnung" at 11d after due {
            letter "mahnung_1"
          }
          state gericht "Gerichtliches Mahnverfahren" after 14d in mahnung {
            approval by 1
            court order
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name               | Typ | Bundesland |
      | K2           | Nordlicht Logistik | B2B | HH         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   |
      | R1              | K2           | 2025-07-21     | 2025-08-04 | 1.200,00 |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-29 gelaufen ist
    Dann wartet "R1" auf eine Freigabe
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "gerichtliches Mahnverfahren"
    Wenn "Petra Vogel" die Eskalation von "R1" am 2025-08-29 freigibt
    Und der Mahnlauf am 2025-08-29 läuft
    Dann verzeichnet der Verlauf von "R1" die Aufgabe "gerichtliches Mahnverfahren"
    Wenn für "R1" am 2025-09-10 das Ereignis "court_order_served" erfasst wird
    Und der Mahnlauf täglich vom 2025-09-10 bis zum 2025-09-24 läuft
    Dann ist die Verjährung von "R1" gehemmt
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "Vollstreckungsbescheid"
    Wenn der Mahnlauf am 2025-09-25 läuft
    Dann verzeichnet der Verlauf von "R1" die Aufgabe "Vollstreckungsbescheid"

  Szenario: C3 – ein Widerspruch macht die Forderung streitig
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "widerspruch" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung "Mahnung" at 11d after due {
            letter "mahnung_1"
          }
          state gericht "Gerichtliches Mahnverfahren" after 14d in mahnung {
            approval by 1
            court order
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name               | Typ | Bundesland |
      | K2           | Nordlicht Logistik | B2B | HH         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   |
      | R1              | K2           | 2025-07-21     | 2025-08-04 | 1.200,00 |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-29 gelaufen ist
    Wenn "Petra Vogel" die Eskalation von "R1" am 2025-08-29 freigibt
    Und der Mahnlauf am 2025-08-29 läuft
    Und für "R1" am 2025-09-10 das Ereignis "court_order_served" erfasst wird
    Und für "R1" am 2025-09-18 das Ereignis "objection_filed" erfasst wird
    Und der Mahnlauf täglich vom 2025-09-10 bis zum 2025-10-01 läuft
    Dann gilt "R1" als bestritten
    Und verzeichnet der Verlauf von "R1" die Aufgabe "Widerspruch prüfen"
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "Vollstreckungsbescheid"

  Szenario: C3 und C4 – ein verfallener Mahnbescheid hemmt die Verjährung nur bis sechs Monate danach
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "verfall" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung "Mahnung" at 11d after due {
            letter "mahnung_1"
          }
          state gericht "Gerichtliches Mahnverfahren" after 14d in mahnung {
            approval by 1
            court order
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name               | Typ | Bundesland |
      | K2           | Nordlicht Logistik | B2B | HH         |
    # Fällig 2023: ohne Hemmung ab dem 01.01.2027 verjährt.
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   |
      | R1              | K2           | 2023-03-01     | 2023-03-15 | 1.200,00 |
    Und der Mahnlauf am 2026-06-01 gelaufen ist
    Und der Mahnlauf am 2026-06-15 gelaufen ist
    Wenn "Petra Vogel" die Eskalation von "R1" am 2026-06-15 freigibt
    Und der Mahnlauf am 2026-06-15 läuft
    Und für "R1" am 2026-07-01 das Ereignis "court_order_served" erfasst wird
    Und der Mahnlauf am 2026-07-01 läuft
    Dann ist die Verjährung von "R1" gehemmt
    Wenn der Mahnlauf am 2026-07-16 läuft
    Und der Mahnlauf am 2027-01-01 läuft
    Dann nennt der Verlauf von "R1" "the payment order lapsed (§ 701 ZPO)"
    # Hemmung vom 01.07.2026 bis sechs Monate nach dem Verfall (01.07.2027): 366 Tage.
    Und ist "R1" ab dem 2028-01-02 verjährt

  Szenario: C4 – eine Teilzahlung lässt die Verjährung neu beginnen
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "teilzahlung" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung "Mahnung" at 11d after due {
            letter "mahnung_1"
            wait
          }
        }
        on payment_partial ignore
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2022-03-01     | 2022-03-15 | 300,00 |
    Und der Mahnlauf am 2025-06-01 gelaufen ist
    Dann ist "R1" ab dem 2026-01-01 verjährt
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z1          | 2025-06-10    | 50,00  | R1              |
    Und der Mahnlauf am 2025-06-11 läuft
    Dann ist "R1" ab dem 2028-06-11 verjährt

  Szenariogrundriss: D9 – der Brief kündigt das Inkasso nur an, wenn es kommen kann
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "drohung" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          no handover below 50.00 EUR
        }
        segment alle use standard
        ladder standard {
          state letzte "Letzte Mahnung" at 11d after due {
            letter "letzte_mahnung"
          }
          state inkasso "Inkasso" after 14d in letzte when principal >= 50 EUR {
            approval by 1
            handover to "Inkasso Partner GmbH"
          }
          state klein "Kleinbetrag" after 14d in letzte when principal < 50 EUR {
            notify "forderungsmanagement"
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | <Betrag> |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-15 läuft
    Dann kündigt die letzte Nachricht zu "R1" <Ankündigung> "Inkassoübergabe" an

    Beispiele:
      | Betrag | Ankündigung |
      | 250,00 | die         |
      | 40,00  | keine       |

  Szenariogrundriss: D9 – kein Brief droht mit Gericht, wenn die Forderung dann verjährt ist
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "verjaehrt" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state letzte "Letzte Mahnung" at 11d after due {
            letter "letzte_mahnung"
          }
          state gericht "Gerichtliches Mahnverfahren" after 14d in letzte {
            approval by 1
            court order
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name               | Typ | Bundesland |
      | K2           | Nordlicht Logistik | B2B | HH         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit   | Betrag   |
      | R1              | K2           | 2021-05-20     | <Fälligkeit> | 1.200,00 |
    # Das Mahnverfahren kann frühestens 14 Tage nach der letzten Mahnung beginnen: am
    # 03.01.2026 – eine 2022 fällige Forderung ist dann seit dem 01.01.2026 verjährt.
    Wenn der Mahnlauf am 2025-12-20 läuft
    Dann kündigt die letzte Nachricht zu "R1" <Ankündigung> "gerichtliches Mahnverfahren" an

    Beispiele:
      | Fälligkeit | Ankündigung |
      | 2022-06-01 | keine       |
      | 2023-06-01 | die         |

  Szenariogrundriss: D9 – die letzte Mahnung kündigt das Mahnverfahren nur an, wenn die Richtlinie es für den Betrag vorsieht
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "ab_zehntausend" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state letzte "Letzte Mahnung" at 11d after due {
            letter "letzte_mahnung"
          }
          state gericht "Gerichtliches Mahnverfahren" after 14d in letzte when balance >= 10000 EUR {
            approval by 1
            court order
            wait
          }
          state pruefen "Prüfen" after 14d in letzte when balance < 10000 EUR {
            notify "forderungsmanagement"
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name               | Typ | Bundesland |
      | K2           | Nordlicht Logistik | B2B | HH         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   |
      | R1              | K2           | 2025-07-21     | 2025-08-04 | <Betrag> |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-15 läuft
    Dann steht "R1" im Zustand "letzte"
    Und kündigt die letzte Nachricht zu "R1" <Ankündigung> "gerichtliches Mahnverfahren" an

    Beispiele:
      | Betrag    | Ankündigung |
      | 777,77    | keine       |
      | 12.000,00 | die         |

  Szenariogrundriss: D9 – der Brief zu einer verjährten Forderung kündigt kein Inkasso an
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "verjaehrt_inkasso" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state letzte "Letzte Mahnung" at 11d after due {
            letter "letzte_mahnung"
          }
          state inkasso "Inkasso" after 14d in letzte {
            approval by 1
            handover to "Inkasso Partner GmbH"
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name               | Typ | Bundesland |
      | K2           | Nordlicht Logistik | B2B | HH         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit   | Betrag    |
      | R1              | K2           | 2021-05-20     | <Fälligkeit> | 15.000,00 |
    # Eine 2022 fällige Forderung ist seit dem 01.01.2026 verjährt (C4).
    Wenn der Mahnlauf am 2026-01-05 läuft
    Dann kündigt die letzte Nachricht zu "R1" <Ankündigung> "Inkassoübergabe" an

    Beispiele:
      | Fälligkeit | Ankündigung |
      | 2022-06-01 | keine       |
      | 2023-06-01 | die         |

  Szenario: D10 – kein Inkasso unter der Mindesthauptforderung, auch wenn die Leiter es vorsieht
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "mindestens" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          no handover below 50.00 EUR
        }
        segment alle use standard
        ladder standard {
          state letzte "Letzte Mahnung" at 11d after due {
            letter "letzte_mahnung"
          }
          state inkasso "Inkasso" after 14d in letzte {
            approval by 1
            handover to "Inkasso Partner GmbH"
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 40,00  |
    Wenn der Mahnlauf täglich vom 2025-08-01 bis zum 2025-09-15 läuft
    Dann steht "R1" im Zustand "letzte"
    Und wartet "R1" auf keine Freigabe
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "Inkassoübergabe"
    Und nennt der Verlauf von "R1" "no handover or court step (D10)"

  Szenariogrundriss: D10 – auch ein Ereignis führt nicht unter der Mindesthauptforderung ins Inkasso
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "mindestens" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          no handover below 50.00 EUR
        }
        segment alle use standard
        ladder standard {
          state letzte "Letzte Mahnung" at 11d after due {
            letter "letzte_mahnung"
          }
          state inkasso "Inkasso" <Kante> {
            approval by 1
            handover to "Inkasso Partner GmbH"
          }
        }
        <Handler>
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 40,00  |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-20 gelaufen ist
    Wenn für "R1" am 2025-08-21 das Ereignis "promise_broken" erfasst wird
    Und der Mahnlauf täglich vom 2025-08-21 bis zum 2025-09-15 läuft
    Dann steht "R1" im Zustand "letzte"
    Und wartet "R1" auf keine Freigabe
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "Inkassoübergabe"
    Und nennt der Verlauf von "R1" "no handover or court step (D10)"

    Beispiele:
      | Kante                              | Handler                    |
      | on promise_broken from letzte      |                            |
      | after 90d in letzte                | on promise_broken goto inkasso |

  Szenario: B2 und A7 – die Übergabe nennt die höchsten Inkassokosten, die Pauschale angerechnet
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "uebergabe" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment firmen when customer.type == B2B use standard
        segment privat use verbraucher
        ladder standard {
          state mahnung "Mahnung" at 11d after due {
            letter "mahnung_1"
            lump sum
          }
          state inkasso "Inkasso" after 14d in mahnung {
            letter "inkasso_ankuendigung"
            approval by 1
            handover to "Inkasso Partner GmbH"
          }
        }
        ladder verbraucher {
          state mahnung "Mahnung" at 11d after due {
            letter "mahnung_1"
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name               | Typ | Bundesland |
      | K2           | Nordlicht Logistik | B2B | HH         |
    # Fälligkeit vereinbart: Verzug ab dem 05.08., die Pauschale entsteht mit der Mahnung.
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K2           | 2025-07-21     | 2025-08-04 | 400,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-29 gelaufen ist
    Wenn "Petra Vogel" die Eskalation von "R1" am 2025-08-29 freigibt
    Und der Mahnlauf am 2025-08-29 läuft
    Dann steht "R1" im Zustand "handed_over"
    # 400 EUR: 0,9 × 51,50 EUR = 46,35 EUR Gebühr + 9,27 EUR Auslagen (RVG seit 01.06.2025)
    Und nennt der Verlauf von "R1" "recoverable collection costs at most 55.62 EUR"
    Und nennt der Verlauf von "R1" "the 40.00 EUR lump sum is credited: at most 15.62 EUR more (A7)"
