"""The one set of escaping filters for Markdown and HTML output.

Every piece of text a pull request controls (file names, reasons, waiver text,
card fields, verdict messages, expectation kwargs) reaches the report, the
promotion comment, the audit export and the model card through these functions.
Each returns `markupsafe.Markup`, so the Jinja environment can autoescape: a
value printed without a filter is escaped by `text`, a filtered one is not
escaped twice.

What they neutralise:
- HTML: `<`, `>`, `&` (so no tag, no comment and no hidden marker such as
  `<!-- modelward:report -->` can be written by user text);
- @-mentions: `@alice` and `@org/team` get a zero-width joiner after the `@`, so a
  report never notifies anyone;
- Markdown links and images (`[x](url)`, `![x](url)`): the `](` is escaped;
- table cells: `|` and line breaks; code spans: a fence longer than any backtick
  run inside, and no marker text even inside the span.
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup

MENTION_RE = re.compile(r"(?<![\w.+-])@(?=[A-Za-z0-9])")
ZWJ = "\u200d"
"""Zero-width joiner: `@\u200dalice` reads as @alice and notifies nobody."""


def _raw(value: Any) -> str:
    """The text of a value; already escaped Markup is unescaped first (no double escaping)."""
    if hasattr(value, "_undefined_hint"):  # jinja2.StrictUndefined: raise its error
        str(value)
    if isinstance(value, Markup):
        return value.unescape()
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _clip(value: str, most: int | None) -> str:
    if most is None or len(value) <= most:
        return value
    return value[: max(most - 1, 1)] + "…"


SAFE_URL_RE = re.compile(r"^https://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+$")


def link(label: Any, url: Any) -> Markup:
    """A Markdown link when `url` is a plain https URL; else the label and the URL as code."""
    target = _raw(url)
    if SAFE_URL_RE.match(target) and "](" not in target and ")" not in target:
        return Markup(f"[{text(label)}]({target})")
    return Markup(f"{text(label)} {code(target)}")


def no_mentions(text: str) -> str:
    return MENTION_RE.sub("@" + ZWJ, text)


def html(value: Any) -> Markup:
    """HTML text: `&`, `<`, `>`, quotes escaped; mentions neutralised."""
    text = _raw(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace('"', "&quot;").replace("'", "&#39;")
    return Markup(no_mentions(text))


def _md(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("](", "\\](")
    return no_mentions(text)


def text(value: Any, most: int | None = None) -> Markup:
    """Inline Markdown prose: escaped, line breaks folded into spaces."""
    if value is None:
        return Markup("—")
    return Markup(" ".join(_md(_clip(_raw(value), most)).split()))


def cell(value: Any, most: int | None = None) -> Markup:
    """A Markdown table cell: escaped, `|` and line breaks neutralised."""
    if value is None:
        return Markup("—")
    out = _md(_clip(_raw(value), most)).replace("|", "\\|")
    out = out.replace("\r\n", "\n").replace("\r", "\n")
    return Markup(out.strip().replace("\n", "<br>"))


def block(value: Any) -> Markup:
    """A paragraph of user prose (card fields): escaped, line breaks kept."""
    return Markup(_md(_raw(value)).replace("\r\n", "\n").strip())


def code(value: Any, in_table: bool = False, most: int | None = None) -> Markup:
    """An inline code span that survives backticks (and `|` inside tables).

    Code spans show `<` literally, so the marker text is broken with a zero-width
    joiner instead: a span can never contain `<!--` or `-->`.
    """
    if value is None:
        return Markup("—")
    raw = " ".join(_clip(_raw(value), most).split())
    raw = raw.replace("<!--", "<" + ZWJ + "!--").replace("-->", "--" + ZWJ + ">")
    longest = max((len(run) for run in re.findall(r"`+", raw)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if raw.startswith("`") or raw.endswith("`") else ""
    span = f"{fence}{pad}{raw}{pad}{fence}"
    return Markup(span.replace("|", "\\|") if in_table else span)


def finalize(value: Any) -> Any:
    """Jinja's finalize: anything printed without a filter is escaped as Markdown text."""
    if value is None or isinstance(value, (Markup, int, float)):
        return value
    if hasattr(value, "__html__") or hasattr(value, "_undefined_hint"):
        return value  # Jinja renders (or, strict, refuses) an Undefined itself
    return Markup(_md(_raw(value)))


FILTERS = {"cell": cell, "text": text, "block": block, "code": code, "html": html}
