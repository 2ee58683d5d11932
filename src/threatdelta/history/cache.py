"""A persistent cache of snapshots and evidence look-ups, in one SQLite file.

Snapshots are keyed by the model blob's SHA, the file's suffix (which picks the reader), the rule
pack's digest, the SHA of the decisions file's blob read with it (empty when there is none) and
the tool version; evidence look-ups by commit SHA, model path and tool version; threat indexes
(every threat key of a model with its subjects, which ``review`` counts the threats outside a
change from) by a digest of the model's path and bytes (and decisions file), the rule pack's digest and the tool version.
Both are immutable facts about git objects, so a second run over the same history only works on
revisions it has not seen. Values are plain JSON text; nothing is ever unpickled or executed.

A file that is not such a cache (garbage bytes, another program's database, an older layout) is
replaced by a fresh one, with a note on standard error. When the file cannot be written at all the
history runs without a cache.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from threatdelta import __version__
from threatdelta.git import Repo
from threatdelta.rules.pack import RulePack

SCHEMA_NAME = "threatdelta-history-cache"
SCHEMA_VERSION = "4"
CACHE_FILE = "threatdelta/history.sqlite"
THREAT_INDEXES = 8
"""How many threat indexes the cache keeps (the ones written last)."""
LOCK_TIMEOUT = 10.0
"""Seconds to wait for another run holding the cache before going on without it."""
LOCKED = "is locked by another run"
"""What :func:`_foreign` says of a database another connection holds."""
"""Default location, relative to the repository's git directory."""

_TABLES = {
    "meta": ("key", "value"),
    "snapshot": ("blob", "kind", "pack", "decisions", "tool", "data"),
    "evidence": ("commit_sha", "model_path", "tool", "data"),
    "threat_index": ("model", "pack", "tool", "data"),
}
_CREATE = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE snapshot (blob TEXT NOT NULL, kind TEXT NOT NULL, pack TEXT NOT NULL, "
    "decisions TEXT NOT NULL, tool TEXT NOT NULL, data TEXT NOT NULL, "
    "PRIMARY KEY (blob, kind, pack, decisions, tool))",
    "CREATE TABLE evidence (commit_sha TEXT NOT NULL, model_path TEXT NOT NULL, "
    "tool TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (commit_sha, model_path, tool))",
    "CREATE TABLE threat_index (model TEXT NOT NULL, pack TEXT NOT NULL, tool TEXT NOT NULL, "
    "data TEXT NOT NULL, PRIMARY KEY (model, pack, tool))",
)


class HistoryCache:
    """Snapshots and evidence look-ups that survive between runs."""

    def __init__(
        self,
        path: Path | None,
        *,
        tool: str = __version__,
        stderr: TextIO | None = None,
        lock_timeout: float = LOCK_TIMEOUT,
    ) -> None:
        """Open (or create, or rebuild) the cache at ``path``; ``None`` keeps it in memory.

        ``lock_timeout``: how long to wait for another run that holds the file locked before
        going on without the cache (a locked cache is never rebuilt: the other run's writes
        would be lost)."""
        self.path = path
        self.tool = tool
        self.lock_timeout = lock_timeout
        self.rebuilt_because: str | None = None
        """Why an existing file was replaced, if it was."""
        self._stderr = stderr if stderr is not None else sys.stderr
        self._db = self._open()

    # -- opening ------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            return self._fresh(sqlite3.connect(":memory:"))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(self.path), timeout=self.lock_timeout)
        except (OSError, sqlite3.Error) as error:
            self._note(f"cannot open the history cache {self.path} ({error}); running without it")
            return self._fresh(sqlite3.connect(":memory:"))
        problem = _foreign(db)
        if problem == LOCKED:
            db.close()
            self._note(
                f"the history cache {self.path} is in use by another run (locked for more than "
                f"{self.lock_timeout:g} s); running without it and leaving it as it is"
            )
            return self._fresh(sqlite3.connect(":memory:"))
        if problem is None:
            self._prune(db)
            return db
        db.close()
        if problem != "empty":
            self.rebuilt_because = problem
            self._note(f"the history cache {self.path} {problem}; rebuilding it")
        try:
            self.path.unlink(missing_ok=True)
            return self._fresh(sqlite3.connect(str(self.path)))
        except (OSError, sqlite3.Error) as error:
            self._note(
                f"cannot rebuild the history cache {self.path} ({error}); running without it"
            )
            return self._fresh(sqlite3.connect(":memory:"))

    def _fresh(self, db: sqlite3.Connection) -> sqlite3.Connection:
        with db:
            for statement in _CREATE:
                db.execute(statement)
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("schema", SCHEMA_NAME), ("schema_version", SCHEMA_VERSION)],
            )
        return db

    def _prune(self, db: sqlite3.Connection) -> None:
        """Drop rows written by other tool versions: they can never be hits again."""
        with contextlib.suppress(sqlite3.Error), db:
            db.execute("DELETE FROM snapshot WHERE tool != ?", (self.tool,))
            db.execute("DELETE FROM evidence WHERE tool != ?", (self.tool,))
            db.execute("DELETE FROM threat_index WHERE tool != ?", (self.tool,))

    def _note(self, message: str) -> None:
        print(f"threatdelta: {message}", file=self._stderr)

    # -- access -------------------------------------------------------------------------------

    def snapshot(self, blob: str, kind: str, pack: str, decisions: str = "") -> Any | None:
        """The stored snapshot data, or None; ``decisions`` is the decisions blob's SHA (empty
        when the model was read without one)."""
        return self._get(
            "SELECT data FROM snapshot "
            "WHERE blob=? AND kind=? AND pack=? AND decisions=? AND tool=?",
            (blob, kind, pack, decisions, self.tool),
        )

    def put_snapshots(self, rows: list[tuple[str, str, str, str, Any]]) -> None:
        """Store ``(blob, kind, pack, decisions, data)`` rows."""
        self._put(
            "INSERT OR REPLACE INTO snapshot (blob, kind, pack, decisions, tool, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(b, k, p, s, self.tool, _dump(d)) for b, k, p, s, d in rows],
        )

    def evidence(self, commit: str, model_path: str) -> Any | None:
        """The stored evidence look-up, or None."""
        return self._get(
            "SELECT data FROM evidence WHERE commit_sha=? AND model_path=? AND tool=?",
            (commit, model_path, self.tool),
        )

    def put_evidence(self, rows: list[tuple[str, str, Any]]) -> None:
        """Store ``(commit, model_path, data)`` rows."""
        self._put(
            "INSERT OR REPLACE INTO evidence (commit_sha, model_path, tool, data) "
            "VALUES (?, ?, ?, ?)",
            [(c, m, self.tool, _dump(d)) for c, m, d in rows],
        )

    def threat_index(self, model: str, pack: RulePack) -> Any | None:
        """The stored threat index of a model (``model``: the digest
        :func:`threatdelta.review.partial.model_digest` gives) under ``pack``, or None."""
        return self._get(
            "SELECT data FROM threat_index WHERE model=? AND pack=? AND tool=?",
            (model, _pack_key(pack), self.tool),
            loads=_loads_strings,
        )

    def put_threat_index(self, model: str, pack: RulePack, data: Any) -> None:
        """Store a model's threat index under ``pack``, keeping only the
        :data:`THREAT_INDEXES` written last (each base a review compares with needs one, and a
        large model's index is megabytes)."""
        self._put(
            "INSERT OR REPLACE INTO threat_index (model, pack, tool, data) VALUES (?, ?, ?, ?)",
            [(model, _pack_key(pack), self.tool, _dump(data))],
        )
        with contextlib.suppress(sqlite3.Error), self._db:
            self._db.execute(
                "DELETE FROM threat_index WHERE rowid NOT IN "
                "(SELECT rowid FROM threat_index ORDER BY rowid DESC LIMIT ?)",
                (THREAT_INDEXES,),
            )

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _get(
        self, query: str, args: tuple[str, ...], loads: Callable[[str], Any] = json.loads
    ) -> Any | None:
        try:
            row = self._db.execute(query, args).fetchone()
        except sqlite3.Error:
            return None
        if row is None or not isinstance(row[0], str):
            return None
        try:
            return loads(row[0])
        except ValueError:
            return None

    def _put(self, query: str, rows: list[tuple[str, ...]]) -> None:
        if not rows:
            return
        try:
            with self._db:
                self._db.executemany(query, rows)
        except sqlite3.Error as error:
            self._note(f"could not write to the history cache ({error}); continuing without it")
            self._db.close()
            self._db = self._fresh(sqlite3.connect(":memory:"))


def repository_cache(repo: Repo, path: str | None = None, *, off: bool = False) -> HistoryCache:
    """The cache a command's ``--cache FILE`` / ``--no-cache`` ask for: ``path``, else
    :data:`CACHE_FILE` inside ``repo``'s git folder; with ``off``, one in memory only."""
    if off:
        return HistoryCache(None)
    if path:
        return HistoryCache(Path(path))
    from threatdelta.history.gitlog import git_dir

    return HistoryCache(git_dir(repo) / CACHE_FILE)


def _pack_key(pack: RulePack) -> str:
    from threatdelta.history.snapshot import pack_key

    return pack_key(pack)


def _dump(data: Any) -> str:
    """``data`` as compact JSON with sorted keys. What the cache keeps (snapshots, evidence
    look-ups, threat indexes) is made of strings, integers, booleans, lists and maps, which the
    compiled encoder writes as the standard library does; anything it refuses (a key that is
    not a string, a string that is not UTF-8) is written by the standard library."""
    import orjson

    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _loads_strings(text: str) -> Any:
    """A threat index :func:`_dump` wrote, read by the compiled decoder. It reads numbers
    otherwise than :func:`json.loads` (a large integer as a float), which does not matter for
    a value that must hold only strings: its reader rejects any number."""
    import orjson

    return orjson.loads(text)


def _foreign(db: sqlite3.Connection) -> str | None:
    """Why ``db`` is not a usable cache (``"empty"`` for a new file), or None when it is."""
    try:
        check = db.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            return "is damaged"
        tables = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not tables:
            return "empty"
        if set(_TABLES) - tables:
            return "is not a threatdelta history cache"
        for table, columns in _TABLES.items():
            found = tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
            if found != columns:
                return "has an unknown layout"
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("schema") != SCHEMA_NAME:
            return "is not a threatdelta history cache"
        if meta.get("schema_version") != SCHEMA_VERSION:
            return "has an older layout"
    except sqlite3.OperationalError as error:
        if _is_lock(error):
            return LOCKED
        return "is not a readable SQLite database"
    except sqlite3.Error:
        return "is not a readable SQLite database"
    return None


def _is_lock(error: sqlite3.Error) -> bool:
    """Another connection holds the database (SQLITE_BUSY / SQLITE_LOCKED)."""
    code = getattr(error, "sqlite_errorcode", None)  # Python 3.11 and later
    if isinstance(code, int):
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED and their extended codes
    text = str(error).lower()
    return "locked" in text or "busy" in text
