"""Build a longer history of the infusion-pump example and run ``history`` and ``report`` on it.

The script reads examples/infusion-pump/threatmodel.yaml and replays how a team might have
arrived at it, as 14 commits that change the model (plus three that only touch evidence or
release notes) over two tagged iterations:

``v1.0`` (January 2026)
    the first model without the manufacturer cloud; verification reports added; controls for
    firmware signing, mutual TLS and the CAN bus; threats mitigated, accepted and declared not
    applicable in several steps (one acceptance deliberately set to expire on 2026-03-31).
``v2.0`` (February to April 2026)
    the cloud upload flow added; the model file moved to model/infusion-pump.yaml; the cloud
    threats dispositioned; the watchdog control added (one of its evidence files is never
    written, so the report flags it); the CAN-bus control dropped and put back (its threats
    reopen, then close); the remaining decisions recorded. By the v2.0 tag the short acceptance
    has expired.
after ``v2.0``
    the acceptance renewed and every remaining threat decided, with the verification reports of
    the remaining controls: the model is now the bundled example as it stands (every threat
    decided; only the watchdog's fault-injection report is still missing in this history).

Every commit has a fixed author and committer date, so the output is the same on every run.
Usage::

    python examples/history_demo.py [--out DIR]

It prints where the history and report files are. ``build_history_repo`` and ``run_demo`` can
be imported.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

EXAMPLE_DIR = Path(__file__).resolve().parent / "infusion-pump"
EXAMPLE_MODEL = EXAMPLE_DIR / "threatmodel.yaml"
FIRST_PATH = "threatmodel.yaml"
MOVED_PATH = "model/infusion-pump.yaml"
SHORT_EXPIRY = "2026-03-31"
CLOUD_IDS = ("vendor-cloud-service", "cloud-upload", "vendor-cloud")
EARLY_CONTROLS = ("fw-signing", "mutual-tls", "can-secoc")
DROPPED_CONTROL = "can-secoc"
NEVER_WRITTEN = "watchdog-fault-injection.md"


@dataclass(frozen=True)
class DemoRepo:
    """The repository the demo built."""

    root: Path
    """Its folder."""
    model_path: str
    """The model's path at HEAD."""
    tags: tuple[str, ...]
    """The iteration tags."""
    model_commits: int
    """Commits that changed the model."""


class _Git:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Pump Team",
            "GIT_AUTHOR_EMAIL": "pump-team@example.com",
            "GIT_COMMITTER_NAME": "Pump Team",
            "GIT_COMMITTER_EMAIL": "pump-team@example.com",
        }

    def __call__(self, *args: str, day: str | None = None) -> None:
        env = dict(self.env)
        if day is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{day}T10:00:00+00:00"
        subprocess.run(
            ["git", "-C", str(self.root), *args], check=True, env=env, capture_output=True
        )


def _mentions_cloud(key: str) -> bool:
    return any(part in key for part in CLOUD_IDS)


class _Story:
    """The model as it grows, written and committed step by step."""

    def __init__(self, root: Path, final: dict[str, Any]) -> None:
        self.git = _Git(root)
        self.root = root
        self.final = final
        self.path = FIRST_PATH
        self.model_commits = 0
        self.model: dict[str, Any] = copy.deepcopy(final)
        self.model["controls"] = []
        self.model["threats"] = {}
        self.model["elements"] = [
            e for e in final.get("elements", []) if e.get("id") not in CLOUD_IDS
        ]
        self.model["flows"] = [
            f
            for f in final.get("flows", [])
            if f.get("id") not in CLOUD_IDS
            and f.get("from") not in CLOUD_IDS
            and f.get("to") not in CLOUD_IDS
        ]
        self.model["boundaries"] = [
            b for b in final.get("boundaries", []) if b.get("id") not in CLOUD_IDS
        ]

    # -- editing ------------------------------------------------------------------------------

    def final_threats(self) -> dict[str, Any]:
        threats: dict[str, Any] = self.final.get("threats") or {}
        return threats

    def control_ids(self) -> set[str]:
        return {c["id"] for c in self.model["controls"]}

    def add_controls(self, ids: tuple[str, ...]) -> None:
        wanted = [c for c in self.final.get("controls", []) if c.get("id") in ids]
        known = self.control_ids()
        self.model["controls"] += [copy.deepcopy(c) for c in wanted if c["id"] not in known]
        order = [c.get("id") for c in self.final.get("controls", [])]
        self.model["controls"].sort(key=lambda c: order.index(c["id"]) if c["id"] in order else 0)

    def drop_control(self, control_id: str) -> None:
        self.model["controls"] = [c for c in self.model["controls"] if c["id"] != control_id]

    def decide(self, accept: Callable[[str, dict[str, Any]], bool]) -> int:
        """Copy the example's dispositions that ``accept`` picks and the model supports."""
        count = 0
        present = {e["id"] for e in self.model["elements"]} | {f["id"] for f in self.model["flows"]}
        for key, entry in self.final_threats().items():
            if key in self.model["threats"] or not isinstance(entry, dict):
                continue
            if _mentions_cloud(key) and not any(c in present for c in CLOUD_IDS):
                continue
            controls = set(entry.get("controls", []))
            if not controls <= self.control_ids():
                continue
            if accept(key, entry):
                self.model["threats"][key] = copy.deepcopy(entry)
                count += 1
        self.model["threats"] = {
            k: self.model["threats"][k] for k in self.final_threats() if k in self.model["threats"]
        }
        return count

    def add_evidence(self, names: tuple[str, ...]) -> None:
        for name in names:
            source = EXAMPLE_DIR / "verification" / name
            text = (
                source.read_text(encoding="utf-8")
                if source.is_file()
                else f"# {name}\n\nVerification record.\n"
            )
            target = self.root / "verification" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    # -- committing ---------------------------------------------------------------------------

    def commit(self, message: str, day: str, *, model: bool = True) -> None:
        """Commit; with ``model``, write the model first."""
        if model:
            target = self.root / self.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                "# The infusion-pump example, as it stood at this commit.\n"
                + yaml.safe_dump(self.model, sort_keys=False, allow_unicode=True, width=100),
                encoding="utf-8",
            )
            self.model_commits += 1
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, day=day)

    def move(self, new_path: str, day: str) -> None:
        (self.root / new_path).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", "--", self.path, new_path)
        self.path = new_path
        self.git("commit", "-q", "-m", f"Move the model to {new_path}", day=day)
        self.model_commits += 1


def build_history_repo(target: Path, example: Path = EXAMPLE_MODEL) -> DemoRepo:
    """Create the demo repository in ``target`` (an empty or new folder)."""
    final = yaml.safe_load(example.read_text(encoding="utf-8"))
    target.mkdir(parents=True, exist_ok=True)
    story = _Story(target, final)
    git = story.git
    git("init", "-q", "-b", "main")
    threats = story.final_threats()
    short_key = next(
        (k for k, e in threats.items() if isinstance(e, dict) and e.get("status") == "accepted"),
        None,
    )

    # Iteration 1.
    story.commit("First model of the pump on the hospital network", "2026-01-05")
    story.add_evidence(("firmware-signature.md", "mutual-tls.md"))
    story.commit("Verification reports: firmware signature, mutual TLS", "2026-01-07", model=False)
    story.add_controls(EARLY_CONTROLS)
    story.commit("Controls: firmware signing, mutual TLS, CAN message authentication", "2026-01-09")
    story.decide(lambda k, e: e.get("status") == "mitigated")
    story.commit("Mitigate firmware, network and CAN-bus threats", "2026-01-12")
    story.add_evidence(("dose-limits.md",))
    story.add_controls(("input-validation",))
    story.decide(lambda k, e: "input-validation" in e.get("controls", []))
    story.commit("Dose plausibility checks, with their verification report", "2026-01-16")
    story.decide(lambda k, e: e.get("status") == "accepted")
    if short_key is not None and short_key in story.model["threats"]:
        story.model["threats"][short_key]["expires"] = SHORT_EXPIRY
    story.commit("Accept the residual risks", "2026-01-21")
    story.decide(lambda k, e: e.get("status") == "not-applicable")
    story.commit("Threats that do not apply, with reasons", "2026-01-26")
    git("tag", "-a", "v1.0", "-m", "Release 1.0", day="2026-01-28")

    # Iteration 2.
    for key in ("boundaries", "elements", "flows"):
        story.model[key] = copy.deepcopy(final.get(key, []))
    story.commit("Upload fleet telemetry to the manufacturer cloud", "2026-02-03")
    story.move(MOVED_PATH, "2026-02-06")
    story.decide(lambda k, e: _mentions_cloud(k))
    story.commit("Cloud threats: mutual TLS to the device cloud", "2026-02-10")
    story.add_evidence(("watchdog.md",))
    story.add_controls(("watchdog",))
    story.decide(lambda k, e: "watchdog" in e.get("controls", []))
    story.commit("Hardware watchdog (fault-injection report still to come)", "2026-02-16")
    story.drop_control(DROPPED_CONTROL)
    story.commit("Drop CAN message authentication from the plan", "2026-02-24")
    story.add_controls((DROPPED_CONTROL,))
    story.commit("Reinstate CAN message authentication after the safety review", "2026-03-02")
    story.decide(lambda k, e: True)
    story.commit("Transfer the gateway risks to hospital IT", "2026-04-02")
    (target / "RELEASE-NOTES.md").write_text("# 2.0\n\nCloud upload.\n", encoding="utf-8")
    story.commit("Release notes for 2.0", "2026-04-06", model=False)
    git("tag", "-a", "v2.0", "-m", "Release 2.0", day="2026-04-06")

    # After 2.0: the model as bundled, every remaining decision recorded with its evidence
    # (except the watchdog fault-injection report, which the report keeps flagging).
    story.model["threats"] = copy.deepcopy(threats)
    story.model["controls"] = copy.deepcopy(final.get("controls", []))
    story.add_evidence(
        tuple(
            path.name
            for path in sorted((EXAMPLE_DIR / "verification").glob("*.md"))
            if path.name != NEVER_WRITTEN
        )
    )
    story.commit(
        "Renew the motor-bus acceptance; record the remaining decisions and their evidence",
        "2026-04-13",
    )
    return DemoRepo(target, story.path, ("v1.0", "v2.0"), story.model_commits)


def run_demo(target: Path) -> dict[str, Path]:
    """Build the repository in ``target / 'repo'`` and write the reports to ``target / 'out'``."""
    from threatdelta.cli import main

    demo = build_history_repo(target / "repo")
    out = target / "out"
    out.mkdir(parents=True, exist_ok=True)
    outputs = {
        "history.html": ["history", "--format", "html"],
        "history.md": ["history", "--format", "markdown"],
        "history.txt": ["history", "--format", "text"],
        "report.html": ["report", "--format", "html"],
        "report.md": ["report", "--format", "markdown"],
        "report.csv": ["report", "--format", "csv"],
    }
    written = {}
    for name, args in outputs.items():
        path = out / name
        code = main([*args, demo.model_path, "-C", str(demo.root), "-o", str(path)])
        if code != 0:
            raise RuntimeError(f"threatdelta {' '.join(args)} exited with {code}")
        written[name] = path
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", metavar="DIR", help="where to build (default: a new temporary folder, kept)"
    )
    args = parser.parse_args(argv)
    target = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="threatdelta-history-"))
    written = run_demo(target)
    print(f"Demo repository: {target / 'repo'} (tags v1.0 and v2.0)")
    print((target / "out" / "history.txt").read_text(encoding="utf-8"))
    print("Reports:")
    for name, path in written.items():
        print(f"  {name:13} {path}")
    print("Open history.html and report.html in a browser; both are self-contained.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
