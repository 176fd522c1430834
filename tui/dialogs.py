"""Modal dialogs: a yes/no confirmation, a small form, and the help screen.

Every irreversible action (an approval or rejection, a payment, a run) passes
through `ConfirmDialog`, which says what will happen and defaults to "no":
only `y` or the Yes button goes ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(
        self,
        question: str,
        detail: str = "",
        final: bool = True,
        typed_ahead: Callable[[], list[events.Key]] | None = None,
    ) -> None:
        """`typed_ahead` hands over keys typed after the key that asked the question but
        before this dialog was up (`run.DateField`): they answer it, as typed."""
        super().__init__()
        self.question = question
        self.detail = detail
        self.final = final
        self.typed_ahead = typed_ahead

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="confirm"):
            yield Label(self.question, id="question")
            if self.detail:
                yield Static(self.detail, id="detail")
            if self.final:
                yield Static("This cannot be undone.", classes="warning")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        no = self.query_one("#no", Button)
        no.focus()
        for key in self.typed_ahead() if self.typed_ahead else []:
            no.post_message(key)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class FieldInput(Input):
    """A form's field: Enter moves on at once, and keys typed after it follow the cursor.

    A key reaches a widget through the widget's own queue, and Textual runs the Enter
    binding only once the key has bubbled back up to the app.  Keys typed a few
    milliseconds after Enter are by then queued at the field just left, and landed
    there.  So Enter is handled here, the cursor moves before the next key is read,
    and a key this field gets without having the cursor goes on to the one that has it
    (in the order typed: each queue is first in, first out).
    """

    async def _on_key(self, event: events.Key) -> None:
        focused = self.app.focused
        if focused is not None and focused is not self:
            event.prevent_default()  # not Input's own handler: it would type it here
            event.stop()
            focused.post_message(events.Key(event.key, event.character))
            return
        if event.key == "enter" and isinstance(self.screen, FormDialog):
            event.prevent_default()
            event.stop()
            self.screen.advance(self)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""


class FormDialog(ModalScreen[dict[str, str] | None]):
    """A few text fields; Enter in the last field (or ctrl+s) submits, Escape cancels.

    `validate` returns an error message to show (the dialog stays open) or None; an
    error as (field name, message) also puts the cursor into that field.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Submit"),
    ]

    def __init__(
        self,
        title: str,
        fields: list[Field],
        validate: Callable[[dict[str, str]], str | tuple[str, str] | None] | None = None,
        detail: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.validate = validate
        self.detail = detail

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="form"):
            yield Label(self.title_text, id="question")
            if self.detail:
                yield Static(self.detail, id="detail")
            for f in self.fields:
                yield Label(f.label, classes="field-label")
                yield FieldInput(
                    f.value, placeholder=f.placeholder, id=f"field-{f.name}", compact=True
                )
            yield Static("", id="error", classes="error")
            yield Static("Enter: next / submit   Esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def values(self) -> dict[str, str]:
        return {f.name: self.query_one(f"#field-{f.name}", Input).value for f in self.fields}

    def advance(self, field: Input) -> None:
        """Enter in `field`: to the next field, or submit from the last (`FieldInput`)."""
        inputs = list(self.query(Input))
        at = inputs.index(field)
        if at + 1 < len(inputs):
            self.set_focus(inputs[at + 1])
        else:
            self.action_submit()

    def action_submit(self) -> None:
        values = self.values()
        problem = self.validate(values) if self.validate else None
        if problem:
            field, message = problem if isinstance(problem, tuple) else (None, problem)
            self.query_one("#error", Static).update(message)
            if field is not None:  # the cursor goes where the mistake is
                self.set_focus(self.query_one(f"#field-{field}", Input))
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """`?`: the screens and their keys, then the keys of the screen underneath."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, screens: list[tuple[str, str, str]], keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.screens = screens
        self.keys = keys

    def compose(self) -> ComposeResult:
        lines = ["[b]Screens[/b]"]
        lines += [f"  [b]{key:>9}[/b]  {title:<20} {what}" for key, title, what in self.screens]
        lines += ["", "[b]On this screen[/b]"]
        lines += [f"  [b]{key:>9}[/b]  {what}" for key, what in self.keys]
        lines += [
            "",
            "[b]Everywhere[/b]",
            "  [b]        ?[/b]  this help",
            "  [b]   ctrl+p[/b]  command palette: every screen and action by name",
            "  [b]   ctrl+q[/b]  quit",
            "",
            "Approvals, payments, runs and bank decisions ask for confirmation first.",
        ]
        with Vertical(id="dialog", classes="help"):
            yield Label("mahnwerk — help", id="question")
            with VerticalScroll():
                yield Static("\n".join(lines), classes="help-text")

    def action_close(self) -> None:
        self.dismiss(None)


class PickDialog(ModalScreen[str | None]):
    """Choose one of a few named things with the arrow keys and Enter (Esc: none).

    The sort menu, the saved filters, the search hits and the events to withdraw
    all use it; each option's id is what comes back.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]], detail: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.detail = detail

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        with Vertical(id="dialog", classes="pick"):
            yield Label(self.title_text, id="question")
            if self.detail:
                yield Static(self.detail, id="detail")
            yield OptionList(*(Option(label, id=key) for key, label in self.options), id="pick")
            yield Static("↑↓ choose   Enter: take   Esc: cancel", classes="hint")

    def on_option_list_option_selected(self, event) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
