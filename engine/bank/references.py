"""Finding invoice numbers in what payers write in the remittance field.

People write `RE R2026000042`, `Rechnung r 2026 000042`, `Rg.-Nr. R-2026-000042`,
`RE2026000042` or, misremembering one digit, `R2026000043`.  The index therefore
compares invoice numbers with separators and case removed (`R2026000042`), and also by
their digit core (`2026000042`) when the number is a letter prefix plus at least five
digits and that core is unique: the prefix is what payers drop or replace by "RE".

A hit must start and end at a word edge of the text, or where letters turn to digits
(`RE2026…`): an invoice `4711` is not found inside `14711` or an IBAN.  Near misses
(one digit wrong, missing, extra, or two swapped) are only *candidates*: the matcher
accepts them only when payer or amount confirm them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

_UMLAUTS = str.maketrans(
    {"Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS", "ä": "AE", "ö": "OE", "ü": "UE"}
)
_CORE = re.compile(r"^([A-Z]+)(\d{5,})$")
# An IBAN as people print it, in groups of four: its groups are not invoice numbers.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b", re.I)
MIN_CORE = 5


def compact(text: str) -> str:
    """`Rg.-Nr. r-2026/0042` → `RGNRR20260042`: upper case, letters and digits only."""
    return re.sub(r"[^A-Z0-9]", "", text.translate(_UMLAUTS).upper())


def _edges(text: str) -> tuple[str, list[bool], list[bool]]:
    """The compact text and, per position, whether a match may start / end there."""
    chars: list[str] = []
    breaks: list[bool] = []  # a non-alphanumeric character before chars[i]
    pending = True
    for ch in text.translate(_UMLAUTS).upper():
        if ch.isascii() and ch.isalnum():
            chars.append(ch)
            breaks.append(pending)
            pending = False
        else:
            pending = True
    n = len(chars)
    start = [False] * (n + 1)
    end = [False] * (n + 1)
    for i in range(n + 1):
        if i == 0 or i == n:
            start[i] = end[i] = True
            continue
        edge = breaks[i] or chars[i - 1].isdigit() != chars[i].isdigit()
        start[i] = end[i] = edge
    return "".join(chars), start, end


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def near(a: str, b: str) -> bool:
    """At most one edit apart, a swap of neighbours counting as one (OSA distance <= 1)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


class ReferenceIndex:
    """Invoice numbers (external ids) → invoice keys, for exact and near look-ups."""

    def __init__(self, numbers: Mapping[str, int] | Iterable[tuple[str, int]]) -> None:
        items = numbers.items() if isinstance(numbers, Mapping) else numbers
        self.exact: dict[str, int] = {}
        cores: dict[str, set[int]] = defaultdict(set)
        for number, key in items:
            norm = compact(number)
            if not norm:
                continue
            self.exact[norm] = key
            if m := _CORE.match(norm):
                cores[m.group(2)].add(key)
        self.cores = {core: next(iter(keys)) for core, keys in cores.items() if len(keys) == 1}
        self.lengths = sorted({len(k) for k in (*self.exact, *self.cores)}, reverse=True)
        self._near: dict[str, set[str]] | None = None

    def find(self, text: str) -> list[int]:
        """Invoice keys named in `text`, in the order they appear, each once."""
        chars, start, end = _edges(_IBAN.sub(" ", text))
        hits: list[tuple[int, int, int]] = []  # (position, length, key)
        taken = [False] * len(chars)
        for length in self.lengths:  # longest first: `R2026000042` before `2026000042`
            for i in range(0, len(chars) - length + 1):
                if not start[i] or not end[i + length] or any(taken[i : i + length]):
                    continue
                piece = chars[i : i + length]
                key = self.exact.get(piece)
                if key is None:
                    key = self.cores.get(piece)
                if key is None:
                    continue
                hits.append((i, length, key))
                for j in range(i, i + length):
                    taken[j] = True
        hits.sort()
        return list(dict.fromkeys(key for _, _, key in hits))

    def near_candidates(self, text: str) -> list[int]:
        """Invoices one typo away from a digit run of `text` (five or more digits)."""
        if self._near is None:
            table: dict[str, set[str]] = defaultdict(set)
            for core in self.cores:
                for variant in (core, *_deletions(core)):
                    table[variant].add(core)
            self._near = table
        found: list[int] = []
        for run in re.findall(r"\d(?:[\d \-/.]*\d)?", _IBAN.sub(" ", text)):
            digits = re.sub(r"\D", "", run)
            if len(digits) < MIN_CORE:
                continue
            for variant in (digits, *_deletions(digits)):
                for core in self._near.get(variant, ()):
                    if near(core, digits):
                        found.append(self.cores[core])
        return list(dict.fromkeys(found))


__all__ = ["ReferenceIndex", "compact", "near"]
