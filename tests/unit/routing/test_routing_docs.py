"""The example at the top of docs/routing.md must keep working, so the docs cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "routing.md"


def test_routing_doc_example_runs() -> None:
    example = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert example is not None
    exec(compile(example.group(1), str(DOC), "exec"), {})
