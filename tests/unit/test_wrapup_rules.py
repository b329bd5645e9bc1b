"""What a call lacks before its wrap-up may end, by the rule alone (center/wrapup_rules.missing)."""

from __future__ import annotations

from typing import Any

import pytest

from teleplex.center.wrapup_rules import missing

FORM = [{"name": "plan", "type": "select", "options": ["gold"], "required": True}, {"name": "seats", "type": "number"}]


def lacks(requires: list[str], **given: Any) -> tuple[list[str], list[str]]:
    facts = {"dispositions_offered": True, "disposition_id": None, "notes": None, "form_fields": [], "answers": None}
    return missing(requires, **(facts | given))


def test_nothing_required_lacks_nothing() -> None:
    assert lacks([]) == ([], [])


def test_a_disposition_is_lacking_only_when_there_is_one_to_choose() -> None:
    assert lacks(["disposition"]) == (["disposition"], [])
    assert lacks(["disposition"], dispositions_offered=False) == ([], [])
    assert lacks(["disposition"], disposition_id=3) == ([], [])


@pytest.mark.parametrize("notes", [None, "", "   \n"])
def test_blank_notes_are_lacking(notes: str | None) -> None:
    assert lacks(["notes", "disposition"], notes=notes, disposition_id=1) == (["notes"], [])


def test_the_form_lacks_its_unanswered_required_fields_or_never_saved() -> None:
    assert lacks(["form"], form_fields=FORM) == (["form"], ["plan"])
    assert lacks(["form"], form_fields=FORM, answers={"seats": 2}) == (["form"], ["plan"])
    assert lacks(["form"], form_fields=FORM, answers={"plan": "gold"}) == ([], [])
    optional = [FORM[1]]
    assert lacks(["form"], form_fields=optional) == (["form"], [])  # never saved
    assert lacks(["form"], form_fields=optional, answers={}) == ([], [])
    assert lacks(["form"]) == ([], [])  # a campaign without a form


def test_everything_lacking_is_named_in_a_stable_order() -> None:
    assert lacks(["form", "notes", "disposition"], form_fields=FORM) == (["disposition", "notes", "form"], ["plan"])
