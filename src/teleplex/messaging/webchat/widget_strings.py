"""The words widget.js shows, in every language of the catalogue, written into the script when it is served.

The widget lives on a customer's site, outside the interface's pages, so it carries its own slice of the one
catalogue: its `widget.*` rows and the `error.reason.*` rows of every refusal a visitor can meet (the `reason`
of the REST errors and of the WebSocket's error frames). It picks the language itself: the script's
`data-language`, else the page's `<html lang>`, else the browser's; English when none is ours.
"""

from __future__ import annotations

import json

from teleplex.web.catalogue import CATALOGUE
from teleplex.web.i18n import LANGUAGES

MARK = "/*teleplex:strings*/{}"  # in widget.js, where the table goes

# What a visitor can be told: frames.py, errors.py, attachments.py, tokens.py, limits.py and the session call's body.
REASONS = (
    "frame_invalid", "frame_too_large", "client_id_format", "text_empty", "text_too_long", "text_unsupported",
    "already_authenticated", "read_not_in_chat", "frame_failed", "auth_frame_first", "after_not_number",
    "token_invalid", "token_expired", "chat_closed", "chat_not_found", "origin_not_allowed",
    "identity_invalid", "visitor_key_invalid", "identifier_hash_pair", "body_too_large", "body_not_json", "invalid_value",
    "file_empty", "file_too_large", "file_type_refused", "rate_limited",
)


def table() -> dict[str, dict[str, str]]:
    """Language -> key -> text; a reason without a catalogue row is a KeyError (tests catch it)."""
    keys = [k for k in CATALOGUE if k.startswith("widget.")] + [f"error.reason.{r}" for r in REASONS]
    return {language: {key: CATALOGUE[key][language] for key in keys} for language in LANGUAGES}


def render(source: str) -> str:
    """widget.js with the table in place of its mark (ASCII-escaped: safe whatever the page's charset)."""
    return source.replace(MARK, json.dumps(table(), separators=(",", ":")), 1)
