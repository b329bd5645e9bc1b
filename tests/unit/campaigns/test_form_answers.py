"""Answers to a campaign's form checked against its fields: each problem names its field."""

from teleplex.campaigns.form_answers import Problem, validate

FIELDS = [
    {"name": "plan", "type": "select", "options": ["gold", "silver"], "required": True},
    {"name": "age", "type": "number"},
    {"name": "consent", "type": "checkbox", "required": True},
    {"name": "visit", "type": "date"},
    {"name": "note", "type": "text"},
]


def test_good_answers_are_cleaned_and_blank_optional_ones_left_out():
    clean, problems = validate(FIELDS, {"plan": " gold ", "age": 3.5, "consent": True, "visit": "2026-01-31",
                                        "note": "   "})  # fmt: skip
    assert problems == []
    assert clean == {"plan": "gold", "age": 3.5, "consent": True, "visit": "2026-01-31"}


def test_a_required_checkbox_must_be_ticked_and_a_required_select_chosen():
    _, problems = validate(FIELDS, {"plan": "", "consent": False})
    assert problems == [Problem("plan", "missing", "is required"), Problem("consent", "missing", "is required")]


def test_each_type_is_checked():
    _, problems = validate(FIELDS, {"plan": "bronze", "age": True, "consent": "yes", "visit": "tomorrow",
                                    "note": "x" * 201})  # fmt: skip
    assert [(p.field, p.type, p.ctx) for p in problems] == [
        ("plan", "literal_error", {"expected": ["gold", "silver"]}), ("age", "float_type", {}),
        ("consent", "bool_type", {}), ("visit", "date_parsing", {}), ("note", "string_too_long", {"max_length": 200}),
    ]
    assert problems[1].message == "must be a number"  # a boolean is not a number


def test_unknown_names_are_refused():
    _, problems = validate(FIELDS, {"plan": "gold", "consent": True, "colour": "red"})
    assert problems == [Problem("colour", "extra_forbidden", "is not a field of this campaign's form")]


def test_no_number_that_is_not_finite():
    _, problems = validate(FIELDS, {"plan": "gold", "consent": True, "age": float("nan")})
    assert problems == [Problem("age", "finite_number", "must be a finite number")]
