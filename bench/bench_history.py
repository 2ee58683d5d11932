"""How long ``threatdelta history`` takes on a long history, cold and with a warm cache.

Usage::

    .venv/bin/python bench/bench_history.py [--commits 200]

Builds a temporary git repository whose every commit edits the bundled infusion-pump model (a
flow property flips, a disposition comes or goes), tags every 50th commit, then times
``build_history`` three ways: without a cache, filling a new cache, and again with that cache
plus one new commit.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from threatdelta.git import Repo  # noqa: E402
from threatdelta.history.build import build_history  # noqa: E402
from threatdelta.history.cache import HistoryCache  # noqa: E402

MODEL = (ROOT / "examples" / "infusion-pump" / "threatmodel.yaml").read_text(encoding="utf-8")


def git(repo: Path, *args: str, when: int = 0) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@example.com",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@example.com",
        "GIT_AUTHOR_DATE": f"@{1767225600 + when * 3600} +0000",
        "GIT_COMMITTER_DATE": f"@{1767225600 + when * 3600} +0000",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def variant(i: int) -> str:
    text = MODEL.replace(
        "properties: {broadcast: true, encrypted: false}",
        f"properties: {{broadcast: true, encrypted: {'true' if i % 2 else 'false'}}}",
    )
    text = text.replace(
        "system: Connected infusion pump", f"system: Connected infusion pump (revision {i})", 1
    )
    if i % 3 == 0:
        text = text.replace(
            "threats:\n",
            f"threats:\n  flow-dos@telemetry: {{status: accepted, justification: 'Round {i}.', approved_by: lead}}\n",
            1,
        )
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        repo_dir = Path(folder) / "repo"
        repo_dir.mkdir()
        git(repo_dir, "init", "-q", "-b", "main")
        model = repo_dir / "threatmodel.yaml"
        for i in range(args.commits):
            model.write_text(variant(i), encoding="utf-8")
            git(repo_dir, "add", "-A", when=i)
            git(repo_dir, "commit", "-q", "-m", f"change {i}", when=i)
            if i % 50 == 49:
                git(repo_dir, "tag", f"v{i // 50 + 1}.0", when=i)
        repo = Repo(repo_dir)
        cache_file = Path(folder) / "cache.sqlite"

        start = time.perf_counter()
        history = build_history(repo, "threatmodel.yaml", cache=HistoryCache(None))
        no_cache = time.perf_counter() - start

        cache = HistoryCache(cache_file)
        start = time.perf_counter()
        build_history(repo, "threatmodel.yaml", cache=cache)
        cold = time.perf_counter() - start
        cache.close()

        model.write_text(variant(args.commits + 1), encoding="utf-8")
        git(repo_dir, "commit", "-qam", "one more", when=args.commits + 1)
        cache = HistoryCache(cache_file)
        start = time.perf_counter()
        build_history(repo, "threatmodel.yaml", cache=cache)
        warm = time.perf_counter() - start
        cache.close()
        print(
            f"history: {len(history.revisions)} model revisions, {len(history.iterations)} iterations"
        )
        print(f"no cache (in memory):        {no_cache:6.2f} s")
        print(f"filling a new cache:         {cold:6.2f} s")
        print(f"warm cache + 1 new commit:   {warm:6.2f} s")


if __name__ == "__main__":
    main()
