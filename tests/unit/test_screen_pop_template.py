"""The screen-pop template: only http(s) URLs with known placeholders pass; filling encodes every value."""

from __future__ import annotations

import pytest

from teleplex.center.screen_pop import PLACEHOLDERS, fill, template_problem


@pytest.mark.parametrize("template", [
    "https://crm.example/search?phone={caller}&queue={queue}&id={interaction}",
    "http://crm.local:8080/contacts/{contact_id}?name={contact_name}&c={campaign}&lead={lead_id}",
    "https://crm.example/",
])
def test_good_templates_pass(template: str) -> None:
    assert template_problem(template) is None


@pytest.mark.parametrize(("template", "says"), [
    ("https://crm.example/?p={phone}", "unknown placeholder(s) {phone}"),
    ("https://crm.example/?a={caller}&b={Queue}&c={x}", "unknown placeholder(s) {Queue}, {x}"),
    ("javascript:alert({caller})", "http:// or https://"),
    ("ftp://crm.example/{caller}", "http:// or https://"),
    ("crm.example/{caller}", "http:// or https://"),
    ("https://{caller}", None),  # the host may come from the data: still an http(s) URL
    ("https://crm.example/?p={caller", "brace without its pair"),
    ("https://crm.example/?p=caller}", "brace without its pair"),
    ("https://crm.example/a b?p={caller}", "spaces"),
])
def test_bad_templates_say_why(template: str, says: str | None) -> None:
    problem = template_problem(template)
    if says is None:
        assert problem is None
    else:
        assert problem is not None and says in problem


def test_the_message_lists_the_known_placeholders() -> None:
    problem = template_problem("https://crm.example/?p={phone}")
    assert problem is not None and all("{" + name + "}" in problem for name in PLACEHOLDERS)


def test_values_are_url_encoded_and_missing_ones_left_empty() -> None:
    url = fill("https://crm.example/s?phone={caller}&name={contact_name}&q={queue}&id={interaction}&lead={lead_id}",
               {"caller": "+34 600&x=1", "contact_name": "Ada Lovelace/Byron", "queue": "Ventas ñ", "interaction": 42,
                "lead_id": None})
    assert url == ("https://crm.example/s?phone=%2B34%20600%26x%3D1&name=Ada%20Lovelace%2FByron"
                   "&q=Ventas%20%C3%B1&id=42&lead=")


def test_a_template_without_placeholders_is_left_as_it_is() -> None:
    assert fill("https://crm.example/home", {"caller": "1"}) == "https://crm.example/home"
