"""Would ``check --format json`` be faster in two processes? Two measurements, in seconds:

1. **Designed-out threats beside enumeration.** Worked out in a child forked as soon as the model
   is read (where a second process could run them while this one enumerates), against the same
   work in one process after enumeration, which it shares per-model work with.
2. **The threat rows' text in two halves.** The first half made here while a forked child makes
   the second into a temporary file, read back once both are done, against all rows made in one
   process. Both texts are compared byte for byte.

Usage (from the repository root, Linux)::

    .venv/bin/python bench/check_split.py 5000        # bench/diagram.py's model of 5,000 nodes
    .venv/bin/python bench/check_split.py path/to/threatmodel.yaml
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from threatdelta.register import Entry
    from threatdelta.render.jsontext import Rows

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def start_child(work: Callable[[], bytes], sink: IO[bytes]) -> int:
    """Fork a child that writes what ``work`` makes to ``sink`` and ends; its process id."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            sink.write(work())
            sink.flush()
            code = 0
        finally:
            os._exit(code)
    return pid


def wait_child(pid: int) -> None:
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the child failed")


def in_child(work: Callable[[], bytes]) -> tuple[float, bytes]:
    """Seconds ``work`` took in a forked child (this process waiting), and what it made."""
    with tempfile.TemporaryFile() as sink:
        started = time.perf_counter()
        wait_child(start_child(work, sink))
        took = time.perf_counter() - started
        sink.seek(0)
        return took, sink.read()


def main(argv: list[str]) -> None:
    from threatdelta.collector import kept_alive
    from threatdelta.engine import enumerate_threats
    from threatdelta.exclusions import excluded_threats
    from threatdelta.formats.packs import default_pack
    from threatdelta.formats.registry import read_model
    from threatdelta.register import build_register
    from threatdelta.render.data import register_document
    from threatdelta.render.jsontext import pad

    target = argv[0] if argv else "5000"
    if target.isdigit():
        from diagram import diagram, native_yaml

        data, path = native_yaml(diagram(int(target))).encode(), "threatmodel.yaml"
    else:
        data, path = Path(target).read_bytes(), target
    with kept_alive() as keep:
        parsed = read_model(data, path)
        model, pack = parsed.model, default_pack(parsed)

        def designed_out() -> bytes:
            return b"%d" % len(excluded_threats(model, pack, evidence_exists=None))

        forked, _ = in_child(designed_out)
        threats = enumerate_threats(model, pack)
        register = build_register(model, threats, today=dt.date(2026, 6, 1))
        keep()
        started = time.perf_counter()
        exclusions = excluded_threats(model, pack, evidence_exists=None)
        after = time.perf_counter() - started
        print(f"designed-out threats, in a child forked after reading: {forked:.3f} s")
        print(f"designed-out threats, here after enumeration:          {after:.3f} s")

        def encoder() -> Callable[[Sequence[Entry], int], Iterable[bytes]]:
            """A new writer of threat rows, its caches empty."""
            rows: Rows[Entry] = register_document(register, pack, exclusions)["threats"]
            encode = rows.encode
            assert encode is not None
            return encode

        entries = register.entries
        encode = encoder()
        between = b"," + pad(2)  # what is written between two rows two levels deep
        started = time.perf_counter()
        whole = b"".join(encode(entries, 2))
        one = time.perf_counter() - started
        half = len(entries) // 2
        encode = encoder()

        def second() -> bytes:
            return b"".join(encode(entries[half:], 2))

        started = time.perf_counter()
        with tempfile.TemporaryFile() as sink:
            pid = start_child(second, sink)
            first = b"".join(encode(entries[:half], 2))
            here = time.perf_counter() - started
            wait_child(pid)
            waited = time.perf_counter() - started
            sink.seek(0)
            both = first + between + sink.read()
        two = time.perf_counter() - started
        if both != whole:
            raise SystemExit("the two halves do not make the text of the whole")
        print(f"{len(entries):,} threat rows ({len(whole) / 1e6:.0f} MB), one process: {one:.3f} s")
        print(
            f"the same in two halves: {two:.3f} s (this process's half {here:.3f} s, "
            f"the child done at {waited:.3f} s)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
