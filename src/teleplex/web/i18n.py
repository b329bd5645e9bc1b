"""The interface's languages: which one a person gets, and the strings of that language.

Every word the interface shows (templates and JavaScript alike) comes from the one catalogue in
catalogue.py, so a missing Spanish string is a test failure, not a surprise in production.
"""

from __future__ import annotations

from collections.abc import Callable

from teleplex.web.catalogue import CATALOGUE

LANGUAGES = ("en", "es")
DEFAULT = "en"


def from_accept_language(header: str | None) -> str:
    """The browser's preferred language among ours (`es-MX,es;q=0.9,en;q=0.8` → `es`), by its q weights."""
    best, best_q = DEFAULT, -1.0
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        q -= position * 1e-6  # equal weights: the first listed wins
        if base in LANGUAGES and q > best_q:
            best, best_q = base, q
    return best


def strings(language: str) -> dict[str, str]:
    """Every string of one language, keyed as in the catalogue (what the pages hand to their JavaScript)."""
    lang = language if language in LANGUAGES else DEFAULT
    return {key: texts[lang] for key, texts in CATALOGUE.items()}


def translator(language: str) -> Callable[..., str]:
    """`t("key", name=...)` for the templates; an unknown key is shown as itself so it is easy to spot."""
    table = strings(language)

    def t(key: str, **values: object) -> str:
        text = table.get(key, key)
        return text.format(**values) if values else text

    return t
