"""The jinja2 environment for the history and report templates.

Templates ending in ``.html.j2`` are autoescaped: every model string is HTML-escaped on output,
and nothing is ever marked safe except markup built by these templates themselves. Templates
ending in ``.md.j2`` are markdown, with autoescaping off; there every model string goes through
one of the escaping filters (``md``, ``code``, ``mermaid``, ``fence``), as in
:mod:`threatdelta.render.templates`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
import jinja2.nodes
import markupsafe

from threatdelta.render.escape import inert
from threatdelta.render.templates import add_escaping_filters


@jinja2.pass_eval_context
def _finalize(context: jinja2.nodes.EvalContext, value: Any) -> Any:
    """In HTML documents, every printed string loses its hidden characters (bidi overrides,
    zero-width characters) before autoescaping; markdown templates print only filtered text."""
    if context.autoescape and isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return inert(value, "visible")
    return value


def _number(value: Any) -> str:
    """A number for a table: ``–`` for None, no trailing ``.0``."""
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _plural(count: int, word: str, plural: str | None = None) -> str:
    """``1 threat``, ``2 threats``."""
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _span(numbers: list[int]) -> str:
    """``revision 3`` or ``revisions 3–7``."""
    if not numbers:
        return "no model revision"
    if len(numbers) == 1:
        return f"revision {numbers[0]}"
    return f"revisions {numbers[0]}–{numbers[-1]}"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The environment (templates are package data under ``report/templates``)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("threatdelta.report", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2", "svg.j2"), default_for_string=True, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    add_escaping_filters(env)
    env.filters["short"] = lambda sha: (sha or "")[:7]
    env.filters["number"] = _number
    env.filters["plural"] = _plural
    env.filters["span"] = _span
    return env


def render(name: str, **context: Any) -> str:
    """Render template ``name`` with ``context``."""
    return environment().get_template(name).render(**context)
