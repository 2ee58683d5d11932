"""The history of generated repositories, checked against numbers worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.history.gitrepo import AUTH, SPOOF_USER, GitRepo, pump

from threatdelta.engine import EnumerationStats, enumerate_threats
from threatdelta.errors import InputError
from threatdelta.formats.registry import read_model
from threatdelta.git import Repo
from threatdelta.history.build import History, build_history
from threatdelta.history.cache import HistoryCache
from threatdelta.history.gitlog import model_revisions
from threatdelta.history.snapshot import pack_key, snapshot_data, snapshot_of
from threatdelta.rules.pack import RulePack
from threatdelta.rules.packfile import builtin_pack


@pytest.fixture(scope="module")
def history(scripted_repo: Repo, pack: RulePack) -> History:
    return build_history(scripted_repo, "models/pump.yaml", pack=pack)


def test_every_model_revision_is_listed_oldest_first_across_the_rename(history: History) -> None:
    assert [r.number for r in history.revisions] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [r.date.isoformat() for r in history.revisions] == [
        "2025-01-01",
        "2025-01-03",
        "2025-01-05",
        "2025-01-10",
        "2025-01-12",
        "2025-01-20",
        "2025-03-10",
        "2025-03-15",
    ]
    assert [r.path for r in history.revisions[:4]] == ["model.yaml"] * 3 + ["models/pump.yaml"]
    assert history.revisions[3].renamed_from == "model.yaml"
    assert [r.renamed_from for r in history.revisions if r.number != 4] == [None] * 7
    assert history.revisions[0].subject == "First model"


def test_model_size_per_revision(history: History) -> None:
    sizes = [(r.elements, r.flows, r.boundaries, r.controls) for r in history.revisions]
    assert sizes == [
        (2, 1, 0, 0),
        (2, 1, 0, 1),
        (2, 1, 0, 1),
        (2, 1, 0, 1),
        (3, 2, 0, 2),
        (3, 2, 0, 1),
        (4, 2, 0, 1),
        (4, 2, 0, 2),
    ]


def test_threats_by_status_per_revision(history: History) -> None:
    counts = [
        (r.counts.open, r.counts.mitigated, r.counts.accepted, r.counts.total)
        for r in history.revisions
    ]
    assert counts == [
        (3, 0, 0, 3),  # nothing decided
        (2, 1, 0, 3),  # spoof@user mitigated by auth
        (1, 1, 1, 3),  # tamper@ctrl accepted until 2025-03-01
        (1, 1, 1, 3),  # pure rename
        (0, 2, 1, 3),  # sniff@f1 mitigated by tls
        (1, 1, 1, 3),  # auth dropped: spoof@user counts as open again
        (3, 1, 0, 4),  # admin added; the acceptance expired on 2025-03-01
        (1, 2, 1, 4),  # auth back, acceptance renewed
    ]


def test_new_resolved_and_transitions_against_the_previous_revision(history: History) -> None:
    r = history.revisions
    assert r[0].new == ("sniff@f1", "spoof@user", "tamper@ctrl")
    assert r[6].new == ("spoof@admin",)
    assert all(not x.resolved for x in r)
    assert [(t.key, t.before, t.after) for t in r[1].transitions] == [
        ("spoof@user", "open", "mitigated")
    ]
    # The acceptance expired: still stated as accepted, no longer addressed.
    assert [(t.key, t.before, t.after, t.addressed) for t in r[6].transitions] == [
        ("tamper@ctrl", "accepted", "accepted", False)
    ]
    assert len(r[7].transitions) == 2
    assert r[3].transitions == () and r[3].new == ()


def test_regressions_per_revision(history: History) -> None:
    codes = {r.number: sorted(g.code for g in r.regressions) for r in history.revisions}
    assert codes == {
        1: [],
        2: [],
        3: [],
        4: [],
        5: ["evidence-missing"],  # tls names tests/test_tls.py, not there yet
        6: ["control-removed"],
        7: ["expired"],
        8: ["evidence-missing"],  # auth is back, but tests/test_auth.py was deleted
    }
    removed = next(g for g in history.revisions[5].regressions if g.code == "control-removed")
    assert removed.key == "spoof@user" and "'auth'" in removed.message


def test_iterations_end_at_tags_then_the_rest(history: History) -> None:
    assert history.iteration_source == "tags"
    assert [i.name for i in history.iterations] == ["v1.0", "v2.0", "after v2.0"]
    assert [i.revisions for i in history.iterations] == [(1, 2, 3), (4, 5, 6, 7), (8,)]
    assert [i.end_date.isoformat() for i in history.iterations] == [
        "2025-01-05",
        "2025-03-10",
        "2025-03-15",
    ]


def test_first_iteration_retrospective(history: History) -> None:
    v1 = history.iterations[0]
    assert v1.start_sha is None and v1.start.total == 0
    assert v1.added == ("sniff@f1", "spoof@user", "tamper@ctrl")
    assert v1.closed == ("spoof@user", "tamper@ctrl")
    assert v1.still_open == ("sniff@f1",)
    assert v1.gone == () and v1.reopened == ()
    # spoof@user: 2025-01-01 -> 01-03 (2 days, 1 revision); tamper@ctrl: -> 01-05 (4 days, 2).
    d = v1.time_to_disposition
    assert (d.count, d.median_days, d.max_days, d.median_revisions, d.max_revisions) == (
        2,
        3.0,
        4.0,
        1.5,
        2,
    )
    assert [n.key for n in v1.expiring] == ["tamper@ctrl"]  # 2025-03-01 is within 90 days
    assert v1.expired == ()
    assert v1.controls_without_evidence == ()


def test_second_iteration_retrospective(history: History) -> None:
    v2 = history.iterations[1]
    assert (v2.start.open, v2.end.open, v2.end.total) == (1, 3, 4)
    assert v2.added == ("spoof@admin",)
    assert v2.closed == ("sniff@f1",)
    assert v2.still_open == ("spoof@admin", "spoof@user", "tamper@ctrl")
    assert v2.reopened == ("spoof@user", "tamper@ctrl")
    # sniff@f1 appeared 2025-01-01 (revision 1), first addressed 2025-01-12 (revision 5).
    d = v2.time_to_disposition
    assert (d.count, d.median_days, d.max_days, d.median_revisions, d.max_revisions) == (
        1,
        11.0,
        11.0,
        4.0,
        4,
    )
    assert [(n.key, n.expires) for n in v2.expired] == [("tamper@ctrl", "2025-03-01")]
    assert [(g.id, g.missing, g.threats) for g in v2.controls_without_evidence] == [
        ("tls", ("tests/test_tls.py",), 1)
    ]


def test_last_iteration_counts_only_first_dispositions(history: History) -> None:
    rest = history.iterations[2]
    assert rest.closed == ("spoof@user", "tamper@ctrl")
    assert rest.still_open == ("spoof@admin",)
    assert rest.time_to_disposition.count == 0  # both were first addressed long before
    assert [(g.id, g.missing) for g in rest.controls_without_evidence] == [
        ("auth", ("tests/test_auth.py",))
    ]


def test_threat_titles_are_kept(history: History) -> None:
    assert history.threats["spoof@admin"].title == "Administrator could be impersonated"
    assert history.system == "Scripted pump"


def test_since_lists_only_later_revisions_and_iterations(
    scripted: GitRepo, scripted_repo: Repo, pack: RulePack
) -> None:
    result = build_history(scripted_repo, "models/pump.yaml", pack=pack, since="v1.0")
    assert [r.number for r in result.revisions] == [4, 5, 6, 7, 8]
    assert [i.name for i in result.iterations] == ["v2.0", "after v2.0"]
    # The first listed revision is still compared with the one before it.
    assert result.revisions[0].new == ()


def test_until_stops_at_an_older_revision(scripted_repo: Repo, pack: RulePack) -> None:
    result = build_history(scripted_repo, "model.yaml", pack=pack, until="v1.0")
    assert [r.number for r in result.revisions] == [1, 2, 3]
    assert [i.name for i in result.iterations] == ["v1.0"]


def test_today_judges_the_newest_iteration(scripted_repo: Repo, pack: RulePack) -> None:
    import datetime as dt

    result = build_history(scripted_repo, "models/pump.yaml", pack=pack, today=dt.date(2025, 11, 1))
    assert [n.key for n in result.iterations[-1].expiring] == ["tamper@ctrl"]  # 2026-01-01
    assert result.iterations[-1].end_date == dt.date(2025, 11, 1)
    assert result.iterations[0].end_date == dt.date(2025, 1, 5)


def test_tag_pattern_that_matches_nothing_and_no_merges_gives_one_iteration(
    scripted_repo: Repo, pack: RulePack
) -> None:
    result = build_history(scripted_repo, "models/pump.yaml", pack=pack, iterations="release-*")
    assert result.iteration_source == "none"
    assert [(i.name, len(i.revisions)) for i in result.iterations] == [("whole history", 8)]


def test_missing_model_or_revision_is_a_clear_error(scripted_repo: Repo, pack: RulePack) -> None:
    with pytest.raises(InputError, match="does not exist at HEAD"):
        build_history(scripted_repo, "model.yaml", pack=pack)
    with pytest.raises(InputError, match="is a folder, not a model file"):
        build_history(scripted_repo, "models", pack=pack)
    with pytest.raises(InputError, match="unknown revision"):
        build_history(scripted_repo, "models/pump.yaml", pack=pack, until="no-such-branch")
    with pytest.raises(InputError, match="not an ancestor"):
        build_history(scripted_repo, "model.yaml", pack=pack, until="v1.0", since="v2.0")


def test_second_run_reads_nothing_new_from_the_cache(
    scripted_repo: Repo, pack: RulePack, tmp_path: Path
) -> None:
    cache_file = tmp_path / "cache.sqlite"
    first = build_history(
        scripted_repo, "models/pump.yaml", pack=pack, cache=HistoryCache(cache_file)
    )
    # 8 revisions, but the pure rename shares its blob with revision 3.
    assert (first.stats.parsed, first.stats.cached) == (7, 0)
    assert first.stats.evidence_lookups == 7  # revision 1 has no control, nothing to look up
    second = build_history(
        scripted_repo, "models/pump.yaml", pack=pack, cache=HistoryCache(cache_file)
    )
    assert (second.stats.parsed, second.stats.cached) == (0, 7)
    assert (second.stats.evidence_lookups, second.stats.evidence_cached) == (0, 7)
    assert second.revisions == first.revisions
    assert second.iterations == first.iterations


def test_cache_only_processes_new_revisions(
    git_repo: GitRepo, pack: RulePack, tmp_path: Path
) -> None:
    repo = Repo(git_repo.root)
    cache_file = tmp_path / "cache.sqlite"
    for day in range(1, 6):
        git_repo.write_model("threatmodel.yaml", pump(admin=day % 2 == 0))
        git_repo.write("notes.txt", f"day {day}\n")
        git_repo.commit(f"day {day}", f"2025-02-{day:02d}")
    first = build_history(repo, "threatmodel.yaml", pack=pack, cache=HistoryCache(cache_file))
    assert first.stats.revisions == 5 and first.stats.parsed == 2  # two distinct blobs
    git_repo.write_model("threatmodel.yaml", pump(store=True))
    git_repo.commit("store", "2025-02-10")
    second = build_history(repo, "threatmodel.yaml", pack=pack, cache=HistoryCache(cache_file))
    assert (second.stats.revisions, second.stats.parsed, second.stats.cached) == (6, 1, 2)


def test_a_different_rule_pack_is_not_served_from_the_cache(
    scripted_repo: Repo, pack: RulePack, tmp_path: Path
) -> None:
    cache_file = tmp_path / "cache.sqlite"
    build_history(scripted_repo, "models/pump.yaml", pack=pack, cache=HistoryCache(cache_file))
    builtin = build_history(
        scripted_repo, "models/pump.yaml", pack=None, cache=HistoryCache(cache_file)
    )
    assert builtin.stats.parsed == 7
    assert builtin.pack == "default"


def test_unreadable_revision_is_reported_and_skipped_in_comparisons(
    git_repo: GitRepo, pack: RulePack
) -> None:
    git_repo.write_model("threatmodel.yaml", pump())
    git_repo.commit("good", "2025-04-01")
    git_repo.write("threatmodel.yaml", "version: 1\nsystem: [unclosed\n")
    git_repo.commit("broken", "2025-04-02")
    git_repo.write_model("threatmodel.yaml", pump(admin=True))
    git_repo.commit("fixed", "2025-04-03")
    result = build_history(Repo(git_repo.root), "threatmodel.yaml", pack=pack)
    assert [bool(r.error) for r in result.revisions] == [False, True, False]
    assert "threatmodel.yaml" in result.revisions[1].error
    assert result.revisions[2].new == ("spoof@admin",)  # compared with revision 1
    assert len(result.warnings) == 1


def test_merges_end_iterations_when_no_tag_matches(git_repo: GitRepo, pack: RulePack) -> None:
    git_repo.write_model("threatmodel.yaml", pump())
    git_repo.commit("base", "2025-05-01")
    variants: list[dict[str, Any]] = [{"admin": True}, {"store": True}]
    for index, variant in enumerate(variants, start=1):
        git_repo.git("checkout", "-q", "-b", f"feature-{index}")
        git_repo.write_model("threatmodel.yaml", pump(**variant))
        git_repo.commit(f"feature {index} part 1", f"2025-05-{2 * index:02d}")
        git_repo.write_model(
            "threatmodel.yaml", pump(**variant, controls=[AUTH], threats={"spoof@user": SPOOF_USER})
        )
        git_repo.commit(f"feature {index} part 2", f"2025-05-{2 * index:02d}")
        git_repo.git("checkout", "-q", "main")
        git_repo.git(
            "merge",
            "-q",
            "--no-ff",
            f"feature-{index}",
            "-m",
            f"Merge feature {index}",
            date=f"2025-05-{2 * index + 1:02d}T12:00:00+00:00",
        )
    # A merge that does not touch the model ends no iteration of its own.
    git_repo.git("checkout", "-q", "-b", "docs")
    git_repo.write("README.md", "docs\n")
    git_repo.commit("docs", "2025-05-20")
    git_repo.git("checkout", "-q", "main")
    git_repo.git(
        "merge", "-q", "--no-ff", "docs", "-m", "Merge docs", date="2025-05-21T12:00:00+00:00"
    )
    result = build_history(Repo(git_repo.root), "threatmodel.yaml", pack=pack)
    # First-parent walk: the base commit and the two merges (each one revision).
    assert [r.subject for r in result.revisions] == ["base", "Merge feature 1", "Merge feature 2"]
    assert result.iteration_source == "merges"
    assert [len(i.revisions) for i in result.iterations] == [2, 1]
    assert [i.name.split()[0] for i in result.iterations] == ["merge", "merge"]


def test_dozens_of_commits_with_tags_and_renames(git_repo: GitRepo, pack: RulePack) -> None:
    """36 commits: a rename at 12, 24 and 36; notes only at the other multiples of 3; a model
    edit everywhere else (24 edits); a tag at every 9th commit. The administrator is in the model
    at every even-numbered edit, so spoof@admin appears 12 times and goes away 11 times."""
    path = "a/threatmodel.yaml"
    edits = 0
    for n in range(1, 37):
        day = f"2025-06-{n:02d}" if n <= 30 else f"2025-07-{n - 30:02d}"
        if n % 12 == 0:
            new_path = f"{'abcd'[n // 12]}/threatmodel.yaml"
            git_repo.move(path, new_path)
            path = new_path
        elif n % 3 == 0:
            git_repo.write("notes.txt", f"note {n}\n")
        else:
            edits += 1
            git_repo.write_model(path, pump(admin=edits % 2 == 0, system=f"Pump, edit {edits}"))
        git_repo.commit(f"commit {n}", day)
        if n % 9 == 0:
            git_repo.tag(f"v{n // 9}")
    result = build_history(Repo(git_repo.root), path, pack=pack)
    assert edits == 24
    assert len(result.revisions) == 27
    assert result.revisions[0].path == "a/threatmodel.yaml"
    assert [r.renamed_from for r in result.revisions if r.renamed_from] == [
        "a/threatmodel.yaml",
        "b/threatmodel.yaml",
        "c/threatmodel.yaml",
    ]
    assert result.stats.parsed == 24  # a pure rename keeps the blob
    assert [i.name for i in result.iterations] == ["v1", "v2", "v3", "v4"]
    # Commits 1-9 hold 6 edits; 10-18, 19-27 and 28-36 hold 6 edits and a rename each.
    assert [len(i.revisions) for i in result.iterations] == [6, 7, 7, 7]
    assert sum("spoof@admin" in r.new for r in result.revisions) == 12
    assert sum("spoof@admin" in r.resolved for r in result.revisions) == 11
    assert result.revisions[-1].counts.total == 4


DRAGON = Path(__file__).parents[1] / "formats" / "fixtures" / "dragon" / "pump-v2.json"


def _accepting(keys: list[str]) -> str:
    lines = ["version: 1", "threats:"]
    for key in keys:
        lines += [
            f'  "{key}":',
            "    status: accepted",
            "    justification: The pump only talks to the hospital gateway over a cable.",
            "    approved_by: security-lead",
        ]
    return "\n".join(lines) + "\n"


def _dragon_repo(root: Path) -> tuple[GitRepo, str, list[str]]:
    """A Threat Dragon model committed alone, then its decisions file accepting two of its open
    threats in a later commit, then an unrelated commit."""
    repo = GitRepo(root)
    repo.write("models/pump.json", DRAGON.read_text(encoding="utf-8"))
    first = repo.commit("Threat Dragon model", "2025-02-01")
    opened = build_history(Repo(root), "models/pump.json")
    (only,) = opened.revisions
    keys = sorted(k for k in opened.threats)[:2]
    assert only.counts.open >= 2
    repo.write("models/pump.json.threatdelta.yaml", _accepting(keys))
    repo.commit("Record two decisions", "2025-02-05")
    repo.write("README.md", "pump\n")
    repo.commit("Unrelated", "2025-02-07")
    return repo, first, keys


def test_a_commit_changing_only_the_decisions_file_is_a_revision_with_its_decisions(
    tmp_path: Path,
) -> None:
    repo, _, keys = _dragon_repo(tmp_path / "repo")
    history = build_history(Repo(repo.root), "models/pump.json")
    assert [r.subject for r in history.revisions] == ["Threat Dragon model", "Record two decisions"]
    before, after = history.revisions
    assert after.counts.open == before.counts.open - 2
    assert after.counts.accepted == before.counts.accepted + 2
    assert after.counts.total == before.counts.total
    assert sorted((c.key, c.after, c.addressed) for c in after.transitions) == [
        (key, "accepted", True) for key in keys
    ]
    assert history.stats.parsed == 2


def test_a_cached_snapshot_of_the_model_alone_is_not_used_once_decisions_exist(
    tmp_path: Path,
) -> None:
    repo, first, _ = _dragon_repo(tmp_path / "repo")
    path = tmp_path / "cache.sqlite"
    cache = HistoryCache(path)
    try:
        # Fill the cache with the model blob read without a decisions file.
        build_history(Repo(repo.root), "models/pump.json", until=first, cache=cache)
        again = build_history(Repo(repo.root), "models/pump.json", cache=cache)
        third = build_history(Repo(repo.root), "models/pump.json", cache=cache)
    finally:
        cache.close()
    assert (again.stats.cached, again.stats.parsed) == (1, 1)
    assert (third.stats.cached, third.stats.parsed) == (2, 0)
    for history in (again, third):
        before, after = history.revisions
        assert after.counts.open == before.counts.open - 2
        assert after.counts.accepted == before.counts.accepted + 2


def test_each_revision_is_enumerated_from_the_one_before_with_the_same_snapshots(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    repo = Repo(git_repo.root)
    flows = [
        {"id": f"f{i}", "name": f"F{i}", "from": f"p{i}", "to": f"p{(i + 1) % 30}"}
        for i in range(30)
    ]
    for day in range(1, 6):
        # Each revision gives one more element input sanitisation.
        elements = [
            {"id": f"p{i}", "name": f"P{i}", "type": "process"}
            | ({"properties": {"sanitizes_input": True}} if i < day else {})
            for i in range(30)
        ]
        model = {"version": 1, "system": "S", "elements": elements, "flows": flows}
        git_repo.write_model("threatmodel.yaml", model)
        git_repo.commit(f"day {day}", f"2025-02-{day:02d}")
    cache = HistoryCache(tmp_path / "cache.sqlite")
    history = build_history(repo, "threatmodel.yaml", pack=builtin_pack(), cache=cache)
    full = EnumerationStats()
    key = pack_key(builtin_pack())
    for rev in model_revisions(repo, "threatmodel.yaml", repo.resolve("HEAD")):
        (blob,) = repo.read_many([(rev.commit.sha, rev.path)])
        assert blob is not None
        parsed = read_model(blob, rev.path)
        expected = snapshot_of(
            parsed, builtin_pack(), enumerate_threats(parsed.model, builtin_pack(), stats=full)
        )
        assert cache.snapshot(rev.blob, ".yaml", key) == snapshot_data(expected)
    # The first revision in full, then each later one only around the element it changed.
    assert history.stats.parsed == 5
    assert full.evaluations // 5 < history.stats.evaluations < full.evaluations // 2
