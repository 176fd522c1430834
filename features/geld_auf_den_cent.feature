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
