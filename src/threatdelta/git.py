"""Every git call threatdelta makes, in one place.

Files are read from git objects (``git cat-file``), never from the working tree, so a review in CI
sees exactly the two revisions it compares. Commands run without a shell, with arguments as a
list, and with ``--`` before paths.
"""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from threatdelta.errors import InputError

MAX_BLOB_BYTES = 64 * 1024 * 1024
"""Largest file read from a revision."""


class GitError(InputError):
    """A git command failed in a way the user can act on (unknown revision, not a repository)."""


@dataclass(frozen=True)
class Repo:
    """A git repository on disk."""

    root: Path
    """The top-level directory of the work tree."""

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
        if rev.startswith("-"):
            raise GitError(f"'{rev}' is not a revision")
        out = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        sha = out.decode().strip()
        if not sha:
            raise GitError(f"unknown revision '{rev}'")
        return sha

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
        """Every file path at ``rev``."""
        out = self.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", rev)
        return tuple(sorted(p.decode("utf-8", "replace") for p in out.split(b"\0") if p))

    def matching(self, rev: str, patterns: Iterable[str]) -> tuple[str, ...]:
        """Paths at ``rev`` matching any of ``patterns`` (glob syntax; ``**`` spans folders)."""
        pats = tuple(patterns)
        return tuple(p for p in self.files(rev) if any(glob_match(p, pat) for pat in pats))

    def exists(self, rev: str, path: str) -> bool:
        """True when ``path`` names a file or folder at ``rev``."""
        path = path.strip("/")
        if not path:
            return False
        out = self.run("cat-file", "-t", f"{rev}:{path}", check=False)
        return out.strip() in (b"blob", b"tree")

    def read(self, rev: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``rev``, or None when it does not exist there."""
        spec = f"{rev}:{path}"
        size_out = self.run("cat-file", "-s", spec, check=False).strip()
        if not size_out:
            return None
        if int(size_out) > MAX_BLOB_BYTES:
            raise InputError(
                f"{path} at {rev[:12]} is {int(size_out)} bytes; at most {MAX_BLOB_BYTES} are read"
            )
        return self.run("cat-file", "blob", spec)

    def read_many(self, specs: Sequence[tuple[str, str]]) -> list[bytes | None]:
        """Read many ``(rev, path)`` blobs with one ``git cat-file --batch`` process."""
        if not specs:
            return []
        check = "".join(f"{rev}:{path}\n" for rev, path in specs).encode("utf-8")
        sizes = self.run("cat-file", "--batch-check=%(objectsize)", input_bytes=check).splitlines()
        for (rev, path), line in zip(specs, sizes, strict=True):  # a missing object: '... missing'
            if line.isdigit() and int(line) > MAX_BLOB_BYTES:
                raise InputError(
                    f"{path} at {rev[:12]} is {int(line)} bytes; at most {MAX_BLOB_BYTES} are read"
                )
        request = check
        out = self.run("cat-file", "--batch", input_bytes=request)
        results: list[bytes | None] = []
        pos = 0
        for _ in specs:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[-1] == b"missing":
                results.append(None)
                continue
            size = int(header[2])
            results.append(out[pos : pos + size] if header[1] == b"blob" else None)
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
