"""README.md cannot drift: its console examples are run as one story, and its cron line is run as cron runs it.

The rules of a console block (commands, outputs, stderr, exit codes) are in `tests/readme_examples.py`;
`python -m tests.readme_examples --update` rewrites the outputs from a real run. This file only compares.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import readme_examples
from tests.readme_examples import README, Step, marginctl_executable, parse, report, run_step, run_story, updated

#: What the README's cron line says in place of the absolute path of the reader's marginctl.
CRON_PLACEHOLDER = "/path/to/marginctl/.venv/bin/marginctl"


def test_every_console_example_gives_the_output_shown() -> None:
    steps = run_story(parse(README.read_text(encoding="utf-8")))
    assert len(steps) > 20
    assert report(steps) == "", "README.md drifted; see the diff, or run: python -m tests.readme_examples --update"


def test_no_output_is_shown_outside_a_console_block() -> None:
    """Output in a ```json or ```text block would not be checked: JSON goes in the console block."""
    fences = re.findall(r"^```(\w*)", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    # ```python blocks are programs for the API, run against a real server by tests/api/test_readme_clients.py
    assert set(fences) <= {"console", "sh", "cron", "toml", "python", ""}


def _command_path(step: Step) -> str:
    """`marginctl --account bob price set …` → "price set": the command an example runs."""
    words = shlex.split(step.command, comments=True)
    index = 1
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in ("--db", "--config", "--account", "--now") else 1
    return " ".join(words[index : index + 2])


def test_every_command_has_an_example() -> None:
    from marginctl.cli.app import app

    commands = [info.name or info.callback.__name__ for info in app.registered_commands if info.callback]
    for group in app.registered_groups:
        assert group.typer_instance is not None and group.name is not None
        commands.append(group.name)
        commands += [f"{group.name} {info.name}" for info in group.typer_instance.registered_commands]
    shown = {
        _command_path(step)
        for step in parse(README.read_text(encoding="utf-8"))
        if step.command.startswith("marginctl")
    }
    missing = [name for name in commands if not any(path == name or path.startswith(name + " ") for path in shown)]
    assert missing == []


# --- The runner's rules, on small made-up READMEs: the story test can fail ----------------------------


def _story(text: str) -> list[Step]:
    return run_story(parse(text))


DEPOSIT_STORY = ["```console", "$ export MARGINCTL_NOW=2026-11-24T10:00:00Z", "$ marginctl deposit USDT 1000", "```"]


def _deposit_output() -> list[str]:
    """What `deposit USDT 1000` prints on a fresh wallet, from a real run (its wording is not this file's)."""
    steps = _story("\n".join(DEPOSIT_STORY))
    assert steps[1].actual and steps[1].problem is None
    return steps[1].actual


def test_a_changed_output_is_reported_with_its_readme_line() -> None:
    shown = _deposit_output()
    wrong = [shown[0] + " (edited)", *shown[1:]]
    differences = report(_story("\n".join([*DEPOSIT_STORY[:3], *wrong, "```"])))
    assert differences.startswith("README.md:3: $ marginctl deposit USDT 1000\n")
    assert f"\n-{wrong[0]}\n" in differences
    assert f"\n+{shown[0]}" in differences
    assert report(_story("\n".join([*DEPOSIT_STORY[:3], *shown, "```"]))) == ""


def test_update_rewrites_only_outputs() -> None:
    text = "\n".join(
        [
            "Prose stays.",
            "```console",
            "$ export MARGINCTL_NOW=2026-11-24T10:00:00Z",
            "stale line",
            "$ marginctl deposit USDT 1000   # a comment stays",
            "stale",
            "",
            "```",
            "More prose.",
        ]
    )
    steps = _story(text)
    assert updated(text, steps).splitlines() == [
        "Prose stays.",
        "```console",
        "$ export MARGINCTL_NOW=2026-11-24T10:00:00Z",
        "$ marginctl deposit USDT 1000   # a comment stays",
        *_deposit_output(),
        "```",
        "More prose.",
    ]
    assert report(run_story(parse(updated(text, steps)))) == ""


APIKEY_STORY = [
    "```console",
    "$ export MARGINCTL_NOW=2026-11-24T10:00:00Z",
    "$ marginctl apikey create",
    "Created an HMAC_SHA256 API key for account main, with trade permission.",
    "API key:",
    "<random key>",
    "Secret key:",
    "<random key>",
    "The secret key is shown only this once: store it now.",
    "```",
]


def test_a_random_key_is_shown_as_a_placeholder_that_matches_only_a_key_and_survives_update() -> None:
    text = "\n".join(APIKEY_STORY)
    steps = _story(text)
    assert report(steps) == ""
    assert updated(text, steps) == text + "\n"
    # the placeholder stands for 64 letters and digits, not for anything
    wrong = "\n".join([*APIKEY_STORY[:5], "<random key> and more", *APIKEY_STORY[6:]])
    assert report(_story(wrong)).startswith("README.md:3: $ marginctl apikey create\n")


def test_an_error_example_passes_only_as_a_failing_command() -> None:
    text = "\n".join(
        [*DEPOSIT_STORY[:3], "$ marginctl withdraw USDT 5000", "$ marginctl withdraw USDT 5000 --json", "```"]
    )
    steps = _story(text)
    assert [step.problem for step in steps] == [None, None, None, None]
    assert steps[2].actual is not None and steps[2].actual[0].startswith("error: ")
    assert steps[3].actual is not None and steps[3].actual[0].startswith('{"error": {"code": ')


def _fake_marginctl(tmp_path: Path, stdout: str, stderr: str, code: int) -> str:
    script = tmp_path / "fake-marginctl"
    script.write_text(
        f"#!/bin/sh\nprintf '%s' {shlex.quote(stdout)}\nprintf '%s' {shlex.quote(stderr)} >&2\nexit {code}\n"
    )
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(
    ("stdout", "stderr", "code", "problem"),
    [
        ("", "error: refused\n", 3, None),
        ('{"a": 1}\n', "", 0, None),
        ("Margin level 1.2\n", "", 4, "exit 4 without a one-line error on stderr"),
        ("", "", 1, "exit 1 without a one-line error on stderr"),
        ("half done\n", "error: refused\n", 3, "exit 3 without a one-line error on stderr"),
        ("", "error: refused\n", 0, "prints an error line but exits 0"),
    ],
)
def test_exit_code_rule(tmp_path: Path, stdout: str, stderr: str, code: int, problem: str | None) -> None:
    step = Step(command="marginctl anything", line=1, expected=(stdout + stderr).splitlines())
    run_step(step, {"PATH": "/usr/bin:/bin"}, _fake_marginctl(tmp_path, stdout, stderr, code))
    assert step.actual == (stdout + stderr).splitlines()
    assert (step.problem or "").startswith(problem or "") and (step.problem is None) == (problem is None)


def test_stderr_lines_are_shown_after_stdout(tmp_path: Path) -> None:
    step = Step(command="marginctl price set BTC/USDT 1", line=1)
    run_step(step, {"PATH": "/usr/bin:/bin"}, _fake_marginctl(tmp_path, "result\n", "LIQUIDATED: …\n", 0))
    assert step.actual == ["result", "LIQUIDATED: …"]


def test_only_marginctl_and_export_run() -> None:
    with pytest.raises(ValueError, match="only `marginctl"):
        run_step(Step(command="rm -rf /tmp/x", line=9), {}, "marginctl")


def test_output_before_a_command_is_refused() -> None:
    with pytest.raises(ValueError, match=r"README\.md:2: output before"):
        parse("```console\nstray\n$ marginctl status\n```\n")


def test_the_module_checks_without_rewriting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("\n".join([*DEPOSIT_STORY[:3], "old", "```"]) + "\n")
    monkeypatch.setattr(readme_examples, "README", readme)
    before = readme.read_text()
    assert readme_examples.main([]) == 1
    assert readme.read_text() == before
    assert readme_examples.main(["--update"]) == 0
    assert readme.read_text() != before
    assert readme_examples.main([]) == 0


# --- The cron line ------------------------------------------------------------------------------------


def readme_cron_line() -> str:
    """The one line of the README's ```cron block."""
    blocks = re.findall(r"^```cron\n(.*?)^```$", README.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1
    lines = [line for line in blocks[0].splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 1
    return lines[0]


def test_the_cron_line_works_as_cron_runs_it(tmp_path: Path) -> None:
    line = readme_cron_line()
    schedule, command = line.split(maxsplit=5)[:5], line.split(maxsplit=5)[5]
    assert schedule == ["*/5", "*", "*", "*", "*"]
    assert "%" not in command  # cron turns % into a newline
    assert CRON_PLACEHOLDER in command
    command = command.replace(CRON_PLACEHOLDER, marginctl_executable())

    # A wallet with a loan of 1000 USDT since 20 minutes past the hour, three hours ago, in the default
    # wallet of this HOME (cron sets HOME; it sets no XDG folder and no MARGINCTL_* variable).
    home = tmp_path / "home"
    home.mkdir()
    now = datetime.now(UTC)
    borrowed_at = now.replace(minute=20, second=0, microsecond=0) - timedelta(hours=3)
    clock = borrowed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    user = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    for args in (
        ["deposit", "USDT", "1000"],
        ["transfer", "USDT", "1000", "--yes"],
        ["borrow", "USDT", "1000", "--yes"],
    ):
        done = subprocess.run(
            [marginctl_executable(), "--now", clock, *args], env=user, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
    assert (home / ".local/share/marginctl/wallet.db").exists()

    for _ in range(2):
        cron = subprocess.run(
            ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={home}", "sh", "-c", command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert (cron.returncode, cron.stdout, cron.stderr) == (0, "", "")  # nothing for cron to mail

    log = (home / "marginctl-accrue.log").read_text(encoding="utf-8")
    documents = [json.loads(line) for line in log.splitlines()]  # JSON Lines: one document per line
    assert len(documents) == 2

    interest = subprocess.run(
        [marginctl_executable(), "interest", "--json"], env=user, capture_output=True, text=True, timeout=600
    )
    assert interest.returncode == 0, interest.stderr
    rows = json.loads(interest.stdout)["rows"]
    periodic = sorted(row["interestAccuredTime"] for row in rows if row["type"] == "PERIODIC")
    # Every hour boundary after the borrow, up to the second run's clock, charged exactly once:
    # at least the three of the last three hours (four if the hour turned between the two runs).
    last = datetime.fromisoformat(documents[1]["until"].replace("Z", "+00:00"))
    hour = borrowed_at.replace(minute=0) + timedelta(hours=1)
    expected = []
    while hour <= last:
        expected.append(hour.strftime("%Y-%m-%dT%H:%M:%SZ"))
        hour += timedelta(hours=1)
    assert periodic == expected and len(expected) >= 3
    assert documents[0]["charges"] + documents[1]["charges"] == len(expected)
    # 1000 USDT × 0.00024 a day / 24 = 0.01 USDT an hour
    assert {row["interest"] for row in rows} == {"0.01000000"}


def test_warning_lines_come_after_the_result_in_one_stream(tmp_path: Path) -> None:
    """The README shows stdout, then stderr; a terminal (or `2>&1` into a log) must show them in that order."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MARGINCTL_DB": str(tmp_path / "wallet.db")}
    env["MARGINCTL_NOW"] = "2026-11-24T10:00:00Z"
    for args in (
        ["deposit", "USDT", "1000"],
        ["transfer", "USDT", "1000", "--yes"],
        ["borrow", "USDT", "1000", "--yes"],
        ["trade", "buy", "BTC/USDT", "--quote", "1990"],  # 0.03316 BTC
    ):
        assert subprocess.run([marginctl_executable(), *args], env=env, capture_output=True).returncode == 0
    # (0.03316 − 0.1 % fee = 0.03312684 BTC) × 38000 = 1258.82, plus 2000 − 0.03316 × 60000 = 10.40 USDT:
    # 1269.22 over a debt of 1000.01 is level 1.2692 ≤ 1.3, a margin call
    both = subprocess.run(
        [marginctl_executable(), "price", "set", "BTC/USDT", "38000"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert both.returncode == 0
    assert both.stdout.splitlines()[0] == "BTC/USDT 38000.00 at 2026-11-24T10:00:00Z (manual)"
    assert both.stdout.splitlines()[1].startswith("warning: margin call: main cross margin level 1.269")
