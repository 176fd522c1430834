# language: de
Funktionalität: Stopps und Pausen (C1, C4, C7, D5, D6, D7)
  Als Finanzleitung will ich, dass die Maschine von selbst anhält, wo das Gesetz oder unser
  Anstand es verlangen: bei Bestreiten, Verjährung, Kleinstbeträgen, schutzbedürftigen
  Kunden, Zusagen und Ratenplänen — und dass sie keinen Kanal nutzt, dem der Kunde
  widersprochen hat.

  Grundlage: Eine Richtlinie, die Bestreiten nicht selbst behandelt
    Die Richtlinie sagt absichtlich nichts zu `dispute_opened`: das Anhalten bei Bestreiten
    (C1) muss die Maschine selbst garantieren.
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "stopps" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        limits {
          minimum balance 5.00 EUR
        }
        segment gericht when "gericht" in customer.tags use gericht
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
          state mahnung_2 "2. Mahnung" after 14d in mahnung_1 {
            letter "mahnung_2"
            fee 1.00 EUR
          }
          state inkasso "Übergabe an Inkasso" after 14d in mahnung_2 {
            letter "inkasso_ankuendigung"
            approval by 2 when balance > 1000 EUR else 1
            handover to "Inkasso Partner GmbH"
          }
        }
        ladder gericht {
          state erinnerung "Zahlungserinnerung" at 14d after due {
            letter "zahlungserinnerung"
          }
          state mahnbescheid "Mahnbescheid" after 14d in erinnerung {
            approval by 1
            court order
            wait
          }
        }
        on promise_made      pause until promised_date + 3 business days
        on promise_broken    resume
        on plan_agreed       pause
        on instalment_missed resume
      }
      """

  Szenario: C1 – Eine bestrittene Rechnung ruht, die unbestrittene desselben Kunden läuft weiter
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 500,00 | ja                    |
      | R2              | K1           | 2025-04-15     | 2025-05-15 | 500,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-01 gelaufen ist
    Wenn "R1" am 2025-06-02 bestritten wird
    Und der Mahnlauf täglich vom 2025-06-02 bis zum 2025-07-31 läuft
    Dann steht "R1" im Zustand "erinnerung"
    Und liegen für "R1" im Postausgang:
      | Kanal | Vorlage            |
      | email | zahlungserinnerung |
    Und bucht das Hauptbuch von "R1" keine Mahngebühren
    Und wartet "R1" auf keine Freigabe
    Und steht "R2" im Zustand "mahnung_2"
    Und betragen die Mahngebühren auf "R2" insgesamt 2,00 EUR
    Und wartet "R2" auf eine Freigabe

  Szenario: C1 – Erst nach dem Ausräumen geht es weiter, ab diesem Tag und ohne Rückdatierung
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 500,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-01 gelaufen ist
    Und "R1" am 2025-06-02 bestritten wurde
    Und der Mahnlauf täglich vom 2025-06-02 bis zum 2025-07-31 gelaufen ist
    Wenn für "R1" am 2025-08-01 das Ereignis "Bestreiten ausgeräumt" erfasst wird
    Und der Mahnlauf täglich vom 2025-08-01 bis zum 2025-08-05 läuft
    Dann ist "R1" am 2025-08-01 in den Zustand "mahnung_1" gewechselt
    Und bucht das Hauptbuch von "R1" vor dem 2025-08-01 keine Mahngebühren
    Und betragen die Mahngebühren auf "R1" insgesamt 1,00 EUR

  Szenario: C4 – Eine verjährte Forderung wird markiert und nie vor Gericht gebracht
    Beide Rechnungen wurden erst Ende 2026 gefunden; die Freigabe des Mahnbescheids kommt am
    04.01.2027.  Die 2023 fällige Forderung ist seit dem 01.01.2027 verjährt, die 2024
    fällige erst ab dem 01.01.2028.
    Angenommen die Kunden:
      | Kundennummer | Name          | Typ | Bundesland | Merkmale |
      | K2           | Bau Nord GmbH | B2B | BE         | gericht  |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K2           | 2023-02-15     | 2023-03-15 | 800,00 | ja                    |
      | R2              | K2           | 2024-02-15     | 2024-03-15 | 800,00 | ja                    |
    Und der Mahnlauf täglich vom 2026-12-01 bis zum 2026-12-31 gelaufen ist
    Wenn "Anna Berg" die Eskalation von "R1" am 2027-01-04 freigibt
    Und "Anna Berg" die Eskalation von "R2" am 2027-01-04 freigibt
    Und der Mahnlauf am 2027-01-04 läuft
    Dann ist "R1" ab dem 2027-01-01 verjährt
    Und verzeichnet der Verlauf von "R1" keine Aufgabe "gerichtliches Mahnverfahren"
    Und nennt der Verlauf von "R1" "claim time-barred (§§ 195, 199 BGB): no court order"
    Und ist "R2" ab dem 2028-01-01 verjährt
    Und verzeichnet der Verlauf von "R2" die Aufgabe "gerichtliches Mahnverfahren"

  Szenario: C4 – show und invoices --json sagen, dass und seit wann eine Forderung verjährt ist
    Angenommen die Kunden:
      | Kundennummer | Name          | Typ | Bundesland | Merkmale |
      | K2           | Bau Nord GmbH | B2B | BE         | gericht  |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K2           | 2023-02-15     | 2023-03-15 | 800,00 | ja                    |
      | R2              | K2           | 2024-02-15     | 2024-03-15 | 800,00 | ja                    |
    Wenn der Mahnlauf täglich vom 2026-12-30 bis zum 2027-01-02 läuft
    Dann nennt "mahnwerk show R1 --json" die Forderung verjährt seit dem 2027-01-01
    Und nennt "mahnwerk invoices --json" für "R1" die Forderung verjährt seit dem 2027-01-01
    Und nennt "mahnwerk invoices --json" für "R2" die Forderung nicht verjährt
    Und steht in der Ausgabe von "mahnwerk show R1" "time-barred since 2027-01-01"

  Szenariogrundriss: C4 – Verjährung: drei Jahre ab Jahresende, Neubeginn durch Teilzahlung
    Wenn die Verjährung einer am <fällig> fälligen Forderung mit Anerkenntnis (Teilzahlung) am <Teilzahlung> bestimmt wird
    Dann ist sie ab dem <verjährt ab> verjährt

    Beispiele:
      | fällig     | Teilzahlung | verjährt ab | Fall                                      |
      | 2023-03-15 | –           | 2027-01-01  | Beispiel des Katalogs                     |
      | 2023-12-31 | –           | 2027-01-01  | letzter Tag des Jahres                    |
      | 2024-01-01 | –           | 2028-01-01  | erster Tag des Jahres                     |
      | 2023-03-15 | 2025-06-10  | 2028-06-11  | Neubeginn am Tag nach der Teilzahlung     |
      | 2023-03-15 | 2023-05-01  | 2027-01-01  | Teilzahlung vor Beginn der Frist: wirkungslos |
      | 2023-03-15 | 2027-02-01  | 2027-01-01  | Teilzahlung nach Verjährung belebt nicht  |

  Szenario: C7 – Unter 5,00 EUR gibt es eine Erinnerung und keine Eskalation
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 4,99   | ja                    |
      | R2              | K1           | 2025-04-15     | 2025-05-15 | 5,00   | ja                    |
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-07-31 läuft
    Dann steht "R1" im Zustand "erinnerung"
    Und liegen für "R1" im Postausgang:
      | Kanal | Vorlage            |
      | email | zahlungserinnerung |
    Und bucht das Hauptbuch von "R1" keine Mahngebühren
    Und nennt der Verlauf von "R1" "below the minimum 5.00 EUR: no escalation"
    Und steht "R2" nicht im Zustand "erinnerung"
    Und liegen für "R2" 3 Nachrichten im Postausgang

  Szenario: D5 – Schutzbedürftige Kunden: keine Gebühren, keine Zinsen, nichts ohne Freigabe
    Beide Kunden laufen auf derselben Leiter.  Beim Schutzbedürftigen wartet schon die
    1. Mahnung (sie trägt eine Gebühr) auf eine Person; auch nach der Freigabe bucht die
    Maschine weder Gebühr noch Zinsen, auch nicht bei der Zahlung.
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland | Schutzbedürftig |
      | K1           | Anna Schmidt | B2C | BE         | ja              |
      | K2           | Ben Krause   | B2C | BE         | nein            |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 500,00 | ja                    |
      | R2              | K2           | 2025-04-15     | 2025-05-15 | 500,00 | ja                    |
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-15 läuft
    Dann steht "R1" im Zustand "erinnerung"
    Und wartet "R1" auf eine Freigabe
    Und steht "R2" im Zustand "mahnung_1"
    Und betragen die Mahngebühren auf "R2" insgesamt 1,00 EUR
    Wenn "Clara Vogt" die Eskalation von "R1" am 2025-06-16 freigibt
    Und der Mahnlauf täglich vom 2025-06-16 bis zum 2025-07-31 läuft
    Dann ist "R1" am 2025-06-16 in den Zustand "mahnung_1" gewechselt
    Und bucht das Hauptbuch von "R1" keine Mahngebühren
    Und bucht das Hauptbuch von "R1" keine Verzugszinsen
    Und nennt der Verlauf von "R1" "no fees for a vulnerable customer (D5)"
    Und nennt der Verlauf von "R1" "no interest claimed from a vulnerable customer (D5)"
    Und wartet "R1" auf eine Freigabe
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z1          | 2025-08-15    | 500,00 | R1              |
    Und der Mahnlauf am 2025-08-15 läuft
    Dann steht "R1" im Zustand "paid"
    Und bucht das Hauptbuch von "R1" keine Verzugszinsen

  Szenario: D5 – Wird ein Kunde als schutzbedürftig markiert, laufen ab da keine Zinsen mehr auf
    Bis zur 1. Mahnung am 12.06. sind 2,69 EUR Zinsen gebucht (16.05.–11.06., 27 Tage zu
    7,27 % auf 500,00, einmal gerundet, A6); danach wird der Kunde als schutzbedürftig markiert, und bis zur Zahlung am
    15.08. kommt nichts mehr hinzu.
    Angenommen die Kunden:
      | Kundennummer | Name       | Typ | Bundesland | Schutzbedürftig |
      | K2           | Ben Krause | B2C | BE         | nein            |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R2              | K2           | 2025-04-15     | 2025-05-15 | 500,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-15 gelaufen ist
    Wenn die Kundendaten geändert werden:
      | Kundennummer | Name       | Typ | Bundesland | Schutzbedürftig |
      | K2           | Ben Krause | B2C | BE         | ja              |
    Und der Mahnlauf täglich vom 2025-06-16 bis zum 2025-08-14 läuft
    Und die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z1          | 2025-08-15    | 503,69 | R2              |
    Und der Mahnlauf am 2025-08-15 läuft
    Dann betragen die Verzugszinsen auf "R2" insgesamt 2,69 EUR
    Und steht "R2" im Zustand "paid"

  Szenario: D6 – Ein Zahlungsversprechen pausiert bis zum Termin + 3 Geschäftstage
    Ohne Versprechen käme die 1. Mahnung am 12.06.  Versprochen ist der 20.06. (Freitag);
    drei Geschäftstage später ist Mittwoch, der 25.06.; gemahnt wird am 26.06.
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 500,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-04 gelaufen ist
    Wenn der Kunde am 2025-06-05 für "R1" Zahlung bis zum 2025-06-20 verspricht
    Und der Mahnlauf täglich vom 2025-06-05 bis zum 2025-06-25 läuft
    Dann steht "R1" im Zustand "erinnerung"
    Wenn der Mahnlauf am 2025-06-26 läuft
    Dann ist "R1" am 2025-06-26 in den Zustand "mahnung_1" gewechselt

  Szenario: D6 – Ein gebrochenes Versprechen setzt auf der erreichten Stufe fort; ein drittes pausiert nicht
    Versprechen 1 (05.06., bis 30.06.) wird am 16.06. gebrochen: die fällige 1. Mahnung folgt
    am selben Tag.  Versprechen 2 (18.06., bis 10.07.) pausiert bis 15.07. (+3 Geschäftstage),
    die 2. Mahnung kommt am 16.07.; Versprechen 3 (01.07., bis 29.08.) pausiert nicht mehr.
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 500,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-04 gelaufen ist
    Und der Kunde am 2025-06-05 für "R1" Zahlung bis zum 2025-06-30 verspricht
    Und für "R1" am 2025-06-16 das Ereignis "Zahlungsversprechen gebrochen" erfasst wurde
    Wenn der Mahnlauf täglich vom 2025-06-05 bis zum 2025-06-17 läuft
    Dann ist "R1" am 2025-06-16 in den Zustand "mahnung_1" gewechselt
    Wenn der Kunde am 2025-06-18 für "R1" Zahlung bis zum 2025-07-10 verspricht
    Und der Kunde am 2025-07-01 für "R1" Zahlung bis zum 2025-08-29 verspricht
    Und der Mahnlauf täglich vom 2025-06-18 bis zum 2025-07-31 läuft
    Dann ist "R1" am 2025-07-16 in den Zustand "mahnung_2" gewechselt
    Und nennt der Verlauf von "R1" "promise 3 noted; at most 2 pause (D6)"

  Szenario: D6 – Pünktliche Raten (5 Geschäftstage Nachfrist) halten an, eine versäumte Rate setzt fort
    Raten am 15.06., 15.07. und 15.08.; die zweite kommt am 22.07., dem fünften Geschäftstag
    nach Fälligkeit, und gilt noch als pünktlich.  Die dritte bleibt aus: nach dem 22.08.
    (fünf Geschäftstage nach dem 15.08.) geht es auf der erreichten Stufe weiter.
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 600,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-04 gelaufen ist
    Wenn am 2025-06-05 ein Ratenplan für "R1" vereinbart wird:
      | Fällig     | Betrag |
      | 2025-06-15 | 200,00 |
      | 2025-07-15 | 200,00 |
      | 2025-08-15 | 200,00 |
    Und die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag | Rechnungsnummer |
      | Z1          | 2025-06-13    | 200,00 | R1              |
      | Z2          | 2025-07-22    | 200,00 | R1              |
    Und der Mahnlauf täglich vom 2025-06-05 bis zum 2025-08-22 läuft
    Dann steht "R1" im Zustand "erinnerung"
    Und liegen für "R1" 1 Nachrichten im Postausgang
    Wenn der Mahnlauf täglich vom 2025-08-23 bis zum 2025-08-25 läuft
    Dann ist "R1" am 2025-08-23 in den Zustand "mahnung_1" gewechselt
    Und ist die Hauptforderung von "R1" noch 200,00 EUR offen

  Szenario: D7 – Ein widersprochener Kanal wird nie genutzt, stattdessen geht ein Brief
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland | Widerspruch |
      | K1           | Anna Schmidt | B2C | BE         | email       |
      | K2           | Ben Krause   | B2C | BE         |             |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 500,00 | ja                    |
      | R2              | K2           | 2025-04-15     | 2025-05-15 | 500,00 | ja                    |
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-01 läuft
    Dann liegen für den Kunden "K1" im Postausgang:
      | Kanal  | Vorlage            |
      | letter | zahlungserinnerung |
    Und nennt der Verlauf von "R1" "email opted out (D7): sent as a letter instead"
    Und liegen für den Kunden "K2" im Postausgang:
      | Kanal | Vorlage            |
      | email | zahlungserinnerung |
