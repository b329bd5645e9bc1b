"""`teleplex simulate dialer` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from teleplex.cli import app

runner = CliRunner()
SMALL = ["simulate", "dialer", "--agents", "4", "--shift-hours", "1", "--talk-mean", "60", "--seed", "3"]


def test_simulate_dialer_prints_a_row_per_dialer() -> None:
    result = runner.invoke(
        app, [*SMALL, "--dialer", "progressive", "--dialer", "teleplex", "--dialer", "oracle"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "talk occ." in lines[1] and "worst 24h" in lines[1]
    assert [line.split()[0] for line in lines[2:]] == ["progressive", "teleplex", "oracle"]


def test_simulate_dialer_json_is_repeatable() -> None:
    args = [*SMALL, "--dialer", "teleplex", "--json"]
    first = runner.invoke(app, args)
    again = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    row = json.loads(first.output)
    assert row["dialer"] == "teleplex" and row["live_answers"] > 0
    assert first.output == again.output


def test_simulate_dialer_runs_every_dialer_by_default() -> None:
    result = runner.invoke(app, [*SMALL, "--json"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 8


def test_simulate_dialer_rejects_an_unknown_dialer() -> None:
    result = runner.invoke(app, [*SMALL, "--dialer", "magic"])
    assert result.exit_code != 0
    assert "magic" in result.output
