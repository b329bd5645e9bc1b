"""Custom field values checked against their definitions; every problem named at once."""

import pytest

from teleplex.contacts.fields import FieldKind, FieldSpec, check_values
from teleplex.core.errors import InvalidInput

SPECS = {
    "notes_en": FieldSpec("notes_en", FieldKind.TEXT),
    "age": FieldSpec("age", FieldKind.NUMBER),
    "birthday": FieldSpec("birthday", FieldKind.DATE),
    "tier": FieldSpec("tier", FieldKind.CHOICE, ("gold", "silver")),
}


def test_valid_values_are_stored_and_null_removes_one():
    current = {"age": 30, "tier": "gold"}
    out = check_values(SPECS, {"age": 31.5, "birthday": "1990-02-28", "tier": None, "notes_en": "vip"}, current)
    assert out == {"age": 31.5, "birthday": "1990-02-28", "notes_en": "vip"}
    assert current == {"age": 30, "tier": "gold"}  # the caller's dict is untouched


def test_every_bad_value_is_named_with_its_field():
    with pytest.raises(InvalidInput) as err:
        check_values(SPECS, {"age": "old", "birthday": "28/02/1990", "tier": "bronze", "colour": "red",
                             "notes_en": 5})
    fields = {d["field"] for d in err.value.details}
    assert fields == {"fields.age", "fields.birthday", "fields.tier", "fields.colour", "fields.notes_en"}
    assert "fields.tier: must be one of: gold, silver" in err.value.message


@pytest.mark.parametrize("value", [True, float("inf"), 1e16, "12"])
def test_numbers_are_real_finite_and_bounded(value):
    with pytest.raises(InvalidInput):
        check_values(SPECS, {"age": value})


@pytest.mark.parametrize("value", ["2026-02-30", "2026-2-3", "20260203", 20260203])
def test_dates_are_real_calendar_days_as_yyyy_mm_dd(value):
    with pytest.raises(InvalidInput):
        check_values(SPECS, {"birthday": value})
