from __future__ import annotations

import pytest

from teleplex.messaging.keywords import Keyword, keyword


@pytest.mark.parametrize(
    ("text", "expected"),
    [("STOP", Keyword.STOP), ("stop", Keyword.STOP), (" Unsubscribe ", Keyword.STOP), ("STOP.", Keyword.STOP),
     ("START", Keyword.START), ("unstop", Keyword.START), ("HELP", Keyword.HELP), ("info", Keyword.HELP),
     ("please stop calling", None), ("", None), (None, None), ("stopp", None)],
)
def test_lone_keywords_are_recognised(text: str | None, expected: Keyword | None) -> None:
    assert keyword(text) is expected
