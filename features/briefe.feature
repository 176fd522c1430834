# language: de
Funktionalität: Was der Kunde bekommt – Pflichtangaben, Erben, keine leeren Drohungen (B3, C6, D9, E1)
  Als Finanzleitung will ich, dass jeder Brief sagt, was er sagen muss, und nichts, was er
  nicht sagen darf.  Die Szenarien lassen die Engine mahnen und den Versand probeweise
  laufen (`mahnwerk dispatch --dry-run`): geprüft wird der Text der erzeugten PDF-Briefe
  und E-Mails, wie der Kunde ihn liest.

  Grundlage: Eine Leiter bis zur Übergabe an das Inkassounternehmen
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "briefe" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          no handover below 50.00 EUR
        }
        segment alle use standard
        ladder standard {
          state erinnerung "Zahlungserinnerung" at 11d after due {
            email "zahlungserinnerung"
          }
          state letzte "Letzte Mahnung" after 14d in erinnerung {
            letter "letzte_mahnung"
            interest statutory
          }
          state inkasso "Übergabe an Inkasso" after 14d in letzte when principal >= 50 EUR {
            letter "inkasso_ankuendigung"
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

  Szenario: B3 – das erste Inkassoschreiben enthält die Angaben des § 13a RDG
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland | Straße         | PLZ   | Ort    |
      | K1           | Anna Schmidt | B2C | BE         | Lindenallee 4  | 10115 | Berlin |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 480,00 |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-09-12 gelaufen ist
    Wenn "Petra Vogel" die Eskalation von "R1" am 2025-09-12 freigibt
    Und der Mahnlauf am 2025-09-12 läuft
    Und die Post vom 2025-09-12 probeweise versandt wird
    Dann steht "R1" im Zustand "handed_over"
    Und steht im Brief an "K1" "Anna Schmidt Lindenallee 4 10115 Berlin"
    Und steht im Brief an "K1" "Gläubiger der Forderung: Muster Versand GmbH, Hauptstraße 1, 10115 Berlin"
    Und steht im Brief an "K1" "Rechnung R1 vom 21.07.2025"
    Und steht im Brief an "K1" "zu 6,27 % jährlich auf 480,00 €"
    Und steht im Brief an "K1" "Ihre Anschrift wurde nicht ermittelt"
    Und steht im Brief an "K1" "Zuständige Aufsichtsbehörde"

  Szenariogrundriss: B3 – die Vorlagenprüfung weist ein Inkassoschreiben ohne Pflichtangabe zurück
    Wenn die Vorlage "inkasso_ankuendigung" ohne die Zeile mit "<Zeile>" geprüft wird
    Dann fehlt die Pflichtangabe "<Angabe>"

    Beispiele:
      | Zeile                          | Angabe                          |
      | Zuständige Aufsichtsbehörde    | the supervisory authority       |
      | Ihre Anschrift wurde nicht     | whether the address was traced  |
      | Gläubiger der Forderung        | creditor's address              |

  Szenario: B3 – die ausgelieferte Vorlage ist vollständig
    Wenn die Vorlage "inkasso_ankuendigung" geprüft wird, wie sie ausgeliefert wird
    Dann fehlt keine Pflichtangabe

  Szenariogrundriss: D9 – die letzte Mahnung droht nur mit dem Inkasso, wenn es kommen kann
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland | Straße        | PLZ   | Ort    |
      | K1           | Anna Schmidt | B2C | BE         | Lindenallee 4 | 10115 | Berlin |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | <Betrag> |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-29 gelaufen ist
    Wenn die Post vom 2025-08-29 probeweise versandt wird
    Dann droht der Brief an "K1" mit dem Inkasso: <Drohung>

    Beispiele:
      | Betrag | Drohung |
      | 480,00 | ja      |
      | 40,00  | nein    |

  Szenario: C6 – nach dem Tod geht der Brief an die Erben, nie im Namen des Verstorbenen
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland | Straße        | PLZ   | Ort    | E-Mail                  |
      | K1           | Anna Schmidt | B2C | BE         | Lindenallee 4 | 10115 | Berlin | anna.schmidt@example.de |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 480,00 |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-20 gelaufen ist
    Und für den Kunden "K1" am 2025-08-20 das Ereignis "Todesfall" erfasst wurde
    Wenn der Mahnlauf täglich vom 2025-08-20 bis zum 2025-10-02 läuft
    Und die Post vom 2025-10-02 probeweise versandt wird
    Dann steht im Brief an "K1" "An die Erben von Anna Schmidt"
    Und steht im Brief an "K1" nicht "Sehr geehrte Frau Schmidt"

  Szenario: E1 – der Betreff einer Mahn-E-Mail verrät keine Schuld
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland | E-Mail                  |
      | K1           | Anna Schmidt | B2C | BE         | anna.schmidt@example.de |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2025-07-21     | 2025-08-04 | 480,00 |
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-15 gelaufen ist
    Wenn die Post vom 2025-08-15 probeweise versandt wird
    Dann lautet der Betreff der E-Mail an "K1" "Ihre Rechnung R1"

  Szenariogrundriss: E1 – die Vorlagenprüfung weist verräterische Betreffzeilen zurück
    Dann ist der Betreff "<Betreff>" auf <Sprache> <Urteil>

    Beispiele:
      | Betreff                     | Sprache  | Urteil       |
      | Ihre Rechnung 4711          | Deutsch  | neutral      |
      | 2. Mahnung zu Rechnung 4711 | Deutsch  | verräterisch |
      | Offene Forderung            | Deutsch  | verräterisch |
      | Your invoice 4711           | Englisch | neutral      |
      | Overdue payment reminder    | Englisch | verräterisch |
