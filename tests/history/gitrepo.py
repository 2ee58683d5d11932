"""Build small git repositories with fixed dates, and a scripted model history checked by hand."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PACK = FIXTURES / "pack.yaml"

_GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.invalid",
}


class GitRepo:
    """A throw-away repository whose commits carry the dates they are given."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, date: str | None = None) -> str:
        env = {**os.environ, **_GIT_ENV}
        if date is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        result = subprocess.run(
            ["git", "-C", str(self.root), *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def write_model(self, path: str, model: dict[str, Any]) -> None:
        self.write(path, yaml.safe_dump(model, sort_keys=False))

    def remove(self, path: str) -> None:
        self.git("rm", "-q", "--", path)

    def move(self, old: str, new: str) -> None:
        (self.root / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", "--", old, new)

    def commit(self, message: str, day: str) -> str:
        """Commit everything with author and committer date ``day`` (YYYY-MM-DD, noon UTC)."""
        date = f"{day}T12:00:00+00:00"
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, date=date)
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str, day: str | None = None) -> None:
        date = f"{day}T12:00:00+00:00" if day else None
        self.git("tag", "-a", name, "-m", f"release {name}", date=date)


def pump(
    *,
    admin: bool = False,
    store: bool = False,
    second_flow: bool = False,
    controls: list[dict[str, Any]] | None = None,
    threats: dict[str, Any] | None = None,
    system: str = "Scripted pump",
) -> dict[str, Any]:
    """The scripted model, in its variants."""
    elements: list[dict[str, Any]] = [
        {"id": "user", "name": "Clinician", "type": "external-entity"},
        {"id": "ctrl", "name": "Controller", "type": "process"},
    ]
    if admin:
        elements.append({"id": "admin", "name": "Administrator", "type": "external-entity"})
    if store:
        elements.append({"id": "db", "name": "Dose store", "type": "data-store"})
    flows: list[dict[str, Any]] = [
        {"id": "f1", "name": "Dose command", "from": "user", "to": "ctrl"},
    ]
    if second_flow:
        flows.append(
            {
                "id": "f2",
                "name": "Status",
                "from": "ctrl",
                "to": "user",
                "properties": {"encrypted": True},
            }
        )
    model: dict[str, Any] = {
        "version": 1,
        "system": system,
        "elements": elements,
        "flows": flows,
    }
    if controls:
        model["controls"] = controls
    if threats:
        model["threats"] = threats
    return model


AUTH = {
    "id": "auth",
    "name": "Clinician login",
    "status": "verified",
    "evidence": ["tests/test_auth.py"],
}
TLS = {
    "id": "tls",
    "name": "TLS on the dose link",
    "status": "implemented",
    "evidence": ["tests/test_tls.py"],
}
SPOOF_USER = {"status": "mitigated", "controls": ["auth"]}
SNIFF_F1 = {"status": "mitigated", "controls": ["tls"]}


def tamper_accepted(expires: str) -> dict[str, Any]:
    return {
        "status": "accepted",
        "justification": "The controller sits in a sealed case.",
        "approved_by": "safety-lead",
        "expires": expires,
    }


def scripted_history(root: Path) -> GitRepo:
    """Eight model revisions, two tags, a rename, and evidence files coming and going.

    ==== ========== ====================================================== ====================
    rev  date       change                                                 open/mitig./accepted
    ==== ========== ====================================================== ====================
    1    2025-01-01 model.yaml: user, ctrl, flow f1                        3 / 0 / 0
    -    2025-01-02 add tests/test_auth.py (no model change)
    2    2025-01-03 control auth; spoof@user mitigated                     2 / 1 / 0
    3    2025-01-05 tamper@ctrl accepted until 2025-03-01   (tag v1.0)     1 / 1 / 1
    4    2025-01-10 rename to models/pump.yaml (same content)              1 / 1 / 1
    5    2025-01-12 store db, encrypted flow f2, control tls (evidence      0 / 2 / 1
                    missing); sniff@f1 mitigated
    -    2025-01-14 delete tests/test_auth.py (no model change)
    6    2025-01-20 control auth dropped: spoof@user reopened               1 / 1 / 1
    7    2025-03-10 admin added; tamper@ctrl acceptance expired (tag v2.0) 3 / 1 / 0
    8    2025-03-15 auth back, tamper re-accepted to 2026-01-01,            1 / 2 / 1
                    tests/test_tls.py added
    ==== ========== ====================================================== ====================
    """
    repo = GitRepo(root)
    repo.write_model("model.yaml", pump())
    repo.commit("First model", "2025-01-01")
    repo.write("tests/test_auth.py", "def test_login():\n    pass\n")
    repo.commit("Login tests", "2025-01-02")
    repo.write_model("model.yaml", pump(controls=[AUTH], threats={"spoof@user": SPOOF_USER}))
    repo.commit("Mitigate clinician spoofing with login", "2025-01-03")
    threats_v1 = {"spoof@user": SPOOF_USER, "tamper@ctrl": tamper_accepted("2025-03-01")}
    repo.write_model("model.yaml", pump(controls=[AUTH], threats=threats_v1))
    repo.commit("Accept controller tampering", "2025-01-05")
    repo.tag("v1.0", "2025-01-05")
    repo.move("model.yaml", "models/pump.yaml")
    repo.commit("Move the model into models/", "2025-01-10")
    threats_5 = {**threats_v1, "sniff@f1": SNIFF_F1}
    repo.write_model(
        "models/pump.yaml",
        pump(store=True, second_flow=True, controls=[AUTH, TLS], threats=threats_5),
    )
    repo.commit("Dose store, status flow, TLS", "2025-01-12")
    repo.remove("tests/test_auth.py")
    repo.commit("Drop the old login tests", "2025-01-14")
    repo.write_model(
        "models/pump.yaml", pump(store=True, second_flow=True, controls=[TLS], threats=threats_5)
    )
    repo.commit("Retire the login control", "2025-01-20")
    repo.write_model(
        "models/pump.yaml",
        pump(admin=True, store=True, second_flow=True, controls=[TLS], threats=threats_5),
    )
    repo.commit("Add the administrator", "2025-03-10")
    repo.tag("v2.0", "2025-03-10")
    threats_8 = {**threats_5, "tamper@ctrl": tamper_accepted("2026-01-01")}
    repo.write_model(
        "models/pump.yaml",
        pump(admin=True, store=True, second_flow=True, controls=[AUTH, TLS], threats=threats_8),
    )
    repo.write("tests/test_tls.py", "def test_tls():\n    pass\n")
    repo.commit("Login back, acceptance renewed, TLS tests", "2025-03-15")
    return repo
