"""The one base of every error mahnwerk expects a person to meet.

A `MahnwerkError` carries what went wrong (its message, naming the file, line or record the
person gave), what to do about it (`hint`) and the exit code the command line ends with.
The command line catches it in one place (`mahnwerk.boundary`) and prints
`error: <what> — <what to do>`; no traceback reaches a user unless `--debug` asks for one.

This module imports nothing of mahnwerk, so the policy language (`dsl/`), the engine and the
UI can all derive their errors from it without depending on each other.
"""

from __future__ import annotations

EXIT_ERROR = 1
"""A command that was understood but could not be done (bad file, refused, missing record)."""
EXIT_USAGE = 2
"""A command line that cannot be understood (unknown option, a value of the wrong form)."""


class MahnwerkError(Exception):
    """An expected failure, told to the user as one sentence and a hint.

    Subclasses keep their own constructors (many build the message from a file and a line);
    they may set `hint` and `exit_code` as instance or class attributes.
    """

    exit_code: int = EXIT_ERROR
    hint: str = ""

    def __init__(self, message: str = "", hint: str | None = None, exit_code: int | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def user_message(self) -> str:
        """What went wrong, as the person should read it (without the `error:` prefix)."""
        return str(self)

    def cli_text(self) -> str:
        """The full text the command line prints: `error: <what> — <what to do>`."""
        text = self.user_message().strip() or type(self).__name__
        hint = (self.hint or "").strip()
        if hint and hint not in text:
            text = f"{text} — {hint}"
        if text.startswith("error:") or "error:" in text.split("\n", 1)[0]:
            return text
        return f"error: {text}"


class UsageError(MahnwerkError):
    """A value on the command line that cannot be used; exit code 2."""

    exit_code = EXIT_USAGE


__all__ = ["EXIT_ERROR", "EXIT_USAGE", "MahnwerkError", "UsageError"]
