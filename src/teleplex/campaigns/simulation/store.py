"""Simulated results kept on disk, so a long benchmark can be run in pieces and its tables printed again.

One JSON file per (scenario, seed) holds every dialer's `DialerResult` for it. The file's key is a hash of
the scenario's parameters (seed and days included), the Python version, and the source of every Teleplex
module the simulator imports (the pacer, its risk arithmetic and estimates, the abandonment ledger, the
engine...): change one line of the pacer and no earlier result is reused.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

from teleplex.campaigns.simulation.dialers import DialerKind, DialerSpec
from teleplex.campaigns.simulation.engine import simulate
from teleplex.campaigns.simulation.metrics import DialerResult, Histogram
from teleplex.campaigns.simulation.scenario import DialerScenario

FORMAT = 1  # bump when the file layout changes: older files are then ignored
SOURCE_ROOT = Path(__file__).resolve().parents[3]  # the folder holding the `teleplex` package
SIMULATOR = "teleplex.campaigns.simulation"


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def source_files(root: Path = SOURCE_ROOT, module: str = SIMULATOR) -> list[Path]:
    """The files of `module` and of every `teleplex` module it imports, directly or not, with their packages'
    `__init__.py` (Python runs those too). Found by reading the import statements, so a new import is
    covered without a list to keep up to date."""
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(root, name)
        if path is None:
            continue  # a name imported from a module, not a module
        seen[name] = path
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                todo.extend(alias.name for alias in node.names if alias.name.split(".")[0] == "teleplex")
            elif (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.level == 0
                and node.module.split(".")[0] == "teleplex"
            ):
                todo.append(node.module)
                todo.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(seen.values())


def code_fingerprint(root: Path = SOURCE_ROOT, module: str = SIMULATOR) -> str:
    """A hash of the simulator's source code (see `source_files`)."""
    digest = hashlib.sha256()
    for path in source_files(root, module):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def spec_key(spec: DialerSpec) -> str:
    """The name a dialer's result is filed under; the power ratio in full (repr), not rounded."""
    return f"power@{spec.power_ratio!r}" if spec.kind is DialerKind.POWER else spec.kind.value


def result_to_json(result: DialerResult) -> dict:
    """Every field, histograms as their non-zero bins: JSON floats read back as the very same floats."""
    out = dataclasses.asdict(result)
    for name in ("customer_wait", "agent_idle"):
        h: Histogram = getattr(result, name)
        out[name] = {
            "width": h.width,
            "size": len(h.bins),
            "bins": [[i, n] for i, n in enumerate(h.bins) if n],
            "count": h.count,
            "total": h.total,
        }
    return out


def result_from_json(data: dict) -> DialerResult:
    fields = dict(data)
    for name in ("customer_wait", "agent_idle"):
        h = fields[name]
        bins = [0] * h["size"]
        for i, n in h["bins"]:
            bins[i] = n
        fields[name] = Histogram(width=h["width"], bins=bins, count=h["count"], total=h["total"])
    return DialerResult(**fields)


class ResultStore:
    """A folder of simulated results; `simulate` runs a dialer only when its result is not there yet."""

    def __init__(self, directory: Path, *, code: str | None = None) -> None:
        self.directory = Path(directory)
        self.code = code if code is not None else code_fingerprint()

    def key(self, scenario: DialerScenario) -> str:
        """What a stored result depends on: the code, the Python that ran it, every scenario parameter."""
        identity = {
            "format": FORMAT,
            "code": self.code,
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "scenario": dataclasses.asdict(scenario),
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def path(self, scenario: DialerScenario, name: str) -> Path:
        """`name` (the bench's scenario name) only makes the folder readable; the key decides reuse."""
        slug = "-".join(name.split()) or "scenario"
        key = self.key(scenario)[:16]
        return self.directory / f"{slug}.seed{scenario.seed}.days{scenario.days}.{key}.json"

    def _read(self, scenario: DialerScenario, name: str) -> dict:
        path = self.path(scenario, name)
        if not path.is_file():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if data.get("key") == self.key(scenario) else {}

    def load(self, scenario: DialerScenario, spec: DialerSpec, name: str = "") -> DialerResult | None:
        stored = self._read(scenario, name).get("results", {}).get(spec_key(spec))
        return result_from_json(stored) if stored is not None else None

    def cpu_seconds(self, scenario: DialerScenario, name: str = "") -> dict[str, float]:
        """What each stored dialer's simulation took, by `spec_key`."""
        return self._read(scenario, name).get("cpu_seconds", {})

    def save(
        self,
        scenario: DialerScenario,
        spec: DialerSpec,
        result: DialerResult,
        cpu_seconds: float,
        name: str = "",
    ) -> None:
        """Add one dialer's result to the (scenario, seed) file; written whole to a new file, then renamed,
        so a run stopped midway never leaves a half-written file."""
        data = self._read(scenario, name) or {
            "format": FORMAT,
            "key": self.key(scenario),
            "code": self.code,
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "name": name,
            "scenario": dataclasses.asdict(scenario),
            "results": {},
            "cpu_seconds": {},
        }
        data["results"][spec_key(spec)] = result_to_json(result)
        data["cpu_seconds"][spec_key(spec)] = round(cpu_seconds, 3)
        path = self.path(scenario, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
        os.replace(temporary, path)

    def simulate(
        self,
        scenario: DialerScenario,
        spec: DialerSpec,
        name: str = "",
        run: Callable[[DialerScenario, DialerSpec], DialerResult] = simulate,
    ) -> DialerResult:
        """The stored result, or a fresh simulation that is then stored."""
        stored = self.load(scenario, spec, name)
        if stored is not None:
            return stored
        started = time.process_time()
        result = run(scenario, spec)
        self.save(scenario, spec, result, time.process_time() - started, name)
        return result
