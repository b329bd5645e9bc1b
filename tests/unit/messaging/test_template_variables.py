"""WhatsApp templates without I/O: the variables of a body, Meta's listing reduced to what may be sent, the
template an agent names, and the body parameters its variables become."""

from __future__ import annotations

import pytest

from teleplex.core.errors import InvalidInput
from teleplex.messaging.templates import (
    Button,
    Header,
    Template,
    body_variables,
    choose,
    components_for,
    from_meta,
    from_settings,
)


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
        Template("order_update", "es_ES", "UTILITY", "Hola {{1}}, tu pedido {{2}} va en camino", ("1", "2"),
                 Header("TEXT", "Pedido {{1}}", "1")),
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
    (["Ana", "  "], r"template_variables\[1\]: a value cannot be empty"),
])  # fmt: skip
def test_wrong_variables_are_refused_naming_the_field(values: list[str], says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as caught:
        components_for(OFFERED[0], values)
    assert caught.value.details["field"] == "template_variables"


LISTED = [
    {"name": "shipped", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "components": [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW..."]}},
        {"type": "BODY", "text": "Order {{1}} is on its way"},
        {"type": "FOOTER", "text": "Reply STOP to opt out"},
        {"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": "Thanks"},
            {"type": "URL", "text": "Help", "url": "https://example.com/help"},
            {"type": "URL", "text": "Track", "url": "https://example.com/track/{{1}}", "example": ["https://example.com/track/A1"]},
            {"type": "COPY_CODE", "example": "SAVE10"},
            {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550001111"}]}]},
    {"name": "sale", "language": "en_US", "status": "APPROVED", "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Sale starts {{sale_start_date}}!"},
        {"type": "BODY", "text": "See you there"}]},
    {"name": "plain_header", "language": "en_US", "status": "APPROVED", "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Hello"}, {"type": "BODY", "text": "Hi"}]},
    {"name": "store_map", "language": "en_US", "status": "APPROVED", "components": [
        {"type": "HEADER", "format": "LOCATION"}, {"type": "BODY", "text": "Come by"}]},
]  # fmt: skip


def test_headers_and_buttons_that_take_a_value_are_listed_with_meta_s_button_index() -> None:
    shipped, sale, plain = from_meta(LISTED)  # a LOCATION header cannot be filled here: not offered
    assert shipped.header == Header("IMAGE") and shipped.header.takes_value
    assert shipped.buttons == (Button(2, "URL", "Track", "https://example.com/track/{{1}}"), Button(3, "COPY_CODE"))
    assert sale.header == Header("TEXT", "Sale starts {{sale_start_date}}!", "sale_start_date")
    assert plain.header == Header("TEXT", "Hello") and not plain.header.takes_value and plain.buttons == ()
    assert shipped.out()["header"] == {"format": "IMAGE", "text": None, "variable": None, "takes_value": True}
    assert [b["index"] for b in shipped.out()["buttons"]] == [2, 3]


def test_the_settings_list_may_carry_meta_s_components() -> None:
    (shipped,) = from_settings({"templates": [{"name": "shipped", "language": "en_US", "category": "UTILITY",
                                               "components": LISTED[0]["components"]}]})  # fmt: skip
    assert shipped == from_meta(LISTED)[0]


def test_header_body_and_buttons_become_meta_s_send_components() -> None:
    shipped, sale, _ = from_meta(LISTED)
    assert components_for(shipped, ["A-17"], "https://cdn.example.com/box.jpg", ["A-17", "SAVE10"]) == [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/box.jpg"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "A-17"}]},
        {"type": "button", "sub_type": "url", "index": "2", "parameters": [{"type": "text", "text": "A-17"}]},
        {"type": "button", "sub_type": "copy_code", "index": "3",
         "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}]},
    ]  # fmt: skip
    assert components_for(sale, [], "1 December") == [{"type": "header", "parameters": [
        {"type": "text", "text": "1 December", "parameter_name": "sale_start_date"}]}]


@pytest.mark.parametrize(("header", "buttons", "says"), [
    (None, ["A-17", "SAVE10"], r"template_header: 'shipped' needs a link to the header's image"),
    ("  ", ["A-17", "SAVE10"], r"template_header: 'shipped' needs"),
    ("file:///etc/passwd", ["A-17", "SAVE10"], r"template_header: the header's file must be an http\(s\) link"),
    ("https://cdn.example.com/box.jpg", ["A-17"], r"template_buttons: 'shipped' takes 2 button value\(s\), got 1"),
    ("https://cdn.example.com/box.jpg", ["A-17", ""], r"template_buttons\[1\]: a value cannot be empty"),
    ("https://cdn.example.com/box.jpg", ["A-17", "X" * 16], r"a copy code has at most 15 characters"),
])  # fmt: skip
def test_a_missing_or_wrong_header_or_button_value_is_refused(header: str | None, buttons: list[str],
                                                               says: str) -> None:  # fmt: skip
    with pytest.raises(InvalidInput, match=says) as caught:
        components_for(from_meta(LISTED)[0], ["A-17"], header, buttons)
    assert caught.value.details["field"] in ("template_header", "template_buttons")


def test_a_value_for_a_header_the_template_does_not_have_is_refused() -> None:
    plain = from_meta(LISTED)[2]
    with pytest.raises(InvalidInput, match=r"template_header: 'plain_header' has no header to fill"):
        components_for(plain, [], "Ana")
    with pytest.raises(InvalidInput, match=r"template_buttons: 'plain_header' takes 0 button value\(s\), got 1"):
        components_for(plain, [], None, ["x"])
