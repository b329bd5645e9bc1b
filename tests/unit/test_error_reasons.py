"""Every refusal a service writes has a reason the web interface can say in Spanish.

The source is read with `ast`: each `Conflict(...)`/`InvalidInput(...)` (raised or built) must pass `reason=`,
either a literal or a parameter of its function that every caller (or the default) fills with a literal; each
such reason needs an `error.reason.<key>` row whose English and Spanish use the same placeholders.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from teleplex.web.catalogue import CATALOGUE

SRC = Path(__file__).resolve().parents[2] / "src" / "teleplex"
# and the subclasses that keep the parent's vague code (contacts' identity errors), so each raise needs a reason
CHECKED = {"Conflict", "InvalidInput", "IdentityTaken", "InvalidIdentity"}
KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _reason(call: ast.Call) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == "reason"), None)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


@functools.cache
def _parse() -> dict[str, ast.Module]:
    return {str(p.relative_to(SRC)): ast.parse(p.read_text(), str(p)) for p in sorted(SRC.rglob("*.py"))}


def _enclosing(tree: ast.Module) -> dict[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Each node's innermost function."""
    out: dict[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]:
        for node in ast.walk(fn):  # outer functions come first in ast.walk, so inner ones overwrite them
            out[node] = fn
    return out


def _scan(modules: dict[str, ast.Module]) -> tuple[dict[str, list[str]], list[str]]:
    """The literal reasons with where each is given, and the calls that give none (or none to read)."""
    used: dict[str, list[str]] = {}
    problems: list[str] = []
    forwarded: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for path, tree in modules.items():
        enclosing = _enclosing(tree)
        for call in [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n.func) in CHECKED]:
            reason, fn = _reason(call), enclosing.get(call)
            params = {a.arg for a in (*fn.args.args, *fn.args.kwonlyargs)} if fn else set()
            if isinstance(reason, ast.Constant) and isinstance(reason.value, str):
                used.setdefault(reason.value, []).append(f"{path}:{call.lineno}")
            elif isinstance(reason, ast.Name) and reason.id == "reason" and "reason" in params and fn:
                forwarded[fn.name] = fn
            else:
                problems.append(f"{path}:{call.lineno}: {_name(call.func)}(...) has no reason=")
    for name, fn in forwarded.items():
        defaults = dict(zip([a.arg for a in fn.args.kwonlyargs], fn.args.kw_defaults, strict=True))
        default = defaults.get("reason")
        if isinstance(default, ast.Constant) and isinstance(default.value, str):
            used.setdefault(default.value, []).append(f"default of {name}()")
        for path, tree in modules.items():
            for call in [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n.func) == name]:
                reason = _reason(call)
                if isinstance(reason, ast.Constant) and isinstance(reason.value, str):
                    used.setdefault(reason.value, []).append(f"{path}:{call.lineno}")
                elif reason is not None or default is None:
                    problems.append(f"{path}:{call.lineno}: {name}(...) needs a literal reason=")
    return used, problems


@functools.cache
def _source() -> tuple[dict[str, list[str]], list[str]]:
    return _scan(_parse())


def test_every_conflict_and_invalid_input_in_the_source_gives_a_reason() -> None:
    used, problems = _source()
    assert not problems, "\n".join(problems)
    assert len(used) > 50  # the scan found the services' reasons, not an empty tree


def test_every_reason_is_a_snake_case_key_with_a_catalogue_row() -> None:
    used, _ = _source()
    bad = [f"{r} ({', '.join(w)})" for r, w in sorted(used.items()) if not KEY.match(r)]
    missing = [f"error.reason.{r} ({', '.join(w)})" for r, w in sorted(used.items())
               if f"error.reason.{r}" not in CATALOGUE]  # fmt: skip
    assert not bad, "not snake_case: " + "; ".join(bad)
    assert not missing, "no catalogue row: " + "; ".join(missing)


def test_each_raise_gives_the_details_its_spanish_row_fills_in() -> None:
    """A placeholder the details lack would make the page fall back to the vague text for the code."""
    lacking = []
    for path, tree in _parse().items():
        for call in [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n.func) in CHECKED]:
            reason = _reason(call)
            row = CATALOGUE.get(f"error.reason.{reason.value}") if isinstance(reason, ast.Constant) else None
            if row is None:
                continue
            needed = _placeholders(row["es"])
            details = call.args[1] if len(call.args) > 1 else None
            given = {k.value for k in details.keys if isinstance(k, ast.Constant)} \
                if isinstance(details, ast.Dict) else set()  # fmt: skip
            if needed - given:
                lacking.append(f"{path}:{call.lineno}: {reason.value} needs {sorted(needed - given)}")
    assert not lacking, "\n".join(lacking)


def test_reason_rows_use_the_same_placeholders_in_english_and_spanish() -> None:
    rows = {k: v for k, v in CATALOGUE.items() if k.startswith("error.reason.")}
    differ = [
        f"{k}: {sorted(_placeholders(v['en']))} vs {sorted(_placeholders(v['es']))}"
        for k, v in sorted(rows.items())
        if _placeholders(v["en"]) != _placeholders(v["es"])
    ]
    assert rows
    assert not differ, "\n".join(differ)


def test_the_scan_catches_a_raise_without_reason_and_a_forwarded_reason_without_literal() -> None:
    """The checks above can fail: a bare raise and a helper whose caller passes a variable are reported."""
    tree = ast.parse(
        "def bare():\n"
        "    raise Conflict('x')\n"
        "def helper(message, *, reason):\n"
        "    raise InvalidInput(message, reason=reason)\n"
        "def caller(r):\n"
        "    helper('y', reason=r)\n"
        "def fine():\n"
        "    helper('z', reason='some_key')\n"
    )
    used, problems = _scan({"sample.py": tree})
    assert problems == [
        "sample.py:2: Conflict(...) has no reason=",
        "sample.py:6: helper(...) needs a literal reason=",
    ]
    assert used == {"some_key": ["sample.py:8"]}
