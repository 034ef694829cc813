"""markup: the one set of escaping filters; user text can neither ping, link, nor forge markers."""

from __future__ import annotations

import jinja2

from modelward import markup
from modelward.report import MARKER, environment

ZWJ = "\u200d"


def test_mentions_are_neutralised_but_emails_are_not() -> None:
    assert markup.text("ping @alice and @org/team") == f"ping @{ZWJ}alice and @{ZWJ}org/team"
    assert markup.text("mail a@example.com") == "mail a@example.com"
    assert markup.cell("@everyone") == f"@{ZWJ}everyone"
    assert markup.html("@bob <b>") == f"@{ZWJ}bob &lt;b&gt;"


def test_user_text_cannot_write_the_hidden_marker_anywhere() -> None:
    for render in (markup.text, markup.cell, markup.block, markup.code, markup.html):
        assert MARKER not in render(f"x {MARKER} y")
        assert "<!--" not in render("<!-- modelward:data {} -->")


def test_links_and_images_are_not_rendered_and_cells_stay_one_cell() -> None:
    assert markup.text("[click](https://evil) ![](https://t)") == (
        "[click\\](https://evil) ![\\](https://t)"
    )
    assert markup.cell("a | b\nc") == "a \\| b<br>c"
    assert markup.code("a`b", in_table=True) == "``a`b``"


def test_a_link_is_a_link_only_for_a_plain_https_url() -> None:
    assert markup.link("PR #1", "https://github.com/a/b/pull/1") == (
        "[PR #1](https://github.com/a/b/pull/1)"
    )
    assert markup.link("PR #1", "javascript:alert(1)") == "PR #1 `javascript:alert(1)`"


def test_the_report_environment_escapes_unfiltered_values_and_keeps_strict_undefined() -> None:
    env = environment()
    template = env.from_string("{{ value }} | {{ value | code }} | {{ safe }}")
    out = template.render(value="<b>@carol</b>", safe=markup.text("ok"))
    assert (
        out == f"&lt;b&gt;@{ZWJ}carol&lt;/b&gt; | `<b>@carol</b>` | ok"
    )  # a code span never pings
    try:
        env.from_string("{{ missing }}").render()
    except jinja2.UndefinedError:
        pass
    else:
        raise AssertionError("StrictUndefined must refuse a missing value")


def test_jinja_syntax_in_user_text_is_printed_not_evaluated() -> None:
    out = environment().from_string("{{ value | block }}").render(value="{{ 7 * 7 }}")
    assert out == "{{ 7 * 7 }}"
