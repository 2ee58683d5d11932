"""Whole-process benchmarks of threatdelta, side by side with what each is compared with.

Usage (from the repository root, after ``pip install -e '.[bench]'``)::

    .venv/bin/python bench/run.py                 # 500, 5,000 and 20,000 nodes, 5 runs each
    .venv/bin/python bench/run.py --quick         # 500 nodes, 2 runs, 20 history revisions
    .venv/bin/python bench/run.py --sizes 5000 --only check,review

Every measurement runs a fresh process (``threatdelta`` as users run it) and records its wall
time, its CPU time (with the processes it started and waited for: a review with no index counts
the base in a forked child) and its peak resident memory (the largest single process); the two
sides of a comparison run alternately, so a busy machine slows both alike. Prints a markdown
table of medians; ``--json FILE`` also writes the raw runs.

The generated diagram (``bench/diagram.py``) has ``n`` elements, ``2 n`` flows and ``n / 10``
nested boundaries; it is written once as a native model and once as a pytm script that builds the
same diagram and resolves its findings. pytm is optional (``.[bench]``, Python >= 3.11); without
it the pytm column is left empty. ``check`` and ``review`` are also set against a floor: the least
a process doing their job in Python must do (start, parse the model or both revisions with the
quick YAML path, and for ``check`` write as many bytes as it writes).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from diagram import Diagram, changed, diagram, native_yaml, pytm_script  # noqa: E402

ROOT = HERE.parent
PYTHON = sys.executable
THREATDELTA = [PYTHON, "-m", "threatdelta"]
TODAY = "--today=2026-06-01"
SAMPLES = ROOT.parent / "shared" / "samples"


@dataclass
class Runs:
    """Wall times (s), CPU times (s: user and system, with the child processes it waited
    for) and peak RSS (MiB: the largest single process) of repeated runs of one command."""

    wall: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def time(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_time(self) -> float:
        return statistics.median(self.cpu)

    @property
    def memory(self) -> float:
        return statistics.median(self.rss)


def run_once(command: Sequence[str], cwd: Path, runs: Runs) -> None:
    """Run ``command`` once; record its wall time and peak RSS; fail loudly on exit >= 2."""
    with open(os.devnull, "wb") as sink, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=sink, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in (0, 1):
            err.seek(0)
            raise SystemExit(
                f"{' '.join(command)} exited {process.returncode}:\n{err.read().decode()[-2000:]}"
            )
    runs.wall.append(wall)
    runs.rss.append(usage.ru_maxrss / 1024)
    runs.cpu.append(usage.ru_utime + usage.ru_stime)


def paired(
    commands: Sequence[Sequence[str]], cwd: Path, repeat: int, before: Sequence[str] = ()
) -> list[Runs]:
    """Each command ``repeat`` times, interleaved; ``before`` (a shell command) runs untimed first."""
    results = [Runs() for _ in commands]
    for _ in range(repeat):
        for command, runs in zip(commands, results, strict=True):
            if before:
                subprocess.run(before, cwd=cwd, check=True, capture_output=True)
            run_once(command, cwd, runs)
    return results


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "bench@example.invalid")
    git(path, "config", "user.name", "bench")
    return path


def commit_model(repo: Path, text: str, message: str) -> str:
    (repo / "threatmodel.yaml").write_text(text, encoding="utf-8")
    git(repo, "add", "threatmodel.yaml")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def _figures(runs: Runs) -> str:
    """Wall time, CPU time and peak memory, medians."""
    return (
        f"{runs.time * 1000:,.0f} ms (CPU {runs.cpu_time * 1000:,.0f} ms) / {runs.memory:,.0f} MiB"
    )


@dataclass
class Row:
    measurement: str
    ours: Runs
    other: Runs | None = None
    other_name: str = ""
    target: str = ""
    speedup: bool = False
    """Show the ratio as how many times faster than the other (else: as a multiple of it)."""

    def cells(self) -> list[str]:
        ours = _figures(self.ours)
        if self.other is None:
            return [self.measurement, ours, "", "", self.target]
        other = _figures(self.other)
        if self.speedup:
            times = self.other.time / self.ours.time
            ratio = f"{times:.1f}x faster" if times >= 1 else f"{1 / times:.1f}x slower"
        else:
            ratio = f"{self.ours.time / self.other.time:.1f}x its time"
        return [self.measurement, ours, f"{self.other_name}: {other}", ratio, self.target]


def bench_startup(work: Path, repeat: int) -> list[Row]:
    floor = [PYTHON, "-c", "pass"]
    version, help_, bare = paired(
        [[*THREATDELTA, "--version"], [*THREATDELTA, "--help"], floor], work, repeat
    )
    return [
        Row("start-up: `threatdelta --version`", version, bare, "python -c pass", "< 150 ms"),
        Row("start-up: `threatdelta --help`", help_, bare, "python -c pass", "< 150 ms"),
    ]


def bench_example(work: Path, repeat: int) -> list[Row]:
    example = ROOT / "examples" / "infusion-pump" / "threatmodel.yaml"
    (runs,) = paired(
        [[*THREATDELTA, "check", str(example), "--format", "json", "--fail-on", "none", TODAY]],
        work,
        repeat,
    )
    return [Row("`check` of the 12-element example", runs, target="< 250 ms")]


def have_pytm() -> bool:
    return importlib.util.find_spec("pytm") is not None


def bench_check(work: Path, n: int, d: Diagram, repeat: int) -> list[Row]:
    folder = work / f"check-{n}"
    folder.mkdir()
    (folder / "threatmodel.yaml").write_text(native_yaml(d), encoding="utf-8")
    ours_cmd = [*THREATDELTA, "check", "threatmodel.yaml", "--format", "json", "--fail-on=none"]
    commands = [[*ours_cmd, TODAY]]
    if have_pytm():
        (folder / "pytm_model.py").write_text(pytm_script(d), encoding="utf-8")
        commands.append([PYTHON, "pytm_model.py"])
    output = folder / "check.json"
    with output.open("wb") as sink:  # what the floor writes: check's own output, made once
        subprocess.run(commands[0], cwd=folder, check=False, stdout=sink)
    commands.append([PYTHON, "-c", CHECK_FLOOR, "threatmodel.yaml", output.name])
    results = paired(commands, folder, repeat)
    target = "≥ 10x faster than pytm" if n == 5000 else ""
    if n == 20000:
        target = "peak < 300 MiB"
    other = results[1] if len(results) > 2 else None
    name = f"`check --format json`, {n:,} nodes"
    return [
        Row(name, results[0], other, "pytm build+resolve", target, speedup=True),
        Row(f"{name}, against its floor", results[0], results[-1], "floor"),
    ]


CHECK_FLOOR = """
import shutil, sys
from threatdelta.yaml_fast import parse_document
model, output = sys.argv[1:3]
with open(model, "rb") as f:
    parse_document(f.read())
with open(output, "rb") as f:
    shutil.copyfileobj(f, sys.stdout.buffer, 1 << 20)
"""
"""The least a ``check --format json`` process does: start Python, parse the model with
threatdelta's quick YAML path, and write as many bytes as ``check`` writes (its output, copied
a megabyte at a time from a file made beforehand)."""


def bench_formats(work: Path, n: int, d: Diagram, repeat: int) -> list[Row]:
    """``check`` in its other output formats, beside ``--format json`` of the same model."""
    folder = work / f"formats-{n}"
    folder.mkdir()
    (folder / "threatmodel.yaml").write_text(native_yaml(d), encoding="utf-8")
    base = [*THREATDELTA, "check", "threatmodel.yaml", "--fail-on=none", TODAY]
    outputs = ("json", "text", "markdown")
    results = paired([[*base, "--format", o] for o in outputs], folder, repeat)
    return [
        Row(f"`check --format {o}`, {n:,} nodes", runs, results[0], "`--format json`")
        for o, runs in zip(outputs[1:], results[1:], strict=True)
    ]


def byte_compile() -> None:
    """Byte-compile the package first, as an installed package is: with
    PYTHONDONTWRITEBYTECODE set and an editable install, every run would compile the modules
    changed since their last byte code was written, and be timed doing it."""
    import compileall

    import threatdelta

    compileall.compile_dir(Path(threatdelta.__file__).parent, quiet=1)


FLOOR = """
import subprocess, sys
from threatdelta.yaml_fast import parse_document
repo, base, head = sys.argv[1:4]
for rev in (base, head):
    blob = subprocess.run(["git", "-C", repo, "cat-file", "blob", f"{rev}:threatmodel.yaml"],
                          check=True, capture_output=True).stdout
    parse_document(blob)
"""

FLOOR_PYYAML = """
import subprocess, sys
import yaml
repo, base, head = sys.argv[1:4]
for rev in (base, head):
    blob = subprocess.run(["git", "-C", repo, "cat-file", "blob", f"{rev}:threatmodel.yaml"],
                          check=True, capture_output=True).stdout
    yaml.load(blob, Loader=yaml.CSafeLoader)
"""


def floor_script() -> str:
    """Read both revisions' blobs from git and parse them with the fastest parser at hand."""
    if importlib.util.find_spec("threatdelta.yaml_fast") is not None:
        return FLOOR
    return FLOOR_PYYAML


def bench_review(work: Path, n: int, d: Diagram, repeat: int) -> list[Row]:
    repo = new_repo(work / f"review-{n}")
    base = commit_model(repo, native_yaml(d), "base")
    heads = {}
    for label, fraction in (("one element", 0.0), ("10 % of elements", 0.10)):
        git(repo, "checkout", "-q", "-b", f"head-{fraction}", base)
        heads[label] = commit_model(repo, native_yaml(changed(d, fraction)), label)
    rows = []
    for label, head in heads.items():
        review = [*THREATDELTA, "review", "--base", base, "--head", head, "--fail-on=none", TODAY]
        # Cold: no threat index of the base, as in a CI job that starts from a fresh clone.
        # Warm: the index a first review of the same base wrote (a run before the timed ones).
        subprocess.run(review, cwd=repo, check=True, capture_output=True)
        cold, warm, floor = paired(
            [
                [*review, "--no-cache"],
                review,
                [PYTHON, "-c", floor_script(), str(repo), base, head],
            ],
            repo,
            repeat,
        )
        target = "≤ 3x the floor" if n == 5000 and label == "one element" else ""
        for how, ours in (("no index (CI)", cold), ("warm index", warm)):
            name = f"`review` of {label}, {n:,} nodes, {how}"
            rows.append(Row(name, ours, floor, "floor", target))
    return rows


def bench_history(work: Path, n: int, revisions: int, repeat: int) -> list[Row]:
    repo = new_repo(work / f"history-{n}")
    d = diagram(n)
    for i in range(revisions):
        d = changed(d, 0.0, seed=i)  # each revision edits one element of the one before
        commit_model(repo, native_yaml(d), f"revision {i}")
        if i % 50 == 49:
            git(repo, "tag", f"v{i // 50}")
    cache = repo / ".git" / "threatdelta"
    command = [*THREATDELTA, "history", "--format", "json", TODAY]
    (cold,) = paired([command], repo, repeat, before=["rm", "-rf", str(cache)])
    (warm,) = paired([command], repo, repeat)
    label = f"`history`, {revisions} revisions of {n:,} nodes"
    return [Row(f"{label}, cold cache", cold), Row(f"{label}, warm cache", warm)]


def bench_tm7(work: Path, repeat: int) -> list[Row]:
    folder = SAMPLES / "tm7"
    if not folder.is_dir():
        print("no ../shared/samples/tm7: .tm7 benchmark skipped", file=sys.stderr)
        return []
    largest = max(folder.glob("*.tm7"), key=lambda p: p.stat().st_size)
    (runs,) = paired(
        [[*THREATDELTA, "check", str(largest), "--format", "json", "--fail-on=none", TODAY]],
        work,
        repeat,
    )
    size = largest.stat().st_size / 1e6
    return [Row(f"`check` of the largest sample .tm7 ({size:.1f} MB): load + regenerate", runs)]


def machine() -> str:
    cpus = os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        memory = f", {mem:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        memory = ""
    return f"{platform.system()} {platform.machine()}, {cpus} cores{memory}, Python {platform.python_version()}"


STEPS = ("startup", "example", "check", "formats", "review", "history", "tm7")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,5000,20000", help="comma-separated node counts")
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median taken)")
    parser.add_argument("--revisions", type=int, default=200, help="history: revisions")
    parser.add_argument("--history-nodes", type=int, default=500, help="history: model size")
    parser.add_argument(
        "--only", default=",".join(STEPS), help="comma-separated: " + ", ".join(STEPS)
    )
    parser.add_argument("--quick", action="store_true", help="500 nodes, 2 runs, 20 revisions")
    parser.add_argument("--json", metavar="FILE", help="also write every run's numbers here")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat, args.revisions = "500", 2, 20
    from threatdelta.limits import MAX_ELEMENTS

    sizes = [int(s) for s in args.sizes.split(",") if s]
    for n in [n for n in sizes if n > MAX_ELEMENTS]:
        print(
            f"{n:,} nodes skipped: a model holds at most {MAX_ELEMENTS:,} elements", file=sys.stderr
        )
    sizes = [n for n in sizes if n <= MAX_ELEMENTS]
    only = set(args.only.split(","))
    rows: list[Row] = []
    byte_compile()
    with tempfile.TemporaryDirectory(prefix="threatdelta-bench-") as tmp:
        work = Path(tmp)
        if "startup" in only:
            rows += bench_startup(work, args.repeat)
        if "example" in only:
            rows += bench_example(work, args.repeat)
        for n in sizes:
            d = diagram(n)
            if "check" in only:
                rows += bench_check(work, n, d, args.repeat)
            if "formats" in only:
                rows += bench_formats(work, n, d, args.repeat)
            if "review" in only:
                rows += bench_review(work, n, d, args.repeat)
            print(f"done: {n:,} nodes", file=sys.stderr)
        if "history" in only:
            rows += bench_history(work, args.history_nodes, args.revisions, args.repeat)
        if "tm7" in only:
            rows += bench_tm7(work, args.repeat)
    print(f"Machine: {machine()}; median of {args.repeat} runs per command.\n")
    print("| measurement | threatdelta (wall (CPU) / peak RSS) | compared with | ratio | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")
    if args.json:
        data = [
            {
                "measurement": r.measurement,
                "ours": {"wall": r.ours.wall, "cpu": r.ours.cpu, "rss_mib": r.ours.rss},
                "other": None
                if r.other is None
                else {"wall": r.other.wall, "cpu": r.other.cpu, "rss_mib": r.other.rss},
                "other_name": r.other_name,
            }
            for r in rows
        ]
        Path(args.json).write_text(json.dumps(data, indent=2), encoding="utf-8")
    if shutil.which("git") is None:
        print("git is needed for the review and history benchmarks", file=sys.stderr)


if __name__ == "__main__":
    main()
