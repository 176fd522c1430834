# language: de
Funktionalität: Briefe, die ein Unternehmen so verschicken kann (Issue 11, Teil C)
  Als Finanzleitung will ich, dass jeder Brief und jede E-Mail eine Zahlungsfrist nennt, die
  zum Verlauf passt, frühere Kosten als das benennt, was sie waren, und dass die Vorschau sagt,
  was wirklich geschieht.  Die Szenarien lassen die Engine mahnen und den Versand probeweise
  laufen (`mahnwerk dispatch --dry-run`): geprüft wird der Text der PDF-Briefe und E-Mails.

  Grundlage: Eine Leiter mit Hinweis vor Fälligkeit, Erinnerung, zwei Mahnungen und Übergabe
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "fristen" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state vorab "Hinweis vor Fälligkeit" at 3d before due {
            email "vorab_hinweis"
          }
          state erinnerung "Zahlungserinnerung" at 7d after due {
            email "zahlungserinnerung"
          }
          state mahnung_1 "1. Mahnung" after 7d in erinnerung {
            letter "mahnung_1"
            fee 1.00 EUR
            interest statutory
          }
          state mahnung_2 "2. Mahnung" after 14d in mahnung_1 {
            letter "mahnung_2"
            fee 1.50 EUR
          }
          state inkasso "Übergabe an Inkasso" after 14d in mahnung_2 {
            letter "inkasso_ankuendigung"
            approval by 1
            handover to "Inkasso Partner GmbH"
          }
        }
        on promise_made pause until promised_date + 3 business days
        on dispute_opened pause
        on dispute_resolved resume
      }
      """
    Und die Kunden:
      | Kundennummer | Name         | Typ | Bundesland | Straße        | PLZ   | Ort    | E-Mail                  |
      | K1           | Anna Schmidt | B2C | BE         | Lindenallee 4 | 10115 | Berlin | anna.schmidt@example.de |

  Szenario: Der Hinweis vor Fälligkeit bittet um Zahlung bis zur Fälligkeit, nicht eine Woche danach
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2026-03-24     | 2026-04-07 | 480,00 |
    Und der Mahnlauf täglich vom 2026-04-01 bis zum 2026-04-04 gelaufen ist
    Wenn die Post vom 2026-04-04 probeweise versandt wird
    Dann steht in der E-Mail an "K1" "in den nächsten Tagen fällig"
    Und steht in der E-Mail an "K1" "bis zum 07.04.2026"
    Und steht in der E-Mail an "K1" nicht "bis zum 14.04.2026"

  Szenario: Die Erinnerung setzt keine Frist, die erst nach der folgenden Mahnung endet
    Die Erinnerung geht am 14.04.2026 hinaus, die 1. Mahnung folgt sieben Tage später am
    21.04.2026: zehn Tage Frist (bis 24.04.2026) widersprächen dem Brief, der folgt.
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2026-03-24     | 2026-04-07 | 480,00 |
    Und der Mahnlauf täglich vom 2026-04-01 bis zum 2026-04-14 gelaufen ist
    Wenn die Post vom 2026-04-14 probeweise versandt wird
    Dann steht in der E-Mail an "K1" "bis zum 20.04.2026"
    Und steht in der E-Mail an "K1" nicht "bis zum 24.04.2026"
    Wenn der Mahnlauf täglich vom 2026-04-15 bis zum 2026-04-21 läuft
    Dann ist "R1" am 2026-04-21 in den Zustand "mahnung_1" gewechselt

  Szenario: Frühere Mahngebühren heißen, was sie waren, nicht Porto dieses Schreibens
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2026-02-10     | 2026-02-24 | 480,00 |
    Und der Mahnlauf täglich vom 2026-02-20 bis zum 2026-03-24 gelaufen ist
    Wenn die Post vom 2026-03-24 probeweise versandt wird
    Dann steht "R1" im Zustand "mahnung_2"
    Und steht im Brief an "K1" "Mahngebühr vom 10.03.2026 1,00 €: Material- und Portokosten unseres Schreibens vom 10.03.2026"
    Und steht im Brief an "K1" "Mahngebühr 1,50 €: Material- und Portokosten dieses Schreibens"
    Und steht im Brief an "K1" nicht "1,00 €: Material- und Portokosten dieses Schreibens"

  Szenario: Das Übergabeschreiben spricht von unserer Forderung
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2026-02-10     | 2026-02-24 | 480,00 |
    Und der Mahnlauf täglich vom 2026-02-20 bis zum 2026-04-07 gelaufen ist
    Wenn "Petra Vogel" die Eskalation von "R1" am 2026-04-07 freigibt
    Und der Mahnlauf am 2026-04-07 läuft
    Und die Post vom 2026-04-08 probeweise versandt wird
    Dann steht "R1" im Zustand "handed_over"
    Und steht im Brief an "K1" "Übergabe unserer Forderung an Inkasso Partner GmbH"
    Und steht im Brief an "K1" "übergeben wir unsere Forderung zur Einziehung"
    Und steht im Brief an "K1" nicht "Ihrer Forderung"

  Szenario: Der Brief nennt, was das Gesetz für die Rechtsform verlangt, und zählt seine Seiten
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2026-02-10     | 2026-02-24 | 480,00 |
    Und der Mahnlauf täglich vom 2026-02-20 bis zum 2026-03-10 gelaufen ist
    Wenn die Post vom 2026-03-10 probeweise versandt wird
    Dann steht "R1" im Zustand "mahnung_1"
    Und hat der Brief an "K1" 1 Seite
    Und steht im Brief an "K1" "Seite 1 von 1"
    Und steht im Brief an "K1" "Sitz: Berlin · Registergericht: Amtsgericht Berlin-Charlottenburg HRB 123456 B · Geschäftsführung: Erika Muster, Max Beispiel"
    Und steht im Brief an "K1" "Tel. 030 1234567 · forderungen@example.com"

  Szenariogrundriss: Die Vorlagenprüfung weist eine Konfiguration ohne Pflichtangabe des Absenders zurück
    Wenn die Briefe mit der Beispielkonfiguration ohne "<Angabe>" geprüft werden
    Dann lehnt die Prüfung sie ab mit "[creditor] <Angabe>: missing"

    Beispiele:
      | Angabe             |
      | register_court     |
      | register_number    |
      | seat               |
      | managing_directors |
      | legal_form         |
      | phone              |
      | email              |

  Szenario: Die Vorschau einer Rechnung mit Zahlungsversprechen sagt, was wirklich geschieht
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2026-02-10     | 2026-02-24 | 480,00 |
    Und der Mahnlauf täglich vom 2026-02-20 bis zum 2026-03-04 gelaufen ist
    Und der Kunde am 2026-03-05 für "R1" Zahlung bis zum 2026-03-20 verspricht
    Wenn der Mahnlauf am 2026-03-05 läuft
    Und die Vorschau von "mahnung_1" für "R1" am 2026-03-06 angesehen wird
    Dann sagt die Vorschau "R1 is paused (promise_made) until 2026-03-25: no letter before; the run of 2026-03-26 looks at it again"
    Und sagt die Vorschau "so this letter is NOT sent now"

  Szenario: Die Vorschau einer bestrittenen Rechnung sagt, dass nichts hinausgeht
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2026-02-10     | 2026-02-24 | 480,00 |
    Und der Mahnlauf täglich vom 2026-02-20 bis zum 2026-03-04 gelaufen ist
    Und "R1" am 2026-03-05 bestritten wurde
    Wenn der Mahnlauf am 2026-03-05 läuft
    Und die Vorschau von "mahnung_1" für "R1" am 2026-03-06 angesehen wird
    Dann sagt die Vorschau "R1 is disputed (C1): no letter goes out"
    Und sagt die Vorschau "so this letter is NOT sent now"

  Szenario: Die Vorschau einer laufenden Rechnung nennt den nächsten Schritt
    Angenommen die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag |
      | R1              | K1           | 2026-02-10     | 2026-02-24 | 480,00 |
    Und der Mahnlauf täglich vom 2026-02-20 bis zum 2026-03-04 gelaufen ist
    Wenn die Vorschau von "mahnung_1" für "R1" am 2026-03-04 angesehen wird
    Dann sagt die Vorschau "R1 is in erinnerung: the run of 2026-03-10 takes its next step"
    Und sagt die Vorschau nicht "NOT sent"
