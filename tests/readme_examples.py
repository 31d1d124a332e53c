"""README.md's ```console examples, run as one story in the order printed (the idea of sqlite-utils' docs tests).

    .venv/bin/python -m tests.readme_examples            # run the story, print a diff per differing output
    .venv/bin/python -m tests.readme_examples --update   # rewrite the outputs in README.md from a real run

`tests/test_readme.py` runs the same story and fails on any difference; it never rewrites anything.

How a console block reads:
- A line starting with `$ ` is a command; the lines after it, up to the next `$ ` or the end of the block,
  are what it prints. Trailing spaces and trailing blank lines are not compared (editors strip them).
- Commands are split like a shell does (shlex, `#` starts a comment). Two kinds exist, nothing else:
  `export NAME=VALUE …` sets an environment variable for every later command (it prints nothing), and
  `marginctl ARGS…` runs the installed console script as a real process.
- The output shown is stdout, then stderr: what a user's terminal shows, since marginctl writes its
  warning lines (`warning: margin call: …`, `LIQUIDATED: …`) to stderr after its result. They are shown
  as they are, unmarked (the README says in prose that they go to stderr).
- Random values: an output line may show `<random key>` where the command prints a new random API key or
  secret (64 letters and digits); that part matches any such key, and `--update` keeps the line as written.
- Exit codes: a command must exit 0, unless what it prints is an error: nothing on stdout and one line on
  stderr starting with `error:` (or, with `--json`, `{"error": `). Such a command must exit non-zero. So a
  failing example shows its error line, and an example that shows an error line must fail.

The story runs on a fresh wallet in a temporary folder (MARGINCTL_DB), with no config file (the built-in
defaults), HOME and the XDG folders in that temporary folder, COLUMNS=80, a UTF-8 locale, stdin from
/dev/null and no terminal, and the repository root as the working directory (so the README can name files
of the repository by relative path). Every clock is set by the README's own `export MARGINCTL_NOW=…` lines,
so each output is the same on every run.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE_OPEN = "```console"
FENCE_CLOSE = "```"
PROMPT = "$ "
ERROR_STARTS = ("error:", '{"error": ')
RANDOM_KEY = "<random key>"


@dataclass
class Step:
    """One `$ command` of a console block and the output the README shows for it."""

    command: str
    line: int  # 1-based line of the command in README.md
    expected: list[str] = field(default_factory=list)
    actual: list[str] | None = None
    problem: str | None = None  # set when the run broke a rule (exit code, stream), not just the text

    @property
    def differs(self) -> bool:
        if self.problem is not None or self.actual is None:
            return True
        expected = _trimmed(self.expected)
        return len(expected) != len(self.actual) or not all(map(_line_matches, expected, self.actual))


def _line_matches(expected: str, actual: str) -> bool:
    """Equal, or equal with each `<random key>` standing for 64 letters and digits."""
    if RANDOM_KEY not in expected:
        return expected == actual
    pattern = "[A-Za-z0-9]{64}".join(re.escape(part) for part in expected.split(RANDOM_KEY))
    return re.fullmatch(pattern, actual) is not None


def _trimmed(lines: list[str]) -> list[str]:
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def parse(text: str) -> list[Step]:
    """Every step of every ```console block, in the order printed."""
    steps: list[Step] = []
    inside = in_step = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not inside:
            inside = line.strip() == FENCE_OPEN
            in_step = False
        elif line.strip() == FENCE_CLOSE:
            inside = False
        elif line.startswith(PROMPT):
            steps.append(Step(command=line[len(PROMPT) :], line=number))
            in_step = True
        elif in_step:
            steps[-1].expected.append(line)
        elif line.strip():
            raise ValueError(f"README.md:{number}: output before the first `$ ` command of a console block")
    if inside:
        raise ValueError("README.md: a ```console block is not closed")
    return steps


def marginctl_executable() -> str:
    """The console script of the Python running this (the venv's), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "marginctl"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("marginctl")
    if found is None:
        raise RuntimeError("the marginctl console script is not installed (pip install -e .)")
    return found


def story_environment(folder: Path) -> dict[str, str]:
    """A clean environment: nothing of the caller's MARGINCTL_*, config, colours or terminal width leaks in."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder / "home"),
        "XDG_CONFIG_HOME": str(folder / "xdg-config"),
        "XDG_DATA_HOME": str(folder / "xdg-data"),
        "XDG_CACHE_HOME": str(folder / "xdg-cache"),
        "LC_ALL": "C.UTF-8",
        "COLUMNS": "80",
        "MARGINCTL_DB": str(folder / "wallet.db"),
    }


def run_step(step: Step, env: dict[str, str], executable: str, cwd: Path = ROOT) -> None:
    """Run one step, updating `env` for `export`; sets `step.actual` and, if a rule is broken, `step.problem`."""
    words = shlex.split(step.command, comments=True)
    if not words:
        raise ValueError(f"README.md:{step.line}: an empty command")
    if words[0] == "export":
        for assignment in words[1:]:
            name, equals, value = assignment.partition("=")
            if not equals or not name:
                raise ValueError(f"README.md:{step.line}: export takes NAME=VALUE, not {assignment!r}")
            env[name] = value
        step.actual = []
        return
    if words[0] != "marginctl":
        raise ValueError(f"README.md:{step.line}: only `marginctl …` and `export NAME=VALUE` can be run")
    process = subprocess.run(
        [executable, *words[1:]],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,  # a guard against a hang, not a time limit: the machine may be loaded
    )
    step.actual = _trimmed((process.stdout + process.stderr).splitlines())
    is_error = (
        process.stdout == "" and len(process.stderr.splitlines()) == 1 and process.stderr.startswith(ERROR_STARTS)
    )
    if process.returncode != 0 and not is_error:
        step.problem = (
            f"exit {process.returncode} without a one-line error on stderr (stdout {process.stdout!r}, "
            f"stderr {process.stderr!r})"
        )
    elif process.returncode == 0 and is_error:
        step.problem = "prints an error line but exits 0"


def run_story(steps: list[Step]) -> list[Step]:
    """Run every step in order on one fresh wallet; returns the steps, each with its actual output."""
    executable = marginctl_executable()
    with tempfile.TemporaryDirectory(prefix="marginctl-readme-") as folder:
        env = story_environment(Path(folder))
        # The reader runs the examples at the root of a clone; the story runs in a copy of its docs/, so the
        # files the examples write (another --db, a chart, a CSV) land in the temporary folder.
        clone = Path(folder) / "clone"
        shutil.copytree(ROOT / "docs", clone / "docs")
        for step in steps:
            run_step(step, env, executable, clone)
    return steps


def report(steps: list[Step]) -> str:
    """A unified diff (README's lines → actual) for each step that differs, with its README line."""
    parts = []
    for step in steps:
        if not step.differs:
            continue
        assert step.actual is not None
        header = f"README.md:{step.line}: $ {step.command}"
        if step.problem:
            header += f"\n  {step.problem}"
        diff = difflib.unified_diff(_trimmed(step.expected), step.actual, "README", "actual", lineterm="")
        parts.append(header + "\n" + "\n".join(diff))
    return "\n\n".join(parts)


def updated(text: str, steps: list[Step]) -> str:
    """README.md's text with each step's output replaced by its actual output."""
    lines = text.splitlines()
    by_line = {step.line: step for step in steps}
    result: list[str] = []
    skipping = False
    for number, line in enumerate(lines, start=1):
        if number in by_line:
            step = by_line[number]
            assert step.actual is not None
            result.append(line)
            result.extend(_trimmed(step.expected) if not step.differs else step.actual)
            skipping = True
        elif skipping and (line.startswith(PROMPT) or line.strip() == FENCE_CLOSE):
            skipping = False
            result.append(line)
        elif not skipping:
            result.append(line)
    return "\n".join(result) + "\n"


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.readme_examples", description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the outputs in README.md from a real run")
    options = parser.parse_args(arguments)
    text = README.read_text(encoding="utf-8")
    steps = run_story(parse(text))
    broken = [step for step in steps if step.problem]
    if options.update:
        if broken:
            print(report(broken), file=sys.stderr)
            print("README.md not rewritten: the story breaks a rule above", file=sys.stderr)
            return 1
        README.write_text(updated(text, steps), encoding="utf-8")
        changed = sum(step.differs for step in steps)
        print(f"README.md: {len(steps)} commands run, {changed} output(s) rewritten")
        return 0
    differences = report(steps)
    if differences:
        print(differences)
        return 1
    print(f"README.md: {len(steps)} commands run, every output as shown")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
