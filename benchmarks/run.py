"""Run every benchmark, print a table, and write benchmarks/results.md.

python benchmarks/run.py            # everything (about 7 minutes on 2 cores)
python benchmarks/run.py --quick    # startup figures only
python benchmarks/run.py --catch-up # only the worst-case interest catch-up, printed (results.md untouched)
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import fixtures
from benchmarks.common import Figure, environment, marginctl_command, paired_ratio, run_measured, run_once

RESULTS = Path(__file__).resolve().parent / "results.md"


def startup(workdir: Path) -> list[Figure]:
    small = workdir / "small.db"
    fixtures.journal_wallet(small, 10)
    big = workdir / "million.db"
    fixtures.journal_wallet(big, 1_000_000)
    figures = []
    ratio, spread, _ = paired_ratio([*marginctl_command(), "--help"], env=environment(small))
    figures.append(Figure("`marginctl --help`", "≤ 8× pass", ratio, spread, "× pass", ratio <= 8))
    big_ratio, big_spread, big_seconds = paired_ratio([*marginctl_command(), "status", "--json"], env=environment(big))
    small_ratio, small_spread, small_seconds = paired_ratio(
        [*marginctl_command(), "status", "--json"], env=environment(small)
    )
    figures.append(
        Figure("`status --json`, 1,000,000 entries", "≤ 8× pass", big_ratio, big_spread, "× pass", big_ratio <= 8)
    )
    figures.append(Figure("`status --json`, 10 entries", "(reference)", small_ratio, small_spread, "× pass"))
    versus = big_seconds / small_seconds
    figures.append(Figure("`status --json` 1M ÷ 10 entries", "≤ 1.3×", versus, 0.0, "×", versus <= 1.3))
    deposit = [*marginctl_command(), "deposit", "USDT", "1", "--json"]
    ratio, spread, _ = paired_ratio(deposit, env=environment(small))
    figures.append(Figure("`deposit USDT 1 --json`", "≤ 12× pass", ratio, spread, "× pass", ratio <= 12))
    return figures


def _timed_command(db: Path, arguments: list[str], prepare) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median and spread over 3 runs, each on a freshly prepared copy of the wallet."""
    samples = []
    for _ in range(3):
        prepare(db)
        samples.append(run_once([*marginctl_command(), *arguments], env=environment(db)))
    samples.sort()
    return samples[1], samples[-1] - samples[0]


def accrual(workdir: Path) -> list[Figure]:
    db = workdir / "loans.db"
    one_hour = ["accrue", "--until", "2026-06-01T01:00:00Z", "--json"]
    seconds, spread = _timed_command(db, one_hour, lambda path: fixtures.loans_wallet(path, 10_000))
    figures = [Figure("`accrue`, 1 hour × 100,000 loans", "≤ 2 s", seconds, spread, "s", seconds <= 2)]
    catch_up = ["accrue", "--until", "2026-06-02T00:00:00Z", "--json"]
    seconds, spread = _timed_command(db, catch_up, lambda path: fixtures.loans_wallet(path, 1_000))
    figures.append(Figure("`accrue`, 24 missed hours × 10,000 loans", "≤ 5 s", seconds, spread, "s", seconds <= 5))
    return figures


def century_catch_up(workdir: Path) -> list[Figure]:
    """The worst accepted gap (issue 12, item 3): a loan from 2000-01-01, then a write at 2099-12-31T23:59:59Z.

    Both doors: a `deposit` (its account's catch-up) and `accrue` (every account, with the hourly risk
    check); time and peak memory, median of 3 runs, each on a fresh wallet.
    """
    db = workdir / "century.db"
    figures = []
    for name, arguments in (
        ("`deposit` catching up one loan, 2000 → 2099 (876,599 hours)", ["deposit", "USDT", "1"]),
        ("`accrue`, one loan, 2000 → 2099 (876,599 hours)", ["accrue"]),
    ):
        samples = []
        for _ in range(3):
            fixtures.century_loan_wallet(db)
            command = [*marginctl_command(), "--now", fixtures.CENTURY_END, *arguments, "--json"]
            samples.append(run_measured(command, env=environment(db)))
        seconds = sorted(sample[0] for sample in samples)
        memory = sorted(sample[1] for sample in samples)
        figures.append(Figure(name, "≤ 30 s", seconds[1], seconds[-1] - seconds[0], "s", seconds[1] <= 30))
        figures.append(
            Figure(f"{name}: peak memory", "≤ 150 MB", memory[1], memory[-1] - memory[0], "MB", memory[1] <= 150)
        )
    return figures


def price_set(workdir: Path) -> list[Figure]:
    db = workdir / "orders.db"
    command = ["--now", "2026-06-01T00:01:00Z", "price", "set", "BTC/USDT", "59000", "--json"]
    seconds, spread = _timed_command(db, command, lambda path: fixtures.orders_wallet(path, 1_000, 10, 1))
    return [Figure("`price set`, 10,000 resting orders, 1,000 crossed", "≤ 1 s", seconds, spread, "s", seconds <= 1)]


def price_import(workdir: Path) -> list[Figure]:
    db = workdir / "replay.db"
    klines = workdir / "BTCUSDT-1m-2026-07.csv"
    fixtures.klines_file(klines, 525_600)

    def prepare(path: Path) -> None:
        fixtures.new_wallet(path).execute("COMMIT")
        env = environment(path)
        run = [*marginctl_command(), "--now", "2026-06-01T00:00:00Z"]
        subprocess.run([*run, "accounts", "create", "bench"], env=env, check=True, stdout=subprocess.DEVNULL)
        for index in range(10):
            account = ["--account", "main" if index < 5 else "bench"]
            wallet = ["--isolated"] if index % 5 == 4 else []
            steps = [
                ["deposit", "USDT", "2000"],
                ["transfer", "USDT", "2000", "--yes", *(["--to", "BTC/USDT"] if wallet else [])],
                ["trade", "buy", "BTC/USDT", "0.04", "--side-effect", "auto-borrow", *wallet],
            ]
            for step in steps:
                subprocess.run([*run, *account, *step], env=env, check=True, stdout=subprocess.DEVNULL)

    # a year of candles from 2026-07: a simulation on its own clock (on the real clock later candles are refused)
    command = ["--now", "2026-06-01T00:00:00Z", "price", "import", str(klines), "--pair", "BTC/USDT", "--json"]
    samples = []
    for _ in range(2):
        prepare(db)
        samples.append(run_once([*marginctl_command(), *command], env=environment(db)))
    seconds = min(samples)
    return [
        Figure(
            "`price import`, 525,600 one-minute candles, 10 positions",
            "≤ 60 s",
            seconds,
            max(samples) - min(samples),
            "s",
            seconds <= 60,
        )
    ]


def write_results(figures: list[Figure]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}, "
        f"{__import__('os').cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}",
        "- startup figures: whole processes, interleaved with `python -c pass`, 21 pairs, median of the "
        "per-pair ratios; spread is the interquartile range of those ratios",
        "- other figures: whole `marginctl` processes on a freshly built wallet, median of 3 runs "
        "(best of 2 for the import); spread is max − min",
        "",
        "| figure | target | median | spread | met |",
        "|---|---|---|---|---|",
    ]
    for figure in figures:
        met = "-" if figure.ok is None else ("yes" if figure.ok else "**no**")
        lines.append(
            f"| {figure.name} | {figure.target} | {figure.median:.2f} {figure.unit} | {figure.spread:.2f} | {met} |"
        )
    text = "\n".join(lines) + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="startup figures only")
    parser.add_argument("--catch-up", action="store_true", help="only the worst-case catch-up (2000 → 2099)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="marginctl-bench-") as folder:
        workdir = Path(folder)
        if options.catch_up:
            print(
                "\n".join(
                    f"{f.name}: {f.median:.2f} {f.unit} (spread {f.spread:.2f})" for f in century_catch_up(workdir)
                )
            )
            return
        figures = startup(workdir)
        if not options.quick:
            figures += accrual(workdir) + century_catch_up(workdir) + price_set(workdir) + price_import(workdir)
    print(write_results(figures))


if __name__ == "__main__":
    main()
