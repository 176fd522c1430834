"""The template store: one Jinja2 file per message, language, channel and tone.

File names say what a file is for: `mahnung_1.de.letter.j2` is the German
letter `mahnung_1`; `mahnung_1.de.letter.firm.j2` its firm variant, used when
the policy's segment says `tone firm` (the plain file serves every tone that
has no file of its own).  `mahnwerk policy check --templates DIR` reads the
same names.  Files starting with `_` are layouts and macros, not messages.
The shipped German and English templates live beside this module; a folder
of one's own (`[delivery] templates` in mahnwerk.toml) is searched first.

Why a sandbox and strict variables:

* Customer data is *data*: it is passed as variables, never compiled as a
  template, and the environment is sandboxed, so a customer called
  `{{ 7*7 }}` stays a name and a template cannot reach Python internals.
* HTML is autoescaped (a name `<b>` is printed, not interpreted).
* A missing variable is an error naming the template file and line
  (`TemplateError`), never an empty gap in a letter to a customer.

Every template defines the block `subject` and the block `body`; the layout
it extends adds salutation, closing and the legally required notices.  The
same file renders twice for an e-mail: as plain text and as HTML (`html` is
true), which the layouts' macros use to draw the invoice table either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    pass_context,
)
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup, escape

from mahnwerk.engine.comms import channels as registry
from mahnwerk.engine.comms import formatting
from mahnwerk.errors import MahnwerkError

SHIPPED = Path(__file__).with_name("templates")
#: The channels templates are written for, from the channel registry (letters first).
CHANNELS = registry.template_channels()
#: Those whose messages have an HTML body as well (letters and e-mails).
HTML_CHANNELS = registry.written_templates()
_NAME = re.compile(
    r"^(?P<name>[a-z0-9_]+)\.(?P<lang>[a-z]{2})\.(?P<channel>[a-z]+)"
    r"(?:\.(?P<tone>[a-z_]+))?\.j2$"
)


class TemplateError(MahnwerkError, ValueError):
    """A template cannot be found or rendered: `file:line: message`."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file, self.line, self.message = file, line, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class TemplateKey:
    name: str
    language: str
    channel: str
    tone: str | None = None

    @property
    def filename(self) -> str:
        tone = f".{self.tone}" if self.tone else ""
        return f"{self.name}.{self.language}.{self.channel}{tone}.j2"


def parse_filename(filename: str) -> TemplateKey | None:
    """`mahnung_1.de.letter.firm.j2` → its key; layouts and other files → None."""
    m = _NAME.match(filename)
    if m is None or filename.startswith("_"):
        return None
    return TemplateKey(m["name"], m["lang"], m["channel"], m["tone"])


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready to send: subject, plain text, HTML (e-mail and letters)."""

    key: TemplateKey
    file: str
    subject: str
    text: str
    html: str | None


def _paragraphs_text(value: str) -> str:
    """Plain text: paragraphs re-flowed (a template may wrap its lines freely);
    lines starting with two spaces or `- ` (tables, lists) are kept as written."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", str(value).strip("\n")):
        lines = [ln.rstrip() for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        if any(ln.startswith(("  ", "- ", "\t")) for ln in lines) or lines[0].startswith("|"):
            out.append("\n".join(ln.rstrip() for ln in lines))
        else:
            out.append(" ".join(ln.strip() for ln in lines))
    return "\n\n".join(out)


def _paragraphs_html(value: Markup) -> Markup:
    """HTML: each paragraph in `<p>`; a block already in markup (a table) stays as is."""
    parts: list[str] = []
    for block in re.split(r"\n\s*\n", str(value).strip("\n")):
        block = block.strip()
        if not block:
            continue
        if block.startswith("<"):
            parts.append(block)
        else:
            lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
            if all(ln.startswith("- ") for ln in lines):
                items = "".join(f"<li>{ln[2:]}</li>" for ln in lines)
                parts.append(f"<ul>{items}</ul>")
            else:
                parts.append(f"<p>{' '.join(lines)}</p>")
    return Markup("\n".join(parts))


@pass_context
def _f_money(ctx: Any, amount: Decimal | int | str, currency: str | None = None) -> str:
    return formatting.money(amount, ctx["language"], currency or ctx.get("currency") or "EUR")


@pass_context
def _f_date(ctx: Any, value: date | datetime, short: bool = False) -> str:
    return formatting.day(value, ctx["language"], short)


@pass_context
def _f_percent(ctx: Any, value: Decimal | int | str) -> str:
    return formatting.percent(value, ctx["language"])


class TemplateStore:
    """Finds and renders templates; `folders` are searched before the shipped ones."""

    def __init__(self, folders: list[Path] | None = None, shipped: bool = True) -> None:
        self.folders = [Path(f) for f in (folders or [])] + ([SHIPPED] if shipped else [])
        for folder in self.folders:
            if not folder.is_dir():
                raise TemplateError(str(folder), None, "no such template folder")
        loader = ChoiceLoader([FileSystemLoader(str(f)) for f in self.folders])
        self.text_env = self._env(loader, autoescape=False)
        self.html_env = self._env(loader, autoescape=True)

    @staticmethod
    def _env(loader: Any, autoescape: bool) -> SandboxedEnvironment:
        env = SandboxedEnvironment(
            loader=loader,
            autoescape=autoescape,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        env.filters.update(
            money=_f_money,
            date=_f_date,
            percent=_f_percent,
            paragraphs=_paragraphs_html if autoescape else _paragraphs_text,
        )
        env.globals["html"] = autoescape
        return env

    # -- lookup -------------------------------------------------------------

    def keys(self) -> list[TemplateKey]:
        """Every message template, own folders first (an own file hides a shipped one)."""
        seen: dict[str, TemplateKey] = {}
        for folder in self.folders:
            for path in sorted(folder.iterdir()):
                key = parse_filename(path.name)
                if key is not None:
                    seen.setdefault(path.name, key)
        return list(seen.values())

    def names(self) -> set[str]:
        return {k.name for k in self.keys()}

    def find(self, name: str, language: str, channel: str, tone: str | None = None) -> TemplateKey:
        """The tone's own file if there is one, else the plain file; else a clear error."""
        candidates = [TemplateKey(name, language, channel)]
        if tone:
            candidates.insert(0, TemplateKey(name, language, channel, tone))
        for key in candidates:
            if self._exists(key.filename):
                return key
        tried = [k.filename for k in candidates]
        raise TemplateError(
            tried[0],
            None,
            f"no template for {name!r} in language {language!r} on channel {channel!r} "
            f"(looked for {', '.join(tried)} in "
            f"{', '.join(str(f) for f in self.folders)})",
        )

    def has(self, name: str, language: str, channel: str, tone: str | None = None) -> bool:
        try:
            self.find(name, language, channel, tone)
        except TemplateError:
            return False
        return True

    def _exists(self, filename: str) -> bool:
        return any((folder / filename).is_file() for folder in self.folders)

    def source(self, key: TemplateKey) -> tuple[str, str]:
        """(source text, path) of a template file."""
        for folder in self.folders:
            path = folder / key.filename
            if path.is_file():
                return path.read_text(encoding="utf-8"), str(path)
        raise TemplateError(key.filename, None, "no such template")

    # -- rendering ----------------------------------------------------------

    def render(self, key: TemplateKey, context: dict[str, Any]) -> Rendered:
        """Subject, text and (except for SMS and calls) HTML of one message."""
        text_subject, text = self._render(self.text_env, key.filename, context)
        html = None
        if key.channel in HTML_CHANNELS:
            _, html = self._render(self.html_env, key.filename, context)
        return Rendered(key, key.filename, " ".join(text_subject.split()), text.strip(), html)

    def render_source(
        self, source: str, context: dict[str, Any], name: str = "<string>", html: bool = False
    ) -> tuple[str, str]:
        """Render template text that is not in a file (checks, the SMS body)."""
        env = self.html_env if html else self.text_env
        try:
            template = env.from_string(source)
            template.name = template.filename = name  # type: ignore[misc]
        except TemplateSyntaxError as exc:
            raise TemplateError(name, exc.lineno, exc.message or "syntax error") from None
        return self._run(template, context, name)

    def _render(
        self, env: SandboxedEnvironment, filename: str, context: dict[str, Any]
    ) -> tuple[str, str]:
        try:
            template = env.get_template(filename)
        except TemplateSyntaxError as exc:
            raise TemplateError(
                exc.filename or exc.name or filename, exc.lineno, exc.message or "syntax error"
            ) from None
        except TemplateNotFound as exc:
            raise TemplateError(filename, None, f"template {exc.name!r} not found") from None
        return self._run(template, context, filename)

    @staticmethod
    def _run(template: Any, context: dict[str, Any], filename: str) -> tuple[str, str]:
        try:
            body = template.render(context)
            subject = ""
            if "subject" in template.blocks:
                try:
                    subject = "".join(template.blocks["subject"](template.new_context(context)))
                except Exception:
                    template.environment.handle_exception()  # points the traceback into the file
        except (JinjaError, SecurityError, ValueError, TypeError, AttributeError) as exc:
            file, line = _template_position(exc, filename)
            raise TemplateError(file, line, _describe(exc)) from None
        return str(subject).strip(), str(body)


def _describe(exc: Exception) -> str:
    text = str(exc)
    if type(exc).__name__ == "UndefinedError":
        return f"missing variable: {text} (a letter must not go out with a gap)"
    return f"{type(exc).__name__}: {text}"


def _template_position(exc: BaseException, fallback: str) -> tuple[str, int | None]:
    """Jinja rewrites tracebacks to point into the template: take the innermost such frame."""
    file, line = fallback, None
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".j2") or name == fallback or name.startswith("<"):
            if name.endswith(".j2") or name == fallback:
                file, line = name, tb.tb_lineno
        tb = tb.tb_next
    if line is None and getattr(exc, "lineno", None):
        line = exc.lineno  # type: ignore[attr-defined]
    return file, line


def escape_text(value: str) -> str:
    """HTML-escape text outside a template (subjects in the HTML head)."""
    return str(escape(value))
