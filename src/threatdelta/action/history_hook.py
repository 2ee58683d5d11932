"""Where the model's history joins the job summary of a push.

:func:`push_history_report` is called by ``threatdelta github`` on every ``push`` event, after the
register has been built; whatever markdown it returns is appended to the job summary. It returns
nothing yet: the history report (how threats and their treatment evolved per commit, iteration and
release) plugs in here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from threatdelta.action.event import PushEvent
from threatdelta.config import Config
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
    """Markdown for the history section of a push's job summary, or None for no section.

    The returned text must already be escaped (build it with the ``render`` templates).
    """
    del context  # not used until the history report is wired in
    return None
