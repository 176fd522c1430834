# language: de
Funktionalität: Freigaben und Nachvollziehbarkeit (D8, E3)
  Als Finanzleitung will ich, dass keine Übergabe an ein Inkassobüro ohne Menschen geschieht,
  ab einem Betrag nur mit zwei verschiedenen Personen, und dass ich jedem Kunden jede
  Entscheidung mit ihrem Grund und der Zeile der Richtlinie erklären kann.

  Grundlage: Eine Richtlinie mit Vier-Augen-Prinzip über 1.000 EUR
    Die Richtlinie verlangt unter 1.000 EUR ausdrücklich keine Freigabe ("else 0"); eine
    Übergabe ist aber eine Entscheidung mit Rechtswirkung, die ein Mensch trifft (E3).
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "freigaben" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state erinnerung "Zahlungserinnerung" at 14d after due {
            email "zahlungserinnerung"
          }
          state mahnung_1 "1. Mahnung" after 14d in erinnerung {
            letter "mahnung_1"
            fee 1.00 EUR
            interest statutory
          }
          state inkasso "Übergabe an Inkasso" after 14d in mahnung_1 {
            letter "inkasso_ankuendigung"
            approval by 2 when balance > 1000 EUR else 0
            handover to "Inkasso Partner GmbH"
          }
        }
      }
      """
    Und die Kunden:
      | Kundennummer | Name          | Typ | Bundesland |
      | K2           | Bau Nord GmbH | B2B | BE         |

  Szenario: D8 – Über 1.000 EUR übergeben nur zwei verschiedene Personen
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K2           | 2025-04-15     | 2025-05-15 | 1.500,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-30 gelaufen ist
    Wenn "Anna Berg" die Eskalation von "R1" am 2025-07-01 freigibt
    Und der Mahnlauf am 2025-07-01 läuft
    Dann wartet "R1" auf eine Freigabe
    Und steht "R1" im Zustand "mahnung_1"
    Wenn "Anna Berg" die Eskalation von "R1" am 2025-07-01 freigibt
    Dann wird die Entscheidung abgelehnt mit "a second approval must come from a different person"
    Wenn der Mahnlauf am 2025-07-02 läuft
    Dann wartet "R1" auf eine Freigabe
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "Inkassoübergabe"
    Wenn "Ben Kurz" die Eskalation von "R1" am 2025-07-03 freigibt
    Und der Mahnlauf am 2025-07-03 läuft
    Dann steht "R1" im Zustand "handed_over"
    Und verzeichnet der Verlauf von "R1" die Aufgabe "Inkassoübergabe"
    Und nennt der Verlauf von "R1" "approved by Anna Berg (1/2)"
    Und nennt der Verlauf von "R1" "approved by Ben Kurz (2/2)"

  Szenariogrundriss: D8 – Dieselbe Person in anderer Schreibweise zählt nicht als zweite
    Namen werden verglichen wie ein Leser sie liest: Groß- und Kleinschreibung, unsichtbare
    Zeichen (hier als \u200b geschrieben), Leerzeichen am Rand und Breitschrift zählen nicht.
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K2           | 2025-04-15     | 2025-05-15 | 1.500,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-30 gelaufen ist
    Wenn "a.operator" die Eskalation von "R1" am 2025-07-01 freigibt
    Und unter dem Namen "<Name>" die Eskalation von "R1" am 2025-07-01 freigegeben wird
    Dann wird die Entscheidung abgelehnt mit "a second approval must come from a different person"
    Wenn der Mahnlauf täglich vom 2025-07-01 bis zum 2025-07-03 läuft
    Dann wartet "R1" auf eine Freigabe
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "Inkassoübergabe"

    Beispiele:
      | Name                   |
      | A.Operator             |
      | a.\u200boperator       |
      | \u0020a.operator\u0020 |
      | \uff41.operator        |
      | A.OPERATOR\u200d       |

  Szenariogrundriss: D8 – Die Namen der Maschine sind niemandes Name
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K2           | 2025-04-15     | 2025-05-15 | 1.500,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-30 gelaufen ist
    Wenn "a.operator" die Eskalation von "R1" am 2025-07-01 freigibt
    Und unter dem Namen "<Name>" die Eskalation von "R1" am 2025-07-01 freigegeben wird
    Dann wird die Entscheidung abgelehnt mit "<Grund>"
    Wenn der Mahnlauf täglich vom 2025-07-01 bis zum 2025-07-03 läuft
    Dann wartet "R1" auf eine Freigabe
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "Inkassoübergabe"

    Beispiele:
      | Name             | Grund                                |
      | engine           | is reserved for mahnwerk's own entries |
      | dispatch         | is reserved for mahnwerk's own entries |
      | Engine\u200b     | is reserved for mahnwerk's own entries |
      | \u200b           | names nobody                         |

  Szenario: D8 – Bis 1.000 EUR genügt eine Person
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R2              | K2           | 2025-04-15     | 2025-05-15 | 800,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-30 gelaufen ist
    Wenn "Anna Berg" die Eskalation von "R2" am 2025-07-01 freigibt
    Und der Mahnlauf am 2025-07-01 läuft
    Dann steht "R2" im Zustand "handed_over"
    Und nennt der Verlauf von "R2" "approved by Anna Berg (1/1)"

  Szenario: D8 – Eine Ablehnung hält die Rechnung an, statt es am nächsten Morgen erneut zu versuchen
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K2           | 2025-04-15     | 2025-05-15 | 1.500,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-30 gelaufen ist
    Wenn "Anna Berg" die Eskalation von "R1" am 2025-07-01 ablehnt
    Und der Mahnlauf täglich vom 2025-07-01 bis zum 2025-07-31 läuft
    Dann steht "R1" im Zustand "mahnung_1"
    Und wartet "R1" auf keine Freigabe
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "Inkassoübergabe"
    Und nennt der Verlauf von "R1" "rejected by Anna Berg"

  Szenario: E3 – Eine Übergabe mit Rechtswirkung entscheidet ein Mensch, auch wenn die Richtlinie keine Freigabe verlangt
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R2              | K2           | 2025-04-15     | 2025-05-15 | 300,00 | ja                    |
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-07-31 läuft
    Dann steht "R2" im Zustand "mahnung_1"
    Und wartet "R2" auf eine Freigabe
    Und verzeichnet der Verlauf von "R2" keine Aufgabe "Inkassoübergabe"
    Wenn "Anna Berg" die Eskalation von "R2" am 2025-08-01 freigibt
    Und der Mahnlauf am 2025-08-01 läuft
    Dann steht "R2" im Zustand "handed_over"
    Und nennt der Verlauf von "R2" die Entscheidung von "Anna Berg"

  Szenario: E3 – Jede Entscheidung nennt ihren Grund und die Zeile der Richtlinie
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K2           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    |
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-30 läuft
    Dann nennt jede Entscheidung über "R1" eine Zeile der Richtlinie
    Und nennt der Übergang von "R1" nach "erinnerung" die Regel "richtlinie_1.mahn:8" und den Grund "at 14d after due"
    Und nennt der Übergang von "R1" nach "mahnung_1" die Regel "richtlinie_1.mahn:11" und den Grund "after 14d in erinnerung"
    Und nennen die Buchungen "Mahngebühren" von "R1" die Regel "richtlinie_1.mahn:13"
    Und nennen die Buchungen "Verzugszinsen" vom 2025-06-12 auf "R1" die Regel "richtlinie_1.mahn:14"
    Und nennt der Verlauf von "R1" "Verzugszinsen 2025-05-16–2025-06-11 auf 1000.00" mit der Regel "richtlinie_1.mahn:14"
    Und nennt der Verlauf von "R1" "email zahlungserinnerung" mit der Regel "richtlinie_1.mahn:9"
    Und nennt der Verlauf von "R1" "letter mahnung_1" mit der Regel "richtlinie_1.mahn:12"
    Und nennt der Verlauf von "R1" "mahnung_1 -> inkasso" mit der Regel "richtlinie_1.mahn:16"

  Szenario: E3 – Auch die bei einer Zahlung gebuchten Zinsen nennen die Zeile der Richtlinie
    Die Zinsen bis zum Tag vor der Zahlung werden bei der Zahlung gebucht; der Kunde fragt,
    aus welcher Regel — die Antwort ist `interest statutory` (Zeile 14), nicht "engine".
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K2           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-19 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z1          | 2025-06-20    | 300,00 | R1              |
    Und der Mahnlauf am 2025-06-20 läuft
    Dann nennt jede Entscheidung über "R1" eine Zeile der Richtlinie
