"""Timing helpers shared by the benchmark scripts: whole processes, paired against `python -c pass`."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Figure:
    name: str
    target: str
    median: float
    spread: float
    unit: str
    ok: bool | None = None
    note: str = ""


def marginctl_command() -> list[str]:
    found = shutil.which("marginctl") or str(Path(sys.executable).parent / "marginctl")
    return [found]


def run_once(command: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one run; a command that fails is an error, never a timing."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - start


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
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    seconds = time.perf_counter() - start
    code, max_rss_kb = int(report[0]), int(report[1])
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} exited {code}")
    return seconds, max_rss_kb / 1024  # Linux reports kilobytes


def paired_ratio(
    command: Sequence[str], runs: int = 21, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Interleaved A/B against `python -c pass`: (median ratio, spread of ratios (IQR), median seconds)."""
    baseline = [sys.executable, "-c", "pass"]
    run_once(command, env)  # warm the page cache and the .pyc files
    ratios, seconds = [], []
    for _ in range(runs):
        base = run_once(baseline, env)
        took = run_once(command, env)
        ratios.append(took / base)
        seconds.append(took)
    quartiles = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), quartiles[2] - quartiles[0], statistics.median(seconds)


def timed(function, repeats: int = 3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median and spread (max − min) of wall seconds over `repeats` calls of `function()`."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), max(samples) - min(samples)


def environment(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MARGINCTL_DB"] = str(db)
    env.pop("MARGINCTL_NOW", None)
    return env
