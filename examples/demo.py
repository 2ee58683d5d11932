"""Run a threatdelta review on the bundled infusion-pump example, as a pull request would.

Builds a small git repository in a temporary folder with two commits on two branches:

1. ``main``: the infusion-pump model (examples/infusion-pump) as it stands, with its gate
   (``.threatdelta.yml``): every threat decided, every control's evidence in the repository;
2. ``add-phone-app``: a patient phone app that talks to the pump over Bluetooth Low Energy across
   the device boundary (one of its risks accepted by the app developer), the pump telemetry now
   encrypted, the motor-bus spoofing threat accepted instead of mitigated, the watchdog control
   dropped, and the app developer added to the approvers in ``.threatdelta.yml``. The change is
   judged by the gate at its base, so that last edit only shows under "Gate settings changed".

Then runs ``threatdelta review --base main --head add-phone-app`` and prints the pull-request
comment. Usage::

    python examples/demo.py [--format markdown|text|json|sarif] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent / "infusion-pump"
REVIEW_DATE = "2026-11-25"

PHONE_APP_ELEMENT = """\
  - id: patient-app
    name: Patient phone app
    type: external-entity
    kind: device
    description: The patient's own phone, running the manufacturer's companion app.
"""
PHONE_APP_FLOW = """\
  - id: app-status
    name: Pump status to the phone app
    from: comms-module
    to: patient-app
    protocol: ble
    properties: {encrypted: false, authenticated: false}
  - id: app-commands
    name: Bolus requests from the phone app
    from: patient-app
    to: comms-module
    protocol: ble
    properties: {encrypted: true, authenticated: false}
"""
APP_ACCEPTANCE = """\
  radio-sniffing@app-status:
    status: accepted
    justification: >-
      The status the app receives is what the pump's own display shows; it carries no patient
      identifiers and no doses.
    approved_by: app-developer
    approved_on: 2026-11-19
    expires: 2027-05-31
"""
CAN_MITIGATION = """\
  fieldbus-spoofing@motor-commands:
    status: mitigated
    controls: [can-secoc]
"""
CAN_ACCEPTANCE = """\
  fieldbus-spoofing@motor-commands:
    status: accepted
    justification: >-
      CAN message authentication moves to hardware revision C; until then the motor module
      rejects commands outside the programmed rate and the bus stays inside the sealed case.
    approved_by: security-lead
    approved_on: 2026-11-18
    expires: 2027-05-31
"""
APPROVERS = "  - approvers: [security-lead, quality-manager, service-manager]\n"
WIDER_APPROVERS = "  - approvers: [security-lead, quality-manager, service-manager, app-developer]\n"
WATCHDOG_CONTROL = """\
  - id: watchdog
    name: Hardware watchdog that stops the motor and raises an alarm when the controller hangs
    status: verified
    evidence: [verification/watchdog.md, verification/watchdog-fault-injection.md]
"""


def _replace(text: str, old: str, new: str) -> str:
    if old not in text:
        raise SystemExit(f"demo: the example model no longer contains {old!r}; update examples/demo.py")
    return text.replace(old, new, 1)


def change_model(text: str) -> str:
    """The pull request's change, applied as text so comments and layout stay as written."""
    text = _replace(text, "\nflows:\n", "\n" + PHONE_APP_ELEMENT + "\nflows:\n")
    text = _replace(text, "\ncontrols:\n", "\n" + PHONE_APP_FLOW + "\ncontrols:\n")
    text = _replace(
        text,
        "    properties: {broadcast: true, encrypted: false}",
        "    properties: {broadcast: true, encrypted: true}",
    )
    text = _replace(text, WATCHDOG_CONTROL, "")
    text = _replace(text, CAN_MITIGATION, CAN_ACCEPTANCE)
    text = _replace(text, "\nthreats:\n", "\nthreats:\n" + APP_ACCEPTANCE)
    return text


def change_settings(text: str) -> str:
    """The pull request's edit of the gate: the app developer may approve risks too."""
    return _replace(text, APPROVERS, WIDER_APPROVERS)


def git(repo: Path, *args: str) -> None:
    """Run git with fixed identities and dates, so the demo is reproducible."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Pump Team",
        "GIT_AUTHOR_EMAIL": "pump-team@example.com",
        "GIT_COMMITTER_NAME": "Pump Team",
        "GIT_COMMITTER_EMAIL": "pump-team@example.com",
        "GIT_AUTHOR_DATE": "2026-11-20T10:00:00+00:00",
        "GIT_COMMITTER_DATE": "2026-11-20T10:00:00+00:00",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def build_demo_repo(repo: Path) -> None:
    """Create the two-branch example repository in ``repo`` (an empty or missing folder)."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "commit.gpgsign", "false")
    shutil.copytree(EXAMPLE, repo, dirs_exist_ok=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Threat model of the connected infusion pump")
    git(repo, "checkout", "-q", "-b", "add-phone-app")
    model = repo / "threatmodel.yaml"
    model.write_text(change_model(model.read_text(encoding="utf-8")), encoding="utf-8")
    settings = repo / ".threatdelta.yml"
    settings.write_text(change_settings(settings.read_text(encoding="utf-8")), encoding="utf-8")
    (repo / "verification" / "watchdog.md").unlink()
    git(repo, "add", "-A")
    git(
        repo,
        "commit",
        "-q",
        "-m",
        "Add the patient phone app; encrypt telemetry; accept motor-bus spoofing; drop the watchdog",
    )


def main(argv: list[str] | None = None) -> int:
    """Build the example repository, review it, print the comment."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", default="markdown", choices=("markdown", "text", "json", "sarif"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository and print its path")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="threatdelta-demo-"))
    try:
        repo = folder / "infusion-pump"
        build_demo_repo(repo)
        command = [
            sys.executable, "-m", "threatdelta", "review",
            "-C", str(repo), "--base", "main", "--head", "add-phone-app",
            "--today", REVIEW_DATE, "--format", args.format,
        ]
        result = subprocess.run(command, check=False)
        verdict = {0: "pass", 1: "fail"}.get(result.returncode)
        if verdict is None:
            return result.returncode
        print(
            f"\n[demo] verdict: {verdict} (in CI, exit code {result.returncode} "
            f"{'blocks' if verdict == 'fail' else 'allows'} the merge)",
            file=sys.stderr,
        )
        if args.keep:
            print(f"[demo] repository kept at {repo}", file=sys.stderr)
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
