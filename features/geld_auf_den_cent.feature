# language: de
Funktionalität: Geld auf den Cent (A4, A6, A7, B1, D10)
  Als Finanzleitung will ich, dass jeder Cent, den die Maschine verlangt, nachgerechnet
  werden kann: Zinsen je Zeitraum mit einem Zinssatz und einer Hauptforderung, einmal
  gerundet, gleich wann die Maschine bucht; Gebühren je Brief gedeckelt; die gesetzliche
  Pauschale außerhalb des Gebührenanteils; und kein Restcent, der zum Inkasso wandert.

  Szenario: A6 – Die Zinsen hängen nicht davon ab, wann die Maschine bucht (2.345,67 EUR)
    Verbraucher, seit dem 10.12.2024 in Verzug, zahlt am 20.07.2025 genau die offene
    Forderung mit den Zinsen, wie sie Tag für Tag nachgerechnet werden: drei Zeiträume mit
    einem Basiszins, jeder einmal gerundet — 22 Tage zu 8,37 % (11,83), 181 Tage zu 7,27 %
    (84,56), 19 Tage zu 6,27 % (7,66) = 104,05 EUR.  Gebucht wird bei jedem Übergang der
    Leiter (Erinnerung, drei Mahnungen, Freigabeantrag) und bei der Zahlung; die Summe ist
    dieselbe.  Vorher buchte die Maschine 104,07 EUR, und 0,02 EUR blieben offen.
    Angenommen die Richtlinie "policies/de_b2c_standard.mahn" ist in Kraft
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K1           | 2024-11-25     | 2024-12-09 | 2.345,67 | ja                    |
    Und der Mahnlauf täglich vom 2024-12-01 bis zum 2025-07-19 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag   | Rechnungsnummer |
      | Z1          | 2025-07-20    | 2.452,72 | R1              |
    Und der Mahnlauf am 2025-07-20 läuft
    Dann betragen die Verzugszinsen auf "R1" insgesamt 104,05 EUR
    Und betragen die Mahngebühren auf "R1" insgesamt 3,00 EUR
    Und schuldet "R1" noch 0,00 EUR
    Und steht "R1" im Zustand "paid"

  Szenario: A6 – Jede Zinszeile im Brief nennt ihren Zinssatz, keine läuft über einen Basiszinswechsel
    Die 2. Mahnung vom 13.01.2025 zeigt die Zinsen bis zum 12.01.2025: eine Zeile für
    2024 (8,37 %) und eine für 2025 (7,27 %), nie „zu – jährlich“.
    Angenommen die Richtlinie "policies/de_b2c_standard.mahn" ist in Kraft
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K1           | 2024-11-25     | 2024-12-09 | 2.345,67 | ja                    |
    Und der Mahnlauf täglich vom 2024-12-01 bis zum 2025-01-13 gelaufen ist
    Wenn die Post vom 2025-01-13 probeweise versandt wird
    Dann steht im Brief an "K1" "22 Tage vom 10.12.2024 bis 31.12.2024 zu 8,37 % jährlich"
    Und steht im Brief an "K1" "12 Tage vom 01.01.2025 bis 12.01.2025 zu 7,27 % jährlich"
    Und steht im Brief an "K1" nicht "zu – jährlich"

  Szenario: B1 – Zwei Gebührenzeilen für einen Brief: die Prüfung lehnt die zweite ab
    Eine Stufe, ein Brief, eine Gebühr: zweimal `fee 2.50 EUR` hätte einem Verbraucher
    5,00 EUR für einen Brief abverlangt, und die Prüfung sagte „ok“.
    Wenn die Richtlinie geprüft wird:
      """
      policy "zwei_gebuehren" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung "1. Mahnung" at 14d after due {
            letter "mahnung_1"
            fee 2.50 EUR
            fee 2.50 EUR
            wait
          }
        }
      }
      """
    Dann lehnt die Prüfung sie in Zeile 11 ab mit "[L008]"
    Und lehnt die Prüfung sie in Zeile 11 ab mit "a second fee line would charge one letter twice"

  Szenariogrundriss: D10 – Der Anteil von 30 % zählt alle berechneten Gebühren, auch bezahlte
    5,00 EUR Rechnung: höchstens 1,50 EUR Gebühren.  Die 1. Mahnung kostet 1,00 EUR, die
    2. Mahnung nur noch 0,50 EUR — auch wenn der Kunde die erste Gebühr inzwischen bezahlt
    hat (vorher rechnete die Maschine dann wieder 1,00 EUR, zusammen 2,00 EUR = 40 %).
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "anteil" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state mahnung_1 "1. Mahnung" at 7d after due {
            letter "mahnung_1"
            fee 1.00 EUR
          }
          state mahnung_2 "2. Mahnung" after 14d in mahnung_1 {
            letter "mahnung_2"
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
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 5,00   | ja                    |
    Und der Mahnlauf täglich vom 2025-05-10 bis zum 2025-05-31 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag   | Rechnungsnummer |
      | Z1          | 2025-06-02    | <Zahlung> | R1             |
    Und der Mahnlauf täglich vom 2025-06-01 bis zum 2025-06-15 läuft
    Dann steht "R1" im Zustand "mahnung_2"
    Und betragen die Mahngebühren auf "R1" insgesamt 1,50 EUR
    Und nennt der Verlauf von "R1" "cut to stay within 30 % of the principal (D10)"

    Beispiele:
      | Zahlung | Fall                               |
      | 0,01    | fast nichts gezahlt                |
      | 1,00    | die erste Gebühr ist bezahlt       |

  Szenario: D10 – Die Pauschale zählt nicht zum Gebührenanteil (86,39 EUR, echte Historie)
    Unter der ausgelieferten B2B-Richtlinie fiel die Gebühr der 2. und der letzten Mahnung
    weg, weil die 40-EUR-Pauschale (§ 288 Abs. 5 BGB) in den Anteil von 30 % (25,91 EUR)
    eingerechnet wurde.  Die Pauschale ist gesetzlich wie die Zinsen: der Anteil gilt nur
    für die eigenen Gebühren der Richtlinie.
    Angenommen die Richtlinie "policies/de_b2b_standard.yaml" ist in Kraft
    Und die Kunden:
      | Kundennummer | Name          | Typ | Bundesland |
      | K2           | Bau Nord GmbH | B2B | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K2           | 2025-04-15     | 2025-05-15 | 86,39  | ja                    |
    Wenn der Mahnlauf täglich vom 2025-05-10 bis zum 2025-07-20 läuft
    Dann steht "R1" im Zustand "letzte_mahnung"
    Und betragen die Pauschale auf "R1" insgesamt 40,00 EUR
    Und betragen die Mahngebühren auf "R1" insgesamt 3,00 EUR

  Szenario: A4 und A7 – Unter Unternehmern + 9 Punkte und 40 EUR nur für ein Entgelt, sonst + 5
    § 288 Abs. 2 BGB (+ 9 Punkte) und Abs. 5 (Pauschale) gelten nur für Entgeltforderungen,
    also Zahlungen für Lieferungen oder Leistungen.  Ein Darlehen oder Schadensersatz unter
    Unternehmern trägt + 5 Punkte und keine Pauschale.  Die Spalte „Forderungsart“ sagt es;
    fehlt sie, ist die Rechnung ein Entgelt.  1.000,00 EUR vom 16.05. bis 14.08.2025:
    + 9 → 14,20 + 12,66 = 26,86 EUR; + 5 → 9,16 + 7,73 = 16,89 EUR.
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "forderungsart" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment firmen when customer.type == B2B use firmen
        segment alle use alle
        ladder firmen {
          state mahnung "1. Mahnung" at 14d after due {
            letter "mahnung_1"
            lump sum
            interest statutory
            wait
          }
        }
        ladder alle {
          state pruefen "Prüfen" at 14d after due {
            notify "team"
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name          | Typ | Bundesland |
      | K2           | Bau Nord GmbH | B2B | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart | Forderungsart |
      | R1              | K2           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    | Entgelt       |
      | R2              | K2           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    | Darlehen      |
      | R3              | K2           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    |               |
    Und der Mahnlauf täglich vom 2025-05-10 bis zum 2025-06-05 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag   | Rechnungsnummer |
      | Z1          | 2025-08-15    | 1.000,00 | R1              |
      | Z2          | 2025-08-15    | 1.000,00 | R2              |
      | Z3          | 2025-08-15    | 1.000,00 | R3              |
    Und der Mahnlauf am 2025-08-15 läuft
    Dann betragen die Verzugszinsen auf "R1" insgesamt 26,86 EUR
    Und betragen die Pauschale auf "R1" insgesamt 40,00 EUR
    Und betragen die Verzugszinsen auf "R2" insgesamt 16,89 EUR
    Und betragen die Pauschale auf "R2" insgesamt 0,00 EUR
    Und nennt der Verlauf von "R2" "no lump sum: not payment for goods or services"
    Und betragen die Verzugszinsen auf "R3" insgesamt 26,86 EUR
    Und betragen die Pauschale auf "R3" insgesamt 40,00 EUR

  Szenario: Restcent – Wer den Betrag der Mahnung eine Woche später zahlt, bekommt keine 2. Mahnung für die Zinsen der Woche
    Die 1. Mahnung vom 09.02.2026 verlangt 500,00 + 1,00 Gebühr + 1,72 Zinsen (20 Tage zu
    6,27 %) = 502,72 EUR.  Die Kundin zahlt genau das am 16.02.2026; bis dahin sind es 27 Tage
    Zinsen (2,32 EUR), es bleiben 0,60 EUR offen.  Die Rechnung ist damit bezahlt, der Rest sind
    Zinsen: er wird ausgebucht, mit der Zeile der Richtlinie als Grund, statt am 23.02.2026
    eine 2. Mahnung mit neuer Gebühr auszulösen.  Vorher blieb der Rest offen und die
    Rechnung ging in die 2. Mahnung.
    Angenommen die Richtlinie "policies/de_b2c_standard.mahn" ist in Kraft
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2026-01-05     | 2026-01-19 | 500,00 | ja                    |
    Und der Mahnlauf täglich vom 2026-01-15 bis zum 2026-02-15 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z1          | 2026-02-16    | 502,72 | R1              |
    Und der Mahnlauf täglich vom 2026-02-16 bis zum 2026-03-31 läuft
    Und die Post vom 2026-03-31 probeweise versandt wird
    Dann schuldet "R1" noch 0,00 EUR
    Und steht "R1" im Zustand "paid"
    Und betragen die Ausbuchungen auf "R1" insgesamt -0,60 EUR
    Und nennen die Buchungen "Ausbuchungen" von "R1" die Regel "de_b2c_standard.mahn:30"
    Und nennt der Verlauf von "R1" "within the tolerance 1.00 EUR" mit der Regel "de_b2c_standard.mahn:30"
    Und betragen die Mahngebühren auf "R1" insgesamt 1,00 EUR
    Und liegen für "R1" im Postausgang:
      | Kanal  | Vorlage           |
      | email  | vorab_hinweis     |
      | email  | zahlungserinnerung |
      | letter | mahnung_1         |
    Und geht kein Brief an "K1"

  Szenario: Restcent – Bis 1,00 EUR Zinsen und Gebühren ohne eigene Zeile ausgebucht; mehr, oder zu wenig auf die Rechnung, wird weiter gemahnt
    Ohne eigene Zeile gilt die Toleranz von 1,00 EUR, ausgebucht.  Toleriert wird nur, was
    nach Zahlung des Rechnungsbetrags an Zinsen und Gebühren fehlt: R1 und R4 sind bezahlt,
    es fehlt genau die Gebühr (1,00 und 0,50 EUR).  R2 fehlen 1,01 EUR, mehr als die Toleranz.
    R3 fehlen nur 0,60 EUR, aber 0,10 EUR davon auf den Rechnungsbetrag: der wird immer
    verlangt.  Vorher gingen alle vier in die 2. Mahnung.
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "rest" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment firmen when customer.type == B2B use klein
        segment alle use standard
        ladder standard {
          state mahnung_1 "1. Mahnung" at 14d after due {
            letter "mahnung_1"
            fee 1.00 EUR
          }
          state mahnung_2 "2. Mahnung" after 14d in mahnung_1 {
            letter "mahnung_2"
            wait
          }
        }
        ladder klein {
          state mahnung_1 "1. Mahnung" at 14d after due {
            letter "mahnung_1"
            fee 0.50 EUR
          }
          state mahnung_2 "2. Mahnung" after 14d in mahnung_1 {
            letter "mahnung_2"
            wait
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
      | K2           | Bernd Vogel  | B2C | BE         |
      | K3           | Muster GmbH  | B2B | BE         |
      | K4           | Beispiel KG  | B2B | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2026-03-02     | 2026-03-16 | 100,00 | ja                    |
      | R2              | K2           | 2026-03-02     | 2026-03-16 | 100,00 | ja                    |
      | R3              | K3           | 2026-03-02     | 2026-03-16 | 100,00 | ja                    |
      | R4              | K4           | 2026-03-02     | 2026-03-16 | 100,00 | ja                    |
    Und der Mahnlauf täglich vom 2026-03-10 bis zum 2026-04-01 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z1          | 2026-04-02    | 100,00 | R1              |
      | Z2          | 2026-04-02    | 99,99  | R2              |
      | Z3          | 2026-04-02    | 99,90  | R3              |
      | Z4          | 2026-04-02    | 100,00 | R4              |
    Und der Mahnlauf täglich vom 2026-04-02 bis zum 2026-04-30 läuft
    Dann steht "R1" im Zustand "paid"
    Und betragen die Ausbuchungen auf "R1" insgesamt -1,00 EUR
    Und nennt der Verlauf von "R1" "within the tolerance 1.00 EUR (the default)"
    Und steht "R4" im Zustand "paid"
    Und betragen die Ausbuchungen auf "R4" insgesamt -0,50 EUR
    Und steht "R2" im Zustand "mahnung_2"
    Und schuldet "R2" noch 1,01 EUR
    Und bucht das Hauptbuch von "R2" keine Ausbuchungen
    Und steht "R3" im Zustand "mahnung_2"
    Und schuldet "R3" noch 0,60 EUR
    Und bucht das Hauptbuch von "R3" keine Ausbuchungen

  Szenario: Restcent – „ask in next letter“: der Rest wartet ohne Mahnstufe und steht im nächsten Brief an den Kunden
    Die Richtlinie bucht nicht aus, sie fragt im nächsten regulären Brief nach.  R1 ist bis
    auf die Gebühr von 1,00 EUR bezahlt: keine 2. Mahnung, kein Inkasso, nur die Zeile im
    nächsten Brief an K1 — der 1. Mahnung zu R2.
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "nachfragen" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          residual up to 1.00 EUR ask in next letter
        }
        segment alle use standard
        ladder standard {
          state mahnung_1 "1. Mahnung" at 14d after due {
            letter "mahnung_1"
            fee 1.00 EUR
          }
          state inkasso "Inkasso" after 14d in mahnung_1 {
            letter "inkasso_ankuendigung"
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
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2026-03-02     | 2026-03-16 | 100,00 | ja                    |
      | R2              | K1           | 2026-04-01     | 2026-04-15 | 250,00 | ja                    |
    Und der Mahnlauf täglich vom 2026-03-10 bis zum 2026-04-01 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z1          | 2026-04-02    | 100,00 | R1              |
    Und der Mahnlauf täglich vom 2026-04-02 bis zum 2026-04-29 läuft
    Und die Post vom 2026-04-29 probeweise versandt wird
    Dann steht "R1" im Zustand "mahnung_1"
    Und schuldet "R1" noch 1,00 EUR
    Und wartet "R1" auf keine Freigabe
    Und bucht das Hauptbuch von "R1" keine Ausbuchungen
    Und nennt der Verlauf von "R1" "asked for in the next letter" mit der Regel "richtlinie_1.mahn:7"
    Und liegen für den Kunden "K1" im Postausgang:
      | Kanal  | Vorlage   |
      | letter | mahnung_1 |
      | letter | mahnung_1 |
    Und steht im Brief an "K1" "R1"
    Und steht im Brief an "K1" "R2"
    Und steht im Brief an "K1" "Mahngebühr vom 30.03.2026"
