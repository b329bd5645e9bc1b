"""WhatsApp templates without I/O: the variables of a body, Meta's listing reduced to what may be sent, the
template an agent names, and the body parameters its variables become."""

from __future__ import annotations

import pytest

from teleplex.core.errors import InvalidInput
from teleplex.messaging.templates import Template, body_variables, choose, components_for, from_meta, from_settings


@pytest.mark.parametrize(("body", "variables"), [
    ("Hello {{1}}, your order {{2}} has shipped", ("1", "2")),
    ("{{2}} before {{1}}, and {{1}} again", ("1", "2")),
    ("Ten: {{10}} {{9}} {{1}}", ("1", "9", "10")),
    ("Hi {{first_name}}, order {{ order_id }} is ready, {{first_name}}", ("first_name", "order_id")),
    ("No variables at all", ()),
    ("Not variables: {1} {{}} {{Name}} {{a-b}}", ()),
    ("", ()),
    (None, ()),
])  # fmt: skip
def test_body_variables(body: str | None, variables: tuple[str, ...]) -> None:
    assert body_variables(body) == variables


def test_only_approved_templates_are_offered_with_their_body() -> None:
    listing = [
        {"name": "order_update", "language": "es_ES", "status": "APPROVED", "category": "UTILITY",
         "components": [{"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}"},
                        {"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} va en camino"}]},
        {"name": "promo", "language": "en_US", "status": "PENDING", "components": [{"type": "BODY", "text": "x"}]},
        {"name": "rejected", "language": "en_US", "status": "REJECTED", "components": []},
        {"name": "no_body", "language": "en_US", "status": "APPROVED"},
        {"status": "APPROVED", "language": "en_US"},  # no name: skipped
    ]  # fmt: skip
    assert from_meta(listing) == (
        Template("order_update", "es_ES", "UTILITY", "Hola {{1}}, tu pedido {{2}} va en camino", ("1", "2")),
        Template("no_body", "en_US", None, None, ()),
    )


def test_the_settings_list_stands_in_with_optional_bodies() -> None:
    settings = {"templates": [{"name": "hello_again"}, {"name": "reminder", "language": "es", "body": "Hola {{1}}"}]}
    assert from_settings(settings) == (Template("hello_again", "en_US"),
                                       Template("reminder", "es", None, "Hola {{1}}", ("1",)))
    assert from_settings(None) == () and from_settings({}) == ()


OFFERED = (Template("order_update", "es_ES", body="Hola {{1}}, pedido {{2}}", variables=("1", "2")),
           Template("order_update", "en_US", body="Hi {{1}}, order {{2}}", variables=("1", "2")),
           Template("hello", "en_US"))


def test_choose_names_an_offered_template() -> None:
    assert choose(OFFERED, "hello", None) is OFFERED[2]
    assert choose(OFFERED, "order_update", "en_US") is OFFERED[1]
    with pytest.raises(InvalidInput, match=r"template_name: 'bye' is not one of this channel's approved"):
        choose(OFFERED, "bye", None)
    with pytest.raises(InvalidInput, match=r"template_name: 'hello' in 'es_ES' is not one"):
        choose(OFFERED, "hello", "es_ES")
    with pytest.raises(InvalidInput, match=r"template_language: 'order_update' exists in several languages"):
        choose(OFFERED, "order_update", None)


def test_variables_become_body_parameters_in_order() -> None:
    assert components_for(OFFERED[0], ["Ana", "A-17"]) == [
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-17"}]}]
    assert components_for(OFFERED[2], []) == []
    named = Template("hi", "en_US", body="Hi {{first_name}}", variables=("first_name",))
    assert components_for(named, ["Ana"]) == [
        {"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "first_name"}]}]


@pytest.mark.parametrize(("values", "says"), [
    (["Ana"], "template_variables: 'order_update' takes 2 variable\\(s\\), got 1"),
    (["Ana", "A-17", "x"], r"takes 2 variable\(s\), got 3"),
    (["Ana", "  "], r"template_variables\[1\]: a variable cannot be empty"),
])  # fmt: skip
def test_wrong_variables_are_refused_naming_the_field(values: list[str], says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as caught:
        components_for(OFFERED[0], values)
    assert caught.value.details == {"field": "template_variables"}
