"""Timing helpers shared by the benchmark scripts: whole processes, paired against `python -c pass`."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Whole-process ratios are interleaved A/B pairs; the issue asks for at least 20.
PAIRS = 21


@dataclass
class Figure:
    """One measured figure: `name` is the stable key (`--only NAME`), `title` what the table shows."""

    name: str
    title: str
    target: str
    median: float
    spread: float
    unit: str
    #: None for a reference row (no target of its own).
    met: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "figure": self.title,
            "target": self.target,
            "median": round(self.median, 4),
            "spread": round(self.spread, 4),
            "unit": self.unit,
            "met": self.met,
            **self.extra,
        }


def python_executable() -> str:
    """The interpreter marginctl is installed in (the one running the benchmarks); run it with `-P`, so a
    `python -c` helper imports the installed marginctl, not a `marginctl/` folder in the current one."""
    return sys.executable


def marginctl_command() -> list[str]:
    beside = Path(sys.executable).parent / "marginctl"
    return [str(beside) if beside.exists() else shutil.which("marginctl") or "marginctl"]


def run_once(command: Sequence[str], env: dict[str, str] | None = None, timeout: float = 900) -> float:
    """Wall seconds of one run; a command that fails is an error, never a timing."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True, timeout=timeout)
    return time.perf_counter() - start


def run_output(command: Sequence[str], env: dict[str, str] | None = None, timeout: float = 900) -> tuple[float, str]:
    """Wall seconds and standard output of one run (for a figure that checks what the command did)."""
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {completed.returncode}: {completed.stderr.strip()[-400:]}")
    return seconds, completed.stdout


#: Starts the command and reports its rusage. Linux carries a process's peak RSS into a child it forks and
#: execs (signal->maxrss), so a child of the runner (grown by its fixtures) would report the runner's peak:
#: this small go-between forks the measured command from a small process instead.
_MEASURE = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
)


def run_measured(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one process (its own rusage, through `_MEASURE`)."""
    start = time.perf_counter()
    report = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, env=env, check=True, timeout=900
    ).stdout.split()
    seconds = time.perf_counter() - start
    code, max_rss_kb = int(report[0]), int(report[1])
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} exited {code}")
    return seconds, max_rss_kb / 1024  # Linux reports kilobytes


BASELINE = [sys.executable, "-c", "pass"]


def interleaved(
    commands: Sequence[tuple[Sequence[str], dict[str, str] | None]], runs: int = PAIRS
) -> list[list[float]]:
    """Seconds of each command, run in turn `runs` times (one warm-up round first, not counted)."""
    for command, env in commands:
        run_once(command, env)  # warm the page cache
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for index, (command, env) in enumerate(commands):
            samples[index].append(run_once(command, env))
    return samples


def ratio_stats(numerators: Sequence[float], denominators: Sequence[float]) -> tuple[float, float]:
    """Median of the per-round ratios and their spread (interquartile range)."""
    ratios = [top / bottom for top, bottom in zip(numerators, denominators, strict=True)]
    quartiles = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), quartiles[2] - quartiles[0]


def paired_ratio(
    command: Sequence[str], runs: int = PAIRS, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Interleaved A/B against `python -c pass`: (median ratio, spread of ratios (IQR), median seconds)."""
    base, took = interleaved([(BASELINE, env), (command, env)], runs)
    ratio, spread = ratio_stats(took, base)
    return ratio, spread, statistics.median(took)


def median_spread(samples: Sequence[float]) -> tuple[float, float]:
    """Median and spread (max − min) of a few samples."""
    return statistics.median(samples), max(samples) - min(samples)


def environment(db: Path | str) -> dict[str, str]:
    """The measured process's environment: this wallet, the real clock unless `--now` is given."""
    env = dict(os.environ)
    env["MARGINCTL_DB"] = str(db)
    env.pop("MARGINCTL_NOW", None)
    return env
