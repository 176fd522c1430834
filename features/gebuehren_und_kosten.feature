# language: de
Funktionalität: Gebühren, Pauschale, Verrechnung und Inkassokosten (A7, A8, B1, B2)
  Als Finanzleitung will ich nur verlangen, was das Gesetz erlaubt: Mahngebühren nur als
  echte Sachkosten nach Verzugsbeginn, die 40-Euro-Pauschale nur von Unternehmern und nur
  einmal, Zahlungen zuerst auf Kosten und Zinsen, Inkassokosten höchstens nach RVG.

  Grundlage: Eine Richtlinie mit Firmen- und Privatkunden
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "gebuehren" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment firmen when customer.type == B2B use firmen
        segment privat use privat
        ladder firmen {
          state erinnerung "Zahlungserinnerung" at 14d after due {
            letter "zahlungserinnerung"
          }
          state mahnung_1 "1. Mahnung" after 14d in erinnerung {
            letter "mahnung_1"
            fee 1.00 EUR
            interest statutory
            lump sum
          }
          state mahnung_2 "2. Mahnung" after 14d in mahnung_1 {
            letter "mahnung_2"
            fee 5.00 EUR
            lump sum
            wait
          }
        }
        ladder privat {
          state erinnerung "Zahlungserinnerung" at 14d after due {
            letter "zahlungserinnerung"
            fee 1.00 EUR
          }
          state mahnung_1 "1. Mahnung" after 14d in erinnerung {
            letter "mahnung_1"
            fee 1.00 EUR
            interest statutory
            wait
          }
        }
      }
      """

  Szenario: A7 – Ein Unternehmer zahlt die Pauschale einmal je Forderung
    Die Richtlinie verlangt die Pauschale in zwei Mahnstufen; gebucht wird sie je Rechnung
    genau einmal, bei der ersten Mahnung nach Verzugsbeginn.
    Angenommen die Kunden:
      | Kundennummer | Name          | Typ | Bundesland |
      | K2           | Bau Nord GmbH | B2B | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K2           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    |
      | R2              | K2           | 2025-04-15     | 2025-05-15 | 300,00   | ja                    |
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-30 läuft
    Dann steht "R1" im Zustand "mahnung_2"
    Und betragen die Pauschale auf "R1" insgesamt 40,00 EUR
    Und betragen die Pauschale auf "R2" insgesamt 40,00 EUR
    Und betragen die Mahngebühren auf "R1" insgesamt 6,00 EUR
    Und nennen die Buchungen "Pauschale" von "R1" die Regel "richtlinie_1.mahn:16"

  Szenario: A7 – Nie von Verbrauchern: nach Korrektur der Stammdaten keine Pauschale
    Der Kunde war als Firma erfasst und wird vor der ersten Mahnung als Verbraucher
    berichtigt; beim nächsten Schritt wechselt die Rechnung in das Segment für
    Privatkunden (gleicher Zustand, Regel `same state`), dessen Leiter keine Pauschale kennt.
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K3           | Jonas Weber  | B2B | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R3              | K3           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-01 gelaufen ist
    Wenn die Kundendaten geändert werden:
      | Kundennummer | Name        | Typ | Bundesland |
      | K3           | Jonas Weber | B2C | BE         |
    Und der Mahnlauf täglich vom 2025-06-02 bis zum 2025-06-30 läuft
    Dann steht "R3" im Zustand "mahnung_1"
    Und bucht das Hauptbuch von "R3" keine Pauschale
    Und nennt der Verlauf von "R3" "moved by `same state`"

  Szenario: A7 – Eine Richtlinie, die Verbrauchern die Pauschale abverlangen könnte, wird abgelehnt
    Wenn die Richtlinie geprüft wird:
      """
      policy "pauschale_fuer_alle" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung "1. Mahnung" at 14d after due {
            letter "mahnung_1"
            lump sum
            wait
          }
        }
      }
      """
    Dann lehnt die Prüfung sie in Zeile 10 ab mit "[L002]"

  Szenariogrundriss: A7 – Die Pauschale wird auf spätere Rechtsverfolgungskosten angerechnet
    Wenn nach der Pauschale von 40,00 EUR Rechtsverfolgungskosten von <Kosten> entstehen
    Dann sind davon noch <noch zu zahlen> zu zahlen, zusammen mit der Pauschale <insgesamt>

    Beispiele:
      | Kosten    | noch zu zahlen | insgesamt |
      | 55,62 EUR | 15,62 EUR      | 55,62 EUR |
      | 40,00 EUR | 0,00 EUR       | 40,00 EUR |
      | 18,30 EUR | 0,00 EUR       | 40,00 EUR |
      | 0,00 EUR  | 0,00 EUR       | 40,00 EUR |

  Szenario: A8 – Eine Teilzahlung tilgt Kosten, dann Zinsen, dann die Hauptforderung
    Verzug ab 16.05.; Erinnerung am 29.05. (Gebühr 1,00), 1. Mahnung am 12.06. (Gebühr 1,00,
    Zinsen 16.05.–28.05. 2,59 und 29.05.–11.06. 2,79).  Die Zahlung am 20.06. bucht zuerst die
    Zinsen 12.06.–19.06. (1,59), tilgt dann 2,00 Kosten, 6,97 Zinsen und 491,03 Hauptforderung.
    Die Restzahlung am 20.07. trägt Zinsen nur noch auf 508,97: 11 Tage zu 7,27 % (1,12) und
    19 Tage zu 6,27 % (1,66) — die gehen wieder zuerst ab.
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-19 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z1          | 2025-06-20    | 500,00 | R1              |
    Und der Mahnlauf am 2025-06-20 läuft
    Dann betragen die Verzugszinsen auf "R1" insgesamt 6,97 EUR
    Und stehen auf "R1" noch offen: Kosten 0,00, Zinsen 0,00, Hauptforderung 508,97
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z2          | 2025-07-20    | 508,97 | R1              |
    Und der Mahnlauf am 2025-07-20 läuft
    Dann betragen die Verzugszinsen auf "R1" insgesamt 9,75 EUR
    Und stehen auf "R1" noch offen: Kosten 0,00, Zinsen 0,00, Hauptforderung 2,78
    Und steht "R1" im Zustand "mahnung_1"

  Szenariogrundriss: A8 – § 367 BGB: Kosten, Zinsen, Hauptforderung
    Wenn eine Zahlung von <Zahlung> auf Kosten <Kosten>, Zinsen <Zinsen> und Hauptforderung <Haupt> verrechnet wird
    Dann tilgt sie Kosten <auf Kosten>, Zinsen <auf Zinsen> und Hauptforderung <auf Haupt>, Überschuss <Überschuss>
    Und bleibt eine Hauptforderung von <Rest> offen

    Beispiele:
      | Zahlung | Kosten | Zinsen | Haupt  | auf Kosten | auf Zinsen | auf Haupt | Überschuss | Rest   |
      | 50,00   | 5,00   | 1,00   | 100,00 | 5,00       | 1,00       | 44,00     | 0,00       | 56,00  |
      | 3,00    | 5,00   | 1,00   | 100,00 | 3,00       | 0,00       | 0,00      | 0,00       | 100,00 |
      | 5,50    | 5,00   | 1,00   | 100,00 | 5,00       | 0,50       | 0,00      | 0,00       | 100,00 |
      | 110,00  | 5,00   | 1,00   | 100,00 | 5,00       | 1,00       | 100,00    | 4,00       | 0,00   |

  Szenario: A8 – § 366 BGB: eine Zahlung ohne Bestimmung auf mehrere Rechnungen
    Die fällige vor der nicht fälligen, die ungesicherte vor der gesicherten, die ältere vor
    der jüngeren.
    Wenn eine Zahlung von 250,00 ohne Bestimmung am 2025-06-01 eingeht auf:
      | Rechnung | Fälligkeit | offen  | gesichert |
      | N1       | 2025-07-01 | 100,00 | nein      |
      | G1       | 2025-03-01 | 100,00 | ja        |
      | U2       | 2025-05-01 | 100,00 | nein      |
      | U1       | 2025-04-01 | 100,00 | nein      |
    Dann erhalten die Rechnungen:
      | Rechnung | Betrag |
      | U1       | 100,00 |
      | U2       | 100,00 |
      | G1       | 50,00  |
      | N1       | 0,00   |

  Szenariogrundriss: B1 – Die Mahnung, die den Verzug erst begründet, ist kostenlos
    Die Richtlinie verlangt schon für die Zahlungserinnerung 1,00 EUR.  Ist der Kunde dann
    schon in Verzug (vereinbarter Termin), darf sie das; begründet erst diese Erinnerung den
    Verzug, bucht die Maschine nichts.  Die 1. Mahnung danach kostet in beiden Fällen 1,00.
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 200,00 | <vereinbart>          |
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-01 läuft
    Dann steht "R1" im Zustand "erinnerung"
    Und betragen die Mahngebühren auf "R1" insgesamt <Gebühr Erinnerung>
    Und nennt der Verlauf von "R1" <Hinweis>
    Wenn der Mahnlauf täglich vom 2025-06-02 bis zum 2025-06-15 läuft
    Dann steht "R1" im Zustand "mahnung_1"
    Und betragen die Mahngebühren auf "R1" insgesamt <Gebühren danach>

    Beispiele:
      | vereinbart | Gebühr Erinnerung | Hinweis                                             | Gebühren danach |
      | nein       | 0,00 EUR          | "no fee: the reminder that creates default is free" | 1,00 EUR        |
      | ja         | 1,00 EUR          | nicht "the reminder that creates default is free"   | 2,00 EUR        |

  Szenario: B1 – Höchstens 2,50 EUR je Brief von einem Verbraucher, auch nach Korrektur der Stammdaten
    Die Firmenleiter verlangt für die 2. Mahnung 5,00 EUR.  Der Kunde wird vor der 1. Mahnung
    als Verbraucher berichtigt: die Rechnung wechselt in die Leiter für Privatkunden, und von
    ihm werden nur deren Gebühren verlangt (je Brief höchstens 2,50 EUR).
    Angenommen die Kunden:
      | Kundennummer | Name        | Typ | Bundesland |
      | K3           | Jonas Weber | B2B | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R3              | K3           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-01 gelaufen ist
    Wenn die Kundendaten geändert werden:
      | Kundennummer | Name        | Typ | Bundesland |
      | K3           | Jonas Weber | B2C | BE         |
    Und der Mahnlauf täglich vom 2025-06-02 bis zum 2025-06-30 läuft
    Dann steht "R3" im Zustand "mahnung_1"
    Und betragen die Mahngebühren auf "R3" insgesamt 1,00 EUR

  Szenario: B1 – Mehr als 2,50 EUR je Brief an Verbraucher: die Richtlinie wird abgelehnt
    Wenn die Richtlinie geprüft wird:
      """
      policy "zu_teuer" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung "1. Mahnung" at 14d after due {
            letter "mahnung_1"
            fee 2.51 EUR
            wait
          }
        }
      }
      """
    Dann lehnt die Prüfung sie in Zeile 10 ab mit "above the cap of 2.50 EUR"

  Szenario: B1 – Eine Gebührenobergrenze über 2,50 EUR für Verbraucher wird abgelehnt
    Wenn die Richtlinie geprüft wird:
      """
      policy "zu_teuer" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          fees at most 3.00 EUR
        }
        segment alle use standard
        ladder standard {
          state mahnung "1. Mahnung" at 14d after due {
            letter "mahnung_1"
            wait
          }
        }
      }
      """
    Dann lehnt die Prüfung sie in Zeile 7 ab mit "above the 2.50 EUR a consumer may be charged"

  Szenario: B1 – Für eine E-Mail gibt es keine Gebühr: die Richtlinie wird abgelehnt
    Wenn die Richtlinie geprüft wird:
      """
      policy "mail_gebuehr" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung "1. Mahnung" at 14d after due {
            email "mahnung_1"
            fee 1.00 EUR
            wait
          }
        }
      }
      """
    Dann lehnt die Prüfung sie in Zeile 10 ab mit "[L005]"

  Szenariogrundriss: B2 – Inkassokosten höchstens nach Nr. 2300 VV RVG, Auslagen 20 %, höchstens 20 EUR
    Wenn Inkassokosten für eine Forderung von <Forderung> mit Auftrag am <Auftrag> im Fall "<Fall>" berechnet werden
    Dann beträgt die 1,0-Gebühr <1,0-Gebühr>
    Und betragen Geschäftsgebühr <Gebühr> und Auslagen <Auslagen>, zusammen <Summe>

    Beispiele:
      | Forderung | Auftrag    | Fall                           | 1,0-Gebühr | Gebühr | Auslagen | Summe  |
      | 400,00    | 2025-06-01 | Regelfall                      | 51,50      | 46,35  | 9,27     | 55,62  |
      | 40,00     | 2025-06-01 | Zahlung auf erste Aufforderung | 30,50      | 15,25  | 3,05     | 18,30  |
      | 50,00     | 2025-06-01 | Regelfall                      | 30,50      | 27,45  | 5,49     | 32,94  |
      | 50,01     | 2025-06-01 | Regelfall                      | 51,50      | 46,35  | 9,27     | 55,62  |
      | 1.000,00  | 2025-06-01 | Regelfall                      | 93,00      | 83,70  | 16,74    | 100,44 |
      | 1.000,00  | 2025-06-01 | besonders schwierig            | 93,00      | 120,90 | 20,00    | 140,90 |
      | 400,00    | 2025-05-31 | Regelfall                      | 49,00      | 44,10  | 8,82     | 52,92  |
      | 40,00     | 2025-05-31 | Zahlung auf erste Aufforderung | 30,00      | 15,00  | 3,00     | 18,00  |
      | 1.000,00  | 2025-05-31 | Regelfall                      | 88,00      | 79,20  | 15,84    | 95,04  |
