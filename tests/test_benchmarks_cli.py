"""benchmarks/run.py's command line: the figures' names other tools ask for, and its argument errors.

Nothing here measures anything (no timings in tests/): `--list` and refused arguments return at once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"

#: The figures of issue 14, by the names the other work refers to, with their targets.
ISSUE_FIGURES = {
    "help": "≤ 8× pass",
    "status-1m": "≤ 6× pass",
    "deposit": "≤ 7× pass",
    "status-100k-accounts": "≤ 1.2× on 10 accounts",
    "deposit-100k-accounts": "≤ 1.2× on 10 accounts",
    "accrue-1h-100k": "≤ 1 s",
    "accrue-24h-10k": "≤ 0.5 s",
    "price-set-10k-borrowers": "≤ 0.3 s",
    "price-set-100k-orders": "≤ 0.1 s",
    "price-import-525k": "≤ 4 s",
    "pg-round-trips": "≤ 3",
    "pg-deposit": "≤ 25× pass",
    "catch-up-century-deposit": "≤ 30 s",
    "catch-up-century-accrue": "≤ 30 s",
}
#: The figures of issue 16 (watch, report and the replay server), with their targets.
ISSUE_16_FIGURES = {
    "watch-frame-1m": "≤ 0.5 s",
    "report-month": "≤ 1 s",
    "report-month-png": "≤ 4 s",
    "serve-replay-max": "≥ 100 candles/s",
}


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUN), *arguments], capture_output=True, text=True, timeout=60)


def test_list_names_every_figure_of_the_issue_with_its_target() -> None:
    result = run("--list")
    assert result.returncode == 0, result.stderr
    listed = dict(line.split("\t") for line in result.stdout.splitlines())
    for name, target in {**ISSUE_FIGURES, **ISSUE_16_FIGURES}.items():
        assert listed.get(name) == target, name


def test_only_refuses_an_unknown_figure_and_names_the_known_ones() -> None:
    result = run("--only", "status-2m", "--json")
    assert result.returncode == 2
    assert "invalid choice: 'status-2m'" in result.stderr
    assert "'status-1m'" in result.stderr


def test_json_needs_the_figures_named_with_only() -> None:
    result = run("--json")
    assert result.returncode == 2
    assert "--json prints the figures named with --only" in result.stderr


def test_quick_and_only_together_are_refused() -> None:
    result = run("--quick", "--only", "help")
    assert result.returncode == 2
    assert "give one" in result.stderr
