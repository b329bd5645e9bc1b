"""The widget's words come from the catalogue, in every language, and cover every reason a visitor meets."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from teleplex.messaging.webchat import api, attachments, errors, widget_strings
from teleplex.web.i18n import LANGUAGES

WEBCHAT = Path(widget_strings.__file__).resolve().parent


def _given_reasons() -> set[str]:
    """Reason literals in web chat's source: `reason=` keywords, and the second argument of `FrameInvalid` and
    of frames.py's `refuse` helper."""
    found: set[str] = set()
    for path in WEBCHAT.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            values = [k.value for k in node.keywords if k.arg == "reason"]
            if name in ("FrameInvalid", "refuse") and len(node.args) > 1:
                values.append(node.args[1])
            for value in values:
                for leaf in ast.walk(value):
                    if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str):
                        found.add(leaf.value)
    return found


def test_the_table_has_every_language_with_the_same_keys() -> None:
    table = widget_strings.table()
    assert set(table) == set(LANGUAGES)
    assert all(set(words) == set(table["en"]) for words in table.values())
    spanish = "El mensaje es demasiado largo: como máximo {max_length} caracteres."
    assert table["es"]["error.reason.text_too_long"] == spanish


def test_every_reason_a_visitor_can_meet_is_in_the_widgets_table() -> None:
    classes = [errors.WidgetNotFound, errors.WidgetDisabled, errors.OriginNotAllowed, errors.TokenInvalid,
               errors.IdentityInvalid, errors.VisitorKeyInvalid, attachments.AttachmentTooLarge,
               attachments.AttachmentTypeNotAllowed]  # fmt: skip
    given = _given_reasons() | {c.reason for c in classes if c.reason} | {"frame_invalid", "frame_failed"}
    assert "text_too_long" in given and "token_expired" in given  # the scan read the source
    assert given - set(widget_strings.REASONS) == set()


def test_the_served_script_carries_the_table_in_place_of_its_mark() -> None:
    source = api.WIDGET_JS.read_text(encoding="utf-8")
    assert source.count(widget_strings.MARK) == 1
    served = widget_strings.render(source)
    start = served.index("var STRINGS = ") + len("var STRINGS = ")
    table = json.JSONDecoder().raw_decode(served, start)[0]
    assert table == widget_strings.table() and widget_strings.MARK not in served
