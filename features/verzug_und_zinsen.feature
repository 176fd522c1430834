# language: de
Funktionalität: Verzug und Verzugszinsen (A1–A6)
  Als Finanzleitung will ich, dass Zinsen erst ab dem Verzug laufen, nach dem gesetzlichen
  Satz und auf den Cent so gerechnet, wie ein Gericht sie nachrechnet.

  Grundlage: Eine Richtlinie mit Hinweis vor Fälligkeit und einer Mahnung mit gesetzlichen Zinsen
    Angenommen die Richtlinie ist in Kraft:
      """
      policy "zinsen" version 1 {
        currency EUR
        timezone "Europe/Berlin"
        calendar DE region from customer
        language de
        segment alle use standard
        ladder standard {
          state vorab "Hinweis vor Fälligkeit" at 3d before due {
            letter "vorab_hinweis"
          }
          state mahnung "1. Mahnung" at 14d after due {
            letter "mahnung_1"
            interest statutory
            wait
          }
        }
      }
      """

  Szenario: A6 – 1.000,00 EUR über einen Basiszinswechsel, Verbraucher (Basiszins + 5)
    Angenommen die Kunden:
      | Kundennummer | Name        | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-01 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag   | Rechnungsnummer |
      | Z1          | 2025-08-15    | 1.000,00 | R1              |
    Und der Mahnlauf am 2025-08-15 läuft
    Dann betragen die Verzugszinsen auf "R1" insgesamt 16,89 EUR
    Und laufen die Verzugszinsen auf "R1" vom 2025-05-16 bis zum 2025-08-14
    Und ist die Hauptforderung von "R1" noch 16,89 EUR offen

  Szenario: A1 – Vereinbarter Zahlungstermin: Verzug ab dem nächsten Tag, ohne Mahnung
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K1           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    |
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-05-16 läuft
    Dann ist "R1" ab dem 2025-05-16 in Verzug
    Und liegen für "R1" im Postausgang:
      | Kanal  | Vorlage       |
      | letter | vorab_hinweis |

  Szenario: A1 – Ein nur auf die Rechnung gedrucktes Zahlungsziel setzt nicht in Verzug
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R2              | K1           | 2025-04-15     | 2025-05-15 | 1.000,00 | nein                  |
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-05-16 läuft
    Dann ist "R2" am 2025-05-16 nicht in Verzug

  Szenario: A2 – Die Mahnung nach Fälligkeit setzt in Verzug, der Hinweis davor nicht
    Der Hinweisbrief vom 12.05. geht vor Fälligkeit hinaus und bleibt ohne Wirkung.  Die
    Mahnung wird am 29.05. versandt, gilt am 01.06. als zugegangen; Zinsen laufen ab dem
    02.06.: 29 Tage zu 7,27 % (5,78) und 45 Tage zu 6,27 % (7,73) auf 1.000,00 EUR.
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R2              | K1           | 2025-04-15     | 2025-05-15 | 1.000,00 | nein                  |
    Wenn der Mahnlauf täglich vom 2025-05-01 bis zum 2025-05-28 läuft
    Dann ist "R2" am 2025-05-28 nicht in Verzug
    Wenn der Mahnlauf täglich vom 2025-05-29 bis zum 2025-06-05 läuft
    Dann ist "R2" ab dem 2025-06-02 in Verzug
    Und liegen für "R2" im Postausgang:
      | Kanal  | Vorlage       |
      | letter | vorab_hinweis |
      | letter | mahnung_1     |
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag   | Rechnungsnummer |
      | Z1          | 2025-08-15    | 1.000,00 | R2              |
    Und der Mahnlauf am 2025-08-15 läuft
    Dann laufen die Verzugszinsen auf "R2" vom 2025-06-02 bis zum 2025-08-14
    Und betragen die Verzugszinsen auf "R2" insgesamt 13,51 EUR

  Szenario: A3 – 30 Tage nach Zugang: Verbraucher nur mit Hinweis, Unternehmer immer
    Angenommen die Kunden:
      | Kundennummer | Name           | Typ | Bundesland |
      | K1           | Anna Schmidt   | B2C | BE         |
      | K2           | Bau Nord GmbH  | B2B | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag | Hinweis 30 Tage | Zugang     |
      | R1              | K1           | 2025-03-03     | 2025-03-03 | 200,00 | ja              | 2025-03-03 |
      | R2              | K1           | 2025-03-03     | 2025-03-03 | 200,00 | nein            | 2025-03-03 |
      | R3              | K2           | 2025-03-03     | 2025-03-03 | 200,00 | nein            | 2025-03-03 |
    Wenn der Mahnlauf täglich vom 2025-03-03 bis zum 2025-03-10 läuft
    Dann ist "R1" ab dem 2025-04-03 in Verzug
    Und ist "R2" am 2025-04-03 nicht in Verzug
    Und ist "R3" ab dem 2025-04-03 in Verzug

  Szenariogrundriss: A1–A3 – Beginn des Verzugs auf den Tag gezählt (§§ 187, 188, 193 BGB)
    Wenn der Verzugsbeginn einer Rechnung bestimmt wird: fällig <fällig>, Fälligkeit vereinbart <vereinbart>, Schuldner <Schuldner>, zugegangen <Zugang>, Hinweis auf 30 Tage <Hinweis>, Mahnung zugegangen <Mahnung>, Bundesland <Land>
    Dann beginnt der Verzug am <Verzug ab> nach Regel "<Regel>"

    Beispiele:
      | fällig     | vereinbart | Schuldner   | Zugang     | Hinweis | Mahnung    | Land | Verzug ab  | Regel | Fall                                          |
      | 2025-05-15 | ja         | Verbraucher | –          | nein    | –          | BE   | 2025-05-16 | A1    | vereinbarter Termin                           |
      | 2025-05-15 | nein       | Verbraucher | –          | nein    | –          | BE   | –          | –     | nur aufgedruckt, keine Mahnung                |
      | 2025-05-15 | nein       | Verbraucher | –          | nein    | 2025-05-10 | BE   | –          | –     | Mahnung vor Fälligkeit ist wirkungslos        |
      | 2025-05-15 | nein       | Verbraucher | –          | nein    | 2025-06-01 | BE   | 2025-06-02 | A2    | Mahnung nach Fälligkeit                       |
      | 2025-03-03 | nein       | Verbraucher | 2025-03-03 | ja      | –          | BE   | 2025-04-03 | A3    | Beispiel des Katalogs                         |
      | 2025-03-03 | nein       | Verbraucher | 2025-03-03 | nein    | –          | BE   | –          | –     | Verbraucher ohne Hinweis                      |
      | 2025-03-03 | nein       | Unternehmen | 2025-03-03 | nein    | –          | BE   | 2025-04-03 | A3    | Unternehmer braucht keinen Hinweis            |
      | 2025-05-02 | nein       | Verbraucher | 2025-05-02 | ja      | –          | BE   | 2025-06-03 | A3    | Tag 30 ist ein Sonntag: Montag                |
      | 2025-04-01 | nein       | Verbraucher | 2025-04-01 | ja      | –          | BE   | 2025-05-03 | A3    | Tag 30 ist der 1. Mai: Freitag                |
      | 2025-07-16 | nein       | Verbraucher | 2025-07-16 | ja      | –          | BY   | 2025-08-19 | A3    | 15. August ist in Bayern Feiertag             |
      | 2025-07-16 | nein       | Verbraucher | 2025-07-16 | ja      | –          | BE   | 2025-08-16 | A3    | 15. August ist in Berlin kein Feiertag        |
      | 2025-03-03 | nein       | Verbraucher | 2025-03-03 | ja      | 2025-03-10 | BE   | 2025-03-11 | A2    | die frühere Mahnung geht den 30 Tagen vor     |

  Szenario: A4 – Unternehmer zahlt Basiszins + 9 Punkte (A6: 26,86 EUR)
    Angenommen die Kunden:
      | Kundennummer | Name          | Typ | Bundesland |
      | K2           | Bau Nord GmbH | B2B | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K2           | 2025-04-15     | 2025-05-15 | 1.000,00 | ja                    |
    Und der Mahnlauf täglich vom 2025-05-01 bis zum 2025-06-01 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag   | Rechnungsnummer |
      | Z1          | 2025-08-15    | 1.000,00 | R1              |
    Und der Mahnlauf am 2025-08-15 läuft
    Dann betragen die Verzugszinsen auf "R1" insgesamt 26,86 EUR
    Und laufen die Verzugszinsen auf "R1" vom 2025-05-16 bis zum 2025-08-14

  Szenariogrundriss: A4/A5 – Gesetzlicher Zinssatz am Tag: Basiszins des Tages plus Aufschlag
    Wenn der gesetzliche Verzugszins am <Tag> für <Schuldner> (<Forderung>) bestimmt wird
    Dann beträgt der Basiszins <Basiszins> und der Verzugszins <Verzugszins> im Jahr
    Und ist der Basiszins an diesem Tag <Stand>

    Beispiele:
      | Tag        | Schuldner   | Forderung           | Basiszins | Verzugszins | Stand          |
      | 2016-07-01 | Verbraucher | Entgeltforderung    | -0,88 %   | 4,12 %      | veröffentlicht |
      | 2022-12-31 | Unternehmen | Entgeltforderung    | -0,88 %   | 8,12 %      | veröffentlicht |
      | 2023-01-01 | Verbraucher | Entgeltforderung    | 1,62 %    | 6,62 %      | veröffentlicht |
      | 2023-07-01 | Unternehmen | Entgeltforderung    | 3,12 %    | 12,12 %     | veröffentlicht |
      | 2024-01-01 | Unternehmen | Entgeltforderung    | 3,62 %    | 12,62 %     | veröffentlicht |
      | 2024-07-01 | Unternehmen | Entgeltforderung    | 3,37 %    | 12,37 %     | veröffentlicht |
      | 2025-01-01 | Unternehmen | Entgeltforderung    | 2,27 %    | 11,27 %     | veröffentlicht |
      | 2025-06-30 | Verbraucher | Entgeltforderung    | 2,27 %    | 7,27 %      | veröffentlicht |
      | 2025-07-01 | Verbraucher | Entgeltforderung    | 1,27 %    | 6,27 %      | veröffentlicht |
      | 2025-07-01 | Unternehmen | sonstige Geldschuld | 1,27 %    | 6,27 %      | veröffentlicht |
      | 2026-01-01 | Unternehmen | Entgeltforderung    | 1,27 %    | 10,27 %     | veröffentlicht |
      | 2026-06-30 | Verbraucher | Entgeltforderung    | 1,27 %    | 6,27 %      | veröffentlicht |
      | 2026-07-01 | Verbraucher | Entgeltforderung    | 1,27 %    | 6,27 %      | vorläufig      |

  Szenario: A5 – Zinsen für Tage nach dem letzten bekannten Halbjahr sind vorläufig
    Verzug ab dem 21.06.2026; der Basiszins ab dem 01.07.2026 ist noch nicht veröffentlicht.
    Die Mahnung am 04.07. macht die bis dahin aufgelaufenen Zinsen geltend, die Zahlung am
    01.08. den Rest: jede Buchung, die Tage ab dem 01.07. enthält, ist vorläufig.
    Angenommen die Kunden:
      | Kundennummer | Name         | Typ | Bundesland |
      | K1           | Anna Schmidt | B2C | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag   | Fälligkeit vereinbart |
      | R1              | K1           | 2026-05-20     | 2026-06-20 | 1.000,00 | ja                    |
    Und der Mahnlauf täglich vom 2026-06-10 bis zum 2026-07-10 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag   | Rechnungsnummer |
      | Z1          | 2026-08-01    | 1.000,00 | R1              |
    Und der Mahnlauf am 2026-08-01 läuft
    Dann laufen die Verzugszinsen auf "R1" vom 2026-06-21 bis zum 2026-07-31
    Und sind die Verzugszinsen auf "R1" ab dem 2026-07-01 als vorläufig markiert

  Szenario: A6 – 10.000,00 EUR unter Unternehmern über den Jahreswechsel: 291,76 EUR
    Angenommen die Kunden:
      | Kundennummer | Name          | Typ | Bundesland |
      | K2           | Bau Nord GmbH | B2B | BE         |
    Und die Rechnungen:
      | Rechnungsnummer | Kundennummer | Rechnungsdatum | Fälligkeit | Betrag    | Fälligkeit vereinbart |
      | R1              | K2           | 2024-10-15     | 2024-11-15 | 10.000,00 | ja                    |
    Und der Mahnlauf täglich vom 2024-11-01 bis zum 2024-12-01 gelaufen ist
    Wenn die Zahlungen eingehen:
      | Zahlungs-ID | Buchungsdatum | Betrag    | Rechnungsnummer |
      | Z1          | 2025-02-14    | 10.000,00 | R1              |
    Und der Mahnlauf am 2025-02-14 läuft
    Dann betragen die Verzugszinsen auf "R1" insgesamt 291,76 EUR
    Und laufen die Verzugszinsen auf "R1" vom 2024-11-16 bis zum 2025-02-13
    Und ist die Hauptforderung von "R1" noch 291,76 EUR offen
    Und steht "R1" im Zustand "mahnung"

  Szenariogrundriss: A6 – Zinsen je Tag zum Satz des Tages, 365 Tage, bis zum Tag vor der Gutschrift
    Wenn Verzugszinsen auf <Betrag> gegen <Schuldner> ab dem <Verzug> bis zur Gutschrift am <Gutschrift> berechnet werden
    Dann ergeben sich die Zeiträume:
      | Tage     | Zinssatz | Zinsen     |
      | <Tage 1> | <Satz 1> | <Zinsen 1> |
      | <Tage 2> | <Satz 2> | <Zinsen 2> |
    Und betragen die Verzugszinsen zusammen <Summe>

    Beispiele:
      | Betrag    | Schuldner   | Verzug     | Gutschrift | Tage 1 | Satz 1  | Zinsen 1 | Tage 2 | Satz 2  | Zinsen 2 | Summe  |
      | 1.000,00  | Verbraucher | 2025-05-16 | 2025-08-15 | 46     | 7,27 %  | 9,16     | 45     | 6,27 %  | 7,73     | 16,89  |
      | 1.000,00  | Unternehmen | 2025-05-16 | 2025-08-15 | 46     | 11,27 % | 14,20    | 45     | 10,27 % | 12,66    | 26,86  |
      | 10.000,00 | Unternehmen | 2024-11-16 | 2025-02-14 | 46     | 12,37 % | 155,90   | 44     | 11,27 % | 135,86   | 291,76 |
