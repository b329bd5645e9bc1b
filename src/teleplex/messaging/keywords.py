"""SMS compliance keywords: STOP opts out, START opts back in, HELP asks for help (carrier rules)."""

from __future__ import annotations

from enum import StrEnum


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


_WORDS = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"), Keyword.STOP),
    **dict.fromkeys(("START", "YES", "UNSTOP", "OPTIN"), Keyword.START),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}


def keyword(text: str | None) -> Keyword | None:
    """The keyword a message is, when its whole text is one (carriers match the lone word, any case)."""
    if not text:
        return None
    word = text.strip().strip(".!").upper()
    return _WORDS.get(word)
