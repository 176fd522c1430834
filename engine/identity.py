"""Who a person is, as far as a typed name can tell: one comparison for every decision.

Four eyes (D8) means two *people*, and until mahnwerk knows proven identities
(logins, tokens) the only evidence is the name typed after `--by`, into the
TUI's `--operator` or a bank or privacy decision.  Names that look the same to
a reader must therefore be the same person to the engine: `A.Operator` and
`a.operator`, `anna` and `anna` with a zero-width space in it, a full-width
`ａｎｎａ`, or `anna ` with a trailing blank.  And a person may not sign as the
machine: the audit log's machine actors (`engine`, `dispatch`, `run`, …) are
reserved, so nobody's approval can pass for an automatic step, or the other
way round.

`person(name)` is the one place a name typed by a person is accepted: it
returns the name as it will be written into the log (NFKC, invisible
characters removed, runs of blanks made one, trimmed — the writer's case is
kept, so the log reads as the person wrote it) or raises `IdentityError`.
`identity_key(name)` is what two names are compared by (the same, case-folded);
`same_person(a, b)` compares two names.  When proven identities arrive, they
replace the body of `identity_key`, and every caller stays as it is.
"""

from __future__ import annotations

import re
import unicodedata

from mahnwerk.errors import MahnwerkError

#: Actors the machine writes into the audit log itself; no person may use them.
MACHINE_ACTORS = frozenset(
    {"engine", "dispatch", "run", "import", "bank-import", "demo", "system", "mahnwerk", "portal"}
)

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties): characters that render
# as nothing — zero-width spaces and joiners, soft hyphen, bidi controls, variation
# selectors, Hangul fillers, tags.  Category Cf and Cc are removed as well.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


class IdentityError(MahnwerkError, ValueError):
    """A name that cannot stand for a person: empty, invisible, or a machine's name."""


def _clean(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "")
    text = _INVISIBLE.sub("", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc") or ch == " ")
    return " ".join(text.split())


def identity_key(name: str) -> str:
    """What two names are compared by: NFKC, no invisible characters, one blank, case-folded."""
    return _clean(name).casefold()


def same_person(a: str, b: str) -> bool:
    """Whether two typed names stand for the same person (see `identity_key`)."""
    return identity_key(a) == identity_key(b)


def person(name: str, what: str = "--by NAME") -> str:
    """The name a person typed, cleaned for the log; `IdentityError` if it names nobody.

    `what` says where the name came from, so the message tells the user what to fix.
    """
    cleaned = _clean(name)
    if not cleaned:
        raise IdentityError(f"a person's name is needed ({what}); {name!r} names nobody")
    if cleaned.casefold() in MACHINE_ACTORS:
        raise IdentityError(
            f"{cleaned!r} is reserved for mahnwerk's own entries in the audit log "
            f"(reserved: {', '.join(sorted(MACHINE_ACTORS))}); give your own name ({what})"
        )
    return cleaned


__all__ = ["MACHINE_ACTORS", "IdentityError", "identity_key", "person", "same_person"]
