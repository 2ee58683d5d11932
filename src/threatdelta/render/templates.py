"""The jinja2 environment for markdown templates.

Autoescaping is off because the output is markdown, not HTML: every piece of model text must go
through one of the escaping filters (``md``, ``code``, ``html_code``, ``mermaid``, ``fence``, all
of them :func:`threatdelta.render.escape.inert`), and templates never print a
model string raw. ``StrictUndefined`` turns a typo in a template into an error, not empty text.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import jinja2

from threatdelta.render import escape
from threatdelta.rules.pack import STRIDE_NAMES


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared template environment (templates are package data)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("threatdelta.render", "templates"),
        autoescape=False,  # noqa: S701 - markdown output; every value goes through an escape filter
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    add_escaping_filters(env)
    return env


def add_escaping_filters(env: jinja2.Environment) -> None:
    """The filters every template uses to print model text (see :mod:`threatdelta.render.escape`)."""
    env.filters["md"] = escape.md
    env.filters["code"] = escape.code
    env.filters["html_code"] = escape.html_code
    env.filters["mermaid"] = escape.mermaid_label
    env.filters["yaml_scalar"] = escape.yaml_scalar
    env.filters["fence"] = escape.fence
    env.filters["plain"] = escape.plain
    env.filters["stride_name"] = lambda letter: STRIDE_NAMES.get(letter, letter)


def render(name: str, **context: Any) -> str:
    """Render template ``name`` with ``context``."""
    return environment().get_template(name).render(**context)


def render_chunks(name: str, **context: Any) -> Iterator[str]:
    """The text of template ``name`` with ``context``, in pieces as it is made (for output too
    large to hold as one string)."""
    return environment().get_template(name).generate(**context)
