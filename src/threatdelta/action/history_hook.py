"""Where the model's history joins the job summary of a push.

:func:`push_history_report` is called by ``threatdelta github`` on every ``push`` event, after the
register has been built; whatever markdown it returns is appended to the job summary: how threats
and their treatment evolved per revision and iteration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from threatdelta.action.event import PushEvent
from threatdelta.config import Config
from threatdelta.errors import InputError
from threatdelta.git import Repo
from threatdelta.rules.pack import RulePack


@dataclass(frozen=True)
class PushContext:
    """What a history report can use on a push."""

    repo: Repo
    """The checked-out repository (read it through git objects)."""
    event: PushEvent
    """The push: the ref, the new commit and the previous one."""
    config: Config
    """The settings at the pushed commit (model paths, iteration tag pattern)."""
    model_paths: tuple[str, ...]
    """The model files found at the pushed commit."""
    today: dt.date
    """The date expiries are judged against."""
    pack: RulePack | None = None
    """The rule pack from the ``rules`` input or the settings (None: each model's default)."""


def push_history_report(context: PushContext) -> str | None:
    """Markdown for the history section of a push's job summary, or None when nothing can be said.

    On a push to the default branch each model's trend and latest retrospective are shown (see
    :func:`threatdelta.history.summary.history_summary_markdown`; the history cache under
    ``.git`` makes later pushes cheap). A model whose history cannot be read is skipped with a
    line saying so; the push's verdict does not depend on the history.
    """
    if not context.event.on_default_branch or not context.model_paths:
        return None
    from threatdelta.history.summary import history_summary_markdown
    from threatdelta.render.escape import md

    sections: list[str] = []
    for path in context.model_paths:
        try:
            text = history_summary_markdown(
                context.repo,
                path,
                until=context.event.sha,
                iterations=context.config.iterations,
                pack=context.pack,
                today=context.today,
            )
        except InputError as error:
            sections.append(f"History of {md(path)} is not available: {md(error.message, 300)}")
            continue
        sections.append(text)
    return "\n\n".join(sections) if sections else None
