"""What the GitHub Action shows of the history: a job-summary section and a one-line trend.

:func:`history_summary_markdown` gives the markdown for a push to the default branch (the trend
chart and the latest iteration's retrospective); :func:`trend_line` gives the line a pull-request
comment carries (open threats at base and at head).
"""

from __future__ import annotations

import datetime as dt

from threatdelta.git import Repo
from threatdelta.history.build import build_history
from threatdelta.history.cache import CACHE_FILE, HistoryCache
from threatdelta.history.gitlog import git_dir
from threatdelta.history.render import history_data
from threatdelta.history.trend import trend_mermaid
from threatdelta.register import Register
from threatdelta.rules.pack import RulePack


def history_summary_markdown(
    repo: Repo,
    path: str,
    *,
    until: str = "HEAD",
    iterations: str = "v*",
    pack: RulePack | None = None,
    use_cache: bool = True,
    today: dt.date | None = None,
) -> str:
    """Markdown: the trend as a Mermaid xychart and the latest iteration's retrospective.

    ``path`` is the model's repository path at ``until``; the cache lives in the repository's
    git folder unless ``use_cache`` is False. Raises :class:`~threatdelta.errors.InputError` when
    the model or the revision does not exist."""
    from threatdelta.render.documents import render

    cache = HistoryCache(git_dir(repo) / CACHE_FILE if use_cache else None)
    try:
        history = build_history(
            repo, path, until=until, iterations=iterations, pack=pack, cache=cache, today=today
        )
    finally:
        cache.close()
    data = history_data(history)
    readable = [r for r in data["revisions"] if "threats" in r]
    return render(
        "history_summary.md.j2",
        data=data,
        mermaid=trend_mermaid(history.revisions, history.iterations),
        latest=readable[-1] if readable else None,
        iteration=data["iterations"][-1] if data["iterations"] else None,
    )


def trend_line(base: Register | None, head: Register | None) -> str:
    """``Open threats: 12 at base → 9 at head (−3).`` (open means unaddressed)."""
    before = base.counts()["unaddressed"] if base is not None else 0
    after = head.counts()["unaddressed"] if head is not None else 0
    change = after - before
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"Open threats: {before} at base → {after} at head ({sign}{abs(change)})."
