"""The SQLite cache: hits, foreign or damaged files rebuilt, nothing but JSON stored."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import replace
from pathlib import Path

from threatdelta.history.cache import THREAT_INDEXES, HistoryCache
from threatdelta.rules.packfile import builtin_pack


def _filled(path: Path, tool: str = "1.0") -> None:
    cache = HistoryCache(path, tool=tool, stderr=io.StringIO())
    cache.put_snapshots([("blob1", ".yaml", "pack1", "", {"answer": 42})])
    cache.put_evidence([("c1", "m.yaml", {"missing": ["a.md"]})])
    cache.put_threat_index("model1", builtin_pack(), {"elements": {"e1": ["r@e1"]}, "flows": {}})
    cache.close()


def test_values_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "cache.sqlite"
    _filled(path)
    cache = HistoryCache(path, tool="1.0", stderr=io.StringIO())
    assert cache.snapshot("blob1", ".yaml", "pack1") == {"answer": 42}
    assert cache.snapshot("blob1", ".yaml", "other-pack") is None
    assert cache.snapshot("blob1", ".json", "pack1") is None
    # The same model blob read with a decisions file is another snapshot.
    assert cache.snapshot("blob1", ".yaml", "pack1", "decisions-blob") is None
    assert cache.evidence("c1", "m.yaml") == {"missing": ["a.md"]}
    index = {"elements": {"e1": ["r@e1"]}, "flows": {}}
    assert cache.threat_index("model1", builtin_pack()) == index
    assert cache.threat_index("model2", builtin_pack()) is None
    other = replace(builtin_pack(), digest="another pack")
    assert cache.threat_index("model1", other) is None
    assert cache.rebuilt_because is None
    cache.close()


def test_rows_are_plain_json_text(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    _filled(path)
    db = sqlite3.connect(str(path))
    (data,) = db.execute("SELECT data FROM snapshot").fetchone()
    db.close()
    assert data == '{"answer":42}'


def test_another_tool_version_misses_and_is_pruned(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    _filled(path, tool="1.0")
    cache = HistoryCache(path, tool="2.0", stderr=io.StringIO())
    assert cache.snapshot("blob1", ".yaml", "pack1") is None
    cache.close()
    db = sqlite3.connect(str(path))
    assert db.execute("SELECT COUNT(*) FROM snapshot").fetchone() == (0,)
    assert db.execute("SELECT COUNT(*) FROM threat_index").fetchone() == (0,)
    db.close()


def test_garbage_bytes_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"\x00garbage, not a database\xff" * 100)
    err = io.StringIO()
    cache = HistoryCache(path, stderr=err)
    assert cache.rebuilt_because == "is not a readable SQLite database"
    assert "rebuilding it" in err.getvalue()
    cache.put_snapshots([("b", ".yaml", "p", "", [1])])
    assert cache.snapshot("b", ".yaml", "p") == [1]
    cache.close()
    assert path.read_bytes().startswith(b"SQLite format 3\x00")


def test_a_database_of_another_schema_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    db = sqlite3.connect(str(path))
    db.execute("CREATE TABLE snapshot (id INTEGER PRIMARY KEY, payload BLOB)")
    db.execute("INSERT INTO snapshot (payload) VALUES (x'00')")
    db.commit()
    db.close()
    err = io.StringIO()
    cache = HistoryCache(path, stderr=err)
    assert cache.rebuilt_because == "is not a threatdelta history cache"
    assert cache.snapshot("b", ".yaml", "p") is None
    cache.put_snapshots([("b", ".yaml", "p", "", {"ok": True})])
    assert cache.snapshot("b", ".yaml", "p") == {"ok": True}
    cache.close()


def test_same_tables_with_a_foreign_marker_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    _filled(path)
    db = sqlite3.connect(str(path))
    db.execute("UPDATE meta SET value = 'something-else' WHERE key = 'schema'")
    db.commit()
    db.close()
    cache = HistoryCache(path, tool="1.0", stderr=io.StringIO())
    assert cache.rebuilt_because == "is not a threatdelta history cache"
    assert cache.snapshot("blob1", ".yaml", "pack1") is None
    cache.close()


def test_a_row_that_is_not_json_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    _filled(path)
    db = sqlite3.connect(str(path))
    db.execute("UPDATE snapshot SET data = 'not json {'")
    db.commit()
    db.close()
    cache = HistoryCache(path, tool="1.0", stderr=io.StringIO())
    assert cache.snapshot("blob1", ".yaml", "pack1") is None
    cache.close()


def test_an_empty_file_becomes_a_cache_silently(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"")
    err = io.StringIO()
    cache = HistoryCache(path, stderr=err)
    assert cache.rebuilt_because is None and err.getvalue() == ""
    cache.close()


def test_an_unusable_location_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    err = io.StringIO()
    cache = HistoryCache(blocker / "cache.sqlite", stderr=err)
    assert "running without it" in err.getvalue()
    cache.put_snapshots([("b", ".yaml", "p", "", 1)])
    assert cache.snapshot("b", ".yaml", "p") == 1
    cache.close()


def test_in_memory_cache(tmp_path: Path) -> None:
    cache = HistoryCache(None)
    cache.put_evidence([("c", "m", {"missing": []})])
    assert cache.evidence("c", "m") == {"missing": []}
    cache.close()


def test_a_cache_another_run_holds_locked_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    first = HistoryCache(path, tool="t1")
    first.put_snapshots([("blob", "native", "pack", "", {"kept": True})])
    first.close()
    # Another run is in the middle of writing: it holds the file locked.
    other = sqlite3.connect(str(path))
    other.execute("BEGIN EXCLUSIVE")
    err = io.StringIO()
    cache = HistoryCache(path, tool="t1", stderr=err, lock_timeout=0.2)
    assert "in use by another run" in err.getvalue()
    assert cache.rebuilt_because is None
    # This run goes on without the file (a miss, and writes stay in memory) ...
    assert cache.snapshot("blob", "native", "pack") is None
    cache.put_snapshots([("blob2", "native", "pack", "", {"mine": True})])
    cache.close()
    other.rollback()
    other.close()
    # ... and the other run's cache is still there, untouched.
    again = HistoryCache(path, tool="t1")
    assert again.snapshot("blob", "native", "pack") == {"kept": True}
    assert again.snapshot("blob2", "native", "pack") is None
    again.close()


def test_a_cache_of_the_layout_before_threat_indexes_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    _filled(path)
    db = sqlite3.connect(str(path))
    db.execute("DROP TABLE threat_index")
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    err = io.StringIO()
    cache = HistoryCache(path, stderr=err)
    assert cache.rebuilt_because is not None
    assert cache.threat_index("model1", builtin_pack()) is None
    cache.close()


def test_only_the_threat_indexes_written_last_are_kept(tmp_path: Path) -> None:
    cache = HistoryCache(tmp_path / "cache.sqlite", stderr=io.StringIO())
    pack = builtin_pack()
    for n in range(THREAT_INDEXES + 3):
        cache.put_threat_index(f"model{n}", pack, {"n": n})
    cache.put_threat_index("model1", pack, {"n": "again"})  # written again: the newest
    assert cache.threat_index("model1", pack) == {"n": "again"}
    assert cache.threat_index("model0", pack) is None
    assert cache.threat_index("model2", pack) is None
    newest = THREAT_INDEXES + 2
    assert cache.threat_index(f"model{newest}", pack) == {"n": newest}
    db = sqlite3.connect(str(tmp_path / "cache.sqlite"))
    assert db.execute("SELECT COUNT(*) FROM threat_index").fetchone() == (THREAT_INDEXES,)
    db.close()
    cache.close()


def test_values_are_written_as_the_standard_library_writes_them() -> None:
    import json

    from threatdelta.history.cache import _dump

    value = {
        "threats": [["r@é", 'a "q" \\ \n\t\x01 \u2028 ✓', True, None, 2**62, -3, []]],
        "b": {"z": 1, "a": [False]},
    }
    assert _dump(value) == json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    # Refused by the compiled encoder: written by the standard library.
    for refused in ({1: "x"}, ["\ud800"]):
        assert _dump(refused) == json.dumps(
            refused, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
