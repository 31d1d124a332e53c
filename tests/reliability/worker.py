"""One concurrency worker: runs a plan of marginctl commands in this process, the way a user runs them, and
records each outcome. A fresh process per command would cost ~0.15 s each; in-process it is a few ms.

    python -m tests.reliability.worker PLAN.json RESULTS.json READY_FILE GO_FILE

The wallet comes from MARGINCTL_DB. The worker warms up (imports every module with one read command),
touches READY_FILE, waits for GO_FILE so all workers start together, then runs the plan.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import run_cli


def parse(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        return None


def main(plan_file: str, results_file: str, ready_file: str, go_file: str) -> None:
    plan: list[list[str]] = [step["args"] for step in json.loads(Path(plan_file).read_text(encoding="utf-8"))]
    warm_up = run_cli(["status", "--json"])
    assert warm_up.code in (0, 2, 3), warm_up.err
    Path(ready_file).touch()
    while not Path(go_file).exists():
        time.sleep(0.005)
    results = []
    started = time.perf_counter()
    for args in plan:
        before = time.perf_counter()
        outcome = run_cli(args)
        results.append(
            {
                "args": args,
                "code": outcome.code,
                "out": parse(outcome.out),
                "rawOut": outcome.out if parse(outcome.out) is None else "",
                "err": outcome.err,
                "seconds": time.perf_counter() - before,
            }
        )
    elapsed = time.perf_counter() - started
    Path(results_file).write_text(json.dumps({"elapsed": elapsed, "results": results}), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:5])
