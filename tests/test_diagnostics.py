"""Tests for the one diagnostics collector: order, de-duplication and the cap."""

from __future__ import annotations

import pytest

from threatdelta.diagnostics import MAX_REPORTED, Diagnostics
from threatdelta.errors import InputError, InputErrors, Location, report_lines


def at(line: int | None, column: int | None = None) -> Location:
    return Location("m.yaml", line, column)


def raised(diagnostics: Diagnostics) -> list[str]:
    with pytest.raises(InputError) as caught:
        diagnostics.check()
    return report_lines(caught.value)


def test_nothing_found_raises_nothing() -> None:
    diagnostics = Diagnostics("m.yaml")
    diagnostics.check()
    assert not diagnostics and diagnostics.warnings() == ()


def test_errors_come_out_in_file_order_with_unlocated_ones_last() -> None:
    diagnostics = Diagnostics("m.yaml")
    diagnostics.error("whole file", at(None))
    diagnostics.error("third", at(9, 1))
    diagnostics.error("second", at(2, 7))
    diagnostics.add(InputErrors([InputError("first", at(2, 3)), InputError("b", at(5))]))
    assert raised(diagnostics) == [
        "m.yaml:2:3: first",
        "m.yaml:2:7: second",
        "m.yaml:5: b",
        "m.yaml:9:1: third",
        "m.yaml: whole file",
    ]


def test_the_same_problem_at_the_same_place_is_reported_once() -> None:
    diagnostics = Diagnostics("m.yaml")
    for _ in range(3):
        diagnostics.error("id 'a' is used twice", at(4, 5))
    diagnostics.error("id 'a' is used twice", at(8, 5))  # another place: another problem
    diagnostics.warn("unknown protocol", at(3, 1))
    diagnostics.warn("unknown protocol", at(3, 1))
    assert diagnostics.error_count == 2
    assert raised(diagnostics) == [
        "m.yaml:4:5: id 'a' is used twice",
        "m.yaml:8:5: id 'a' is used twice",
    ]
    assert diagnostics.warnings() == ("m.yaml:3:1: unknown protocol",)


def test_one_error_is_raised_as_itself_keeping_its_type() -> None:
    class Special(InputError):
        pass

    diagnostics = Diagnostics("m.yaml")
    diagnostics.add(Special("odd", at(1, 1)))
    with pytest.raises(Special):
        diagnostics.check()


def test_a_hundred_thousand_bad_values_give_the_first_ones_and_a_count() -> None:
    diagnostics = Diagnostics("m.yaml")
    for line in range(100_000, 0, -1):  # found bottom-up: still reported top-down
        diagnostics.error("not a number", at(line, 3))
        diagnostics.warn("odd value", at(line, 3))
    lines = raised(diagnostics)
    assert len(lines) == MAX_REPORTED + 1
    assert lines[:2] == ["m.yaml:1:3: not a number", "m.yaml:2:3: not a number"]
    assert lines[MAX_REPORTED - 1] == f"m.yaml:{MAX_REPORTED}:3: not a number"
    assert lines[-1] == f"m.yaml: and {100_000 - MAX_REPORTED} more errors"
    warnings = diagnostics.warnings()
    assert warnings[0] == "m.yaml:1:3: odd value"
    assert warnings[-1] == f"m.yaml: and {100_000 - MAX_REPORTED} more warnings"


def test_a_smaller_cap_and_a_single_extra() -> None:
    diagnostics = Diagnostics("m.yaml", cap=2)
    for line in (3, 1, 2):
        diagnostics.error("bad", at(line))
    assert raised(diagnostics) == ["m.yaml:1: bad", "m.yaml:2: bad", "m.yaml: and 1 more error"]


def test_a_warning_without_a_place_is_located_at_the_file() -> None:
    diagnostics = Diagnostics("m.tm7")
    diagnostics.warn("the model has no embedded template")
    assert diagnostics.warnings() == ("m.tm7: the model has no embedded template",)
