"""Every git call threatdelta makes, in one place.

Files are read from git objects (``git cat-file``), never from the working tree, so a review in CI
sees exactly the two revisions it compares. Commands run without a shell, with arguments as a
list, and with ``--`` before paths.
"""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from threatdelta.errors import InputError
from threatdelta.files import repo_path
from threatdelta.limits import MAX_FILE_BYTES

MAX_BLOB_BYTES = MAX_FILE_BYTES
"""Largest file read from a revision."""

_OBJECT_TYPES = ("blob", "tree", "commit", "tag")


class GitError(InputError):
    """A git command failed in a way the user can act on (unknown revision, not a repository)."""


@dataclass(frozen=True)
class ObjectInfo:
    """What ``git cat-file --batch-check`` says about an object."""

    type: str
    """blob, tree, commit or tag."""
    sha: str
    """Object SHA."""
    size: int
    """Size in bytes."""


@dataclass(frozen=True)
class Repo:
    """A git repository on disk."""

    root: Path
    """The top-level directory of the work tree."""
    _commits: set[str] = field(default_factory=set, compare=False, repr=False)
    """Full SHAs known to name commits (a commit never changes, so they are looked up once)."""
    _trees: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    """The file paths of known commits (see :meth:`files`)."""

    def run(self, *args: str, input_bytes: bytes | None = None, check: bool = True) -> bytes:
        """Run ``git ARGS`` in the repository and return its standard output."""
        try:
            result = subprocess.run(
                ["git", "-C", str(self.root), *args],
                input=input_bytes,
                capture_output=True,
                check=False,
            )
        except FileNotFoundError as error:
            raise GitError("git is not installed or not on PATH") from error
        if check and result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {message[-1] if message else 'no message'}")
        return result.stdout

    def resolve(self, rev: str) -> str:
        """The full commit SHA of ``rev``."""
        if rev in self._commits:
            return rev
        if rev.startswith("-"):
            raise GitError(f"'{rev}' is not a revision")
        out = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        sha = out.decode().strip()
        if not sha:
            raise GitError(f"unknown revision '{rev}'")
        self._commits.add(sha)
        return sha

    def resolve_all(self, *revs: str) -> tuple[str, ...]:
        """The full commit SHAs of ``revs``, looked up with one git process; when one of them
        is not a commit, each is resolved alone (:meth:`resolve`), so the error is the same."""
        asked = [r for r in revs if r not in self._commits]
        if len(asked) > 1 and not any(r.startswith("-") or "\n" in r or "\r" in r for r in asked):
            request = "".join(f"{r}^{{commit}}\n" for r in asked).encode("utf-8", "surrogateescape")
            answers = self.run("cat-file", "--batch-check", input_bytes=request, check=False)
            lines = answers.decode("ascii", "replace").splitlines()
            if len(lines) == len(asked):
                found = [line.split() for line in lines]
                if all(len(f) == 3 and f[1] == "commit" for f in found):
                    self._commits.update(f[0] for f in found)
                    sha = dict(zip(asked, (f[0] for f in found), strict=True))
                    return tuple(sha.get(r, r) for r in revs)
        return tuple(self.resolve(r) for r in revs)

    def default_branch(self) -> str | None:
        """The remote's default branch (``origin/main``), or a local main/master, if any."""
        out = self.run("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", check=False)
        ref = out.decode().strip()
        if ref:
            return ref.removeprefix("refs/remotes/")
        for name in ("origin/main", "origin/master", "main", "master"):
            if self.run("rev-parse", "--verify", "--quiet", name, check=False).strip():
                return name
        return None

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of two revisions, if any."""
        out = self.run("merge-base", a, b, check=False).decode().strip()
        return out or None

    def files(self, rev: str) -> tuple[str, ...]:
        """Every file path at ``rev`` (listed once per run for a commit's full SHA)."""
        known = self._trees.get(rev)
        if known is not None:
            return known
        out = self.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", rev)
        found = tuple(sorted(p.decode("utf-8", "replace") for p in out.split(b"\0") if p))
        if rev in self._commits:
            self._trees[rev] = found
        return found

    def matching(self, rev: str, patterns: Iterable[str]) -> tuple[str, ...]:
        """Paths at ``rev`` matching any of ``patterns`` (glob syntax; ``**`` spans folders)."""
        pats = tuple(patterns)
        return tuple(p for p in self.files(rev) if any(glob_match(p, pat) for pat in pats))

    def exists(self, rev: str, path: str) -> bool:
        """True when ``path`` names a file or folder at ``rev`` (see :meth:`objects`)."""
        (found,) = self.objects([(rev, path)])
        return found is not None and found.type in ("blob", "tree")

    def objects(self, specs: Sequence[tuple[str, str]]) -> list[ObjectInfo | None]:
        """What each ``(rev, path)`` names, or None, looked up with one git process.

        A path is read as a repository path (:func:`threatdelta.files.repo_path`): one that is
        absolute or climbs out with ``..`` names nothing and is never passed to git. Symbolic
        links are followed while they stay inside the tree at ``rev``; one that leads out of it,
        dangles or loops names nothing.
        """
        results: list[ObjectInfo | None] = [None] * len(specs)
        asked: list[int] = []
        lines: list[str] = []
        for index, (rev, path) in enumerate(specs):
            try:
                clean = repo_path(path)
            except InputError:
                continue
            if "\n" in rev or "\r" in rev or rev.startswith("-"):
                continue
            asked.append(index)
            lines.append(f"{rev}:{clean}\n")
        if not asked:
            return results
        out = self.run(
            "cat-file",
            "--batch-check=%(objecttype) %(objectname) %(objectsize)",
            "--follow-symlinks",
            input_bytes="".join(lines).encode("utf-8", "surrogateescape"),
        ).split(b"\n")
        position = 0
        for index in asked:
            if position >= len(out):
                break
            parts = out[position].decode("utf-8", "replace").split()
            position += 1
            if parts and parts[0] in ("symlink", "dangling", "loop", "notdir"):
                position += 1  # these answers carry one more line: the link's text
                continue
            if len(parts) == 3 and parts[0] in _OBJECT_TYPES and parts[2].isdigit():
                results[index] = ObjectInfo(parts[0], parts[1], int(parts[2]))
        return results

    def read(self, rev: str, path: str) -> bytes | None:
        """The bytes of the file ``path`` at ``rev``, or None when it names no file there."""
        (data,) = self.read_many([(rev, path)])
        return data

    def read_many(self, specs: Sequence[tuple[str, str]]) -> list[bytes | None]:
        """Read many ``(rev, path)`` files with two git processes; each path is looked up as
        :meth:`objects` does, and at most :data:`MAX_BLOB_BYTES` of a file are read."""
        if not specs:
            return []
        found = self.objects(specs)
        for (rev, path), info in zip(specs, found, strict=True):
            if info is not None and info.type == "blob" and info.size > MAX_BLOB_BYTES:
                raise InputError(
                    f"{path} at {rev[:12]} is {info.size} bytes; at most {MAX_BLOB_BYTES} are read"
                )
        shas = {
            i: info.sha for i, info in enumerate(found) if info is not None and info.type == "blob"
        }
        blobs = sorted(shas)
        results: list[bytes | None] = [None] * len(specs)
        if not blobs:
            return results
        request = "".join(f"{shas[i]}\n" for i in blobs)
        out = self.run("cat-file", "--batch", input_bytes=request.encode("ascii"))
        pos = 0
        for index in blobs:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[-1] == b"missing":
                continue
            size = int(header[2])
            results[index] = out[pos : pos + size] if header[1] == b"blob" else None
            pos += size + 1
        return results

    def renamed_from(self, base: str, head: str, path: str) -> str | None:
        """The path at ``base`` that ``path`` at ``head`` was renamed (or copied) from, if any."""
        out = self.run("diff", "--name-status", "-z", "-M", base, head, "--")
        fields = out.split(b"\0")
        i = 0
        while i < len(fields) - 1:
            status = fields[i].decode()
            if status.startswith(("R", "C")) and i + 2 < len(fields):
                old, new = fields[i + 1].decode(), fields[i + 2].decode()
                if new == path:
                    return old
                i += 3
            else:
                i += 2
        return None


def find_repo(start: Path) -> Repo | None:
    """The repository containing ``start``, if any."""
    try:
        result = subprocess.run(
            ["git", "-C", str(start), "rev-parse", "--show-toplevel"],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    if result.returncode != 0:
        return None
    return Repo(Path(result.stdout.decode().strip()))


def glob_match(path: str, pattern: str) -> bool:
    """Glob matching on repository paths; ``**/`` matches any number of folders."""
    if fnmatch.fnmatchcase(path, pattern):
        return True
    if pattern.startswith("**/"):
        return glob_match(path, pattern[3:]) or fnmatch.fnmatchcase(path, pattern)
    return False
