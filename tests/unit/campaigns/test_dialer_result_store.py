"""The dialer benchmark's results folder (`bench/dialer.py --results`): a result made by the same code for the
same parameters is reused as it was; a changed pacer, another seed or another length is simulated afresh."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from teleplex.campaigns.simulation import DialerKind, DialerResult, DialerScenario, DialerSpec, simulate
from teleplex.campaigns.simulation.store import (
    SOURCE_ROOT,
    ResultStore,
    code_fingerprint,
    result_from_json,
    result_to_json,
    source_files,
)

TINY = DialerScenario(agents=3, human_answer_probability=0.3, talk_mean_seconds=60.0, shift_hours=0.25)
NAME = "3a tiny"


def _must_not_run(scenario: DialerScenario, spec: DialerSpec) -> DialerResult:
    raise AssertionError(f"simulated {spec.kind.value} again instead of reusing the stored result")


def test_a_stored_result_is_reused_as_it_was(tmp_path: Path) -> None:
    spec = DialerSpec(DialerKind.TELEPLEX)
    fresh = ResultStore(tmp_path).simulate(TINY, spec, NAME)

    reused = ResultStore(tmp_path).simulate(TINY, spec, NAME, run=_must_not_run)

    assert reused == fresh  # every field, histogram bins included
    assert reused.summary() == simulate(TINY, spec).summary()


def test_results_of_several_dialers_share_the_seed_file(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    power = store.simulate(TINY, DialerSpec(DialerKind.POWER, 2.5), NAME)
    progressive = store.simulate(TINY, DialerSpec(DialerKind.PROGRESSIVE), NAME)

    (only,) = tmp_path.glob("*.json")
    assert only.name.startswith("3a-tiny.seed1.days1.")
    assert set(json.loads(only.read_text())["results"]) == {"power@2.5", "progressive"}
    assert store.simulate(TINY, DialerSpec(DialerKind.POWER, 2.5), NAME, run=_must_not_run) == power
    assert store.simulate(TINY, DialerSpec(DialerKind.PROGRESSIVE), NAME, run=_must_not_run) == progressive
    assert store.load(TINY, DialerSpec(DialerKind.POWER, 3.0), NAME) is None  # another ratio: not run yet


@pytest.mark.parametrize("other", [TINY.with_seed(2), replace(TINY, days=2)], ids=["seed", "days"])
def test_another_seed_or_length_is_simulated_afresh(tmp_path: Path, other: DialerScenario) -> None:
    store = ResultStore(tmp_path)
    store.simulate(TINY, DialerSpec(DialerKind.PROGRESSIVE), NAME)

    assert store.key(other) != store.key(TINY)
    assert store.load(other, DialerSpec(DialerKind.PROGRESSIVE), NAME) is None


def test_a_changed_pacer_is_not_served_old_results(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    for path in source_files():
        target = copy / path.relative_to(SOURCE_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    assert code_fingerprint(copy) == code_fingerprint()  # the hash is of the code, not of where it lies

    pacing = copy / "teleplex" / "campaigns" / "pacing.py"
    pacing.write_text(pacing.read_text().replace("aim: float = 0.9", "aim: float = 0.8"))
    changed = code_fingerprint(copy)
    assert changed != code_fingerprint()

    spec = DialerSpec(DialerKind.TELEPLEX)
    ResultStore(tmp_path / "results").simulate(TINY, spec, NAME)
    ran: list[str] = []

    def run(scenario: DialerScenario, spec: DialerSpec) -> DialerResult:
        ran.append(spec.kind.value)
        return simulate(scenario, spec)

    ResultStore(tmp_path / "results", code=changed).simulate(TINY, spec, NAME, run=run)
    assert ran == ["teleplex"]
    assert len(list((tmp_path / "results").glob("*.json"))) == 2  # the old code's file is left, unused


def test_every_module_the_simulator_loads_is_in_the_key() -> None:
    """The key's file list is read from the import statements; check it against what Python really loads."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys, teleplex.campaigns.simulation\n"
                "print('\\n'.join(m.__file__ for n, m in sys.modules.items()"
                " if n.split('.')[0] == 'teleplex' and getattr(m, '__file__', None)))"
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    hashed = {path.resolve() for path in source_files()}
    assert {Path(f).resolve() for f in loaded} <= hashed
    assert SOURCE_ROOT / "teleplex" / "campaigns" / "pacing_risk.py" in hashed


def test_results_read_back_float_for_float() -> None:
    result = simulate(TINY, DialerSpec(DialerKind.ISSABEL))
    assert result.agent_idle.count and result.customer_wait.count

    again = result_from_json(json.loads(json.dumps(result_to_json(result))))

    assert again == result
    assert again.agent_idle.percentile(0.95) == result.agent_idle.percentile(0.95)


def test_a_file_left_by_another_key_is_ignored(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.simulate(TINY, DialerSpec(DialerKind.PROGRESSIVE), NAME)
    (path,) = tmp_path.glob("*.json")
    data = json.loads(path.read_text())
    data["key"] = "0" * 64  # e.g. a file copied over by hand
    path.write_text(json.dumps(data))

    assert store.load(TINY, DialerSpec(DialerKind.PROGRESSIVE), NAME) is None
