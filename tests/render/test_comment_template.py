"""The comment template compiled ahead of time: current, used, and set aside when stale."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from tests.review.conftest import BASE_MODEL, GitRepo

from threatdelta.context import Overrides
from threatdelta.git import Repo
from threatdelta.render import comment_template, review_compiled
from threatdelta.render.comment import review_comment
from threatdelta.review.revisions import ReviewSet, review_revisions


@pytest.fixture(autouse=True)
def fresh_template() -> Iterator[None]:
    comment_template.review_template.cache_clear()
    yield
    comment_template.review_template.cache_clear()


def test_the_shipped_module_is_the_compilation_of_the_template() -> None:
    if review_compiled.JINJA2_VERSION != jinja2.__version__:
        pytest.skip("another jinja2 is installed: the template is compiled when used")
    shipped = Path(review_compiled.__file__).read_text(encoding="utf-8")
    assert shipped == comment_template.module_text(), (
        "review.md.j2 changed: run `python -m threatdelta.render.comment_template`"
    )


def _review_set(tmp_path: Path) -> ReviewSet:
    repo = GitRepo(tmp_path / "r")
    repo.write("threatmodel.yaml", BASE_MODEL)
    base = repo.commit()
    head_model = BASE_MODEL.replace("encrypted: false", "encrypted: true").replace(
        "\ncontrols:",
        "\n  - {id: phone, name: 'Phone | <b>@team', from: nurse, to: ctrl, protocol: tcp}"
        "\ncontrols:",
    )
    repo.write("threatmodel.yaml", head_model)
    head = repo.commit()
    return review_revisions(
        Repo(repo.root),
        base,
        head,
        overrides=Overrides(fail_on="unaddressed,regressions"),
        today=dt.date(2026, 11, 25),
    )


def test_the_compiled_module_renders_what_the_template_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if review_compiled.JINJA2_VERSION != jinja2.__version__:
        pytest.skip("another jinja2 is installed: the shipped module is set aside")
    result = _review_set(tmp_path)
    compiled = comment_template.review_template()
    assert compiled.root_render_func.__module__ == comment_template.MODULE  # from the module
    body = review_comment(result).body
    comment_template.review_template.cache_clear()
    monkeypatch.setattr(review_compiled, "SOURCE_DIGEST", "another template")  # stale
    fallback = comment_template.review_template()
    assert fallback.root_render_func.__module__ != comment_template.MODULE  # compiled now
    assert review_comment(result).body == body


def test_a_module_from_another_jinja2_is_set_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_compiled, "JINJA2_VERSION", "0.0")
    assert comment_template.review_template().root_render_func.__module__ != (
        comment_template.MODULE
    )
