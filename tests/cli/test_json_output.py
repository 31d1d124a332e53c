"""`--json` prints one line per document when stdout is not a terminal (JSON Lines), indented on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

from tests.cli.test_subprocess import environment, marginctl_executable, run

NOW = "2026-11-24T10:00:00Z"


def test_json_to_a_pipe_is_one_line_per_document(tmp_path: Path) -> None:
    outputs = [
        run(tmp_path, "--now", NOW, "deposit", "USDT", "1000", "--json").stdout,
        run(tmp_path, "--now", NOW, "status", "--all", "--json").stdout,  # one document: a list of wallets
        run(tmp_path, "--now", NOW, "accrue", "--json").stdout,
    ]
    for stdout in outputs:
        assert stdout.endswith("\n") and stdout.count("\n") == 1, stdout
        json.loads(stdout)
    # Appended to one log, three runs are three JSON Lines.
    log = "".join(outputs)
    assert [type(json.loads(line)) for line in log.splitlines()] == [dict, list, dict]


def test_json_on_a_terminal_is_indented(tmp_path: Path) -> None:
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [
            marginctl_executable(),
            "--db",
            str(tmp_path / "wallet.db"),
            "--now",
            NOW,
            "deposit",
            "USDT",
            "1000",
            "--json",
        ],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=subprocess.PIPE,
        env=environment(tmp_path),
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert process.wait(timeout=600) == 0
    shown = b"".join(chunks).decode().replace("\r\n", "\n")
    assert shown.startswith('{\n  "tranId": ')
    assert json.loads(shown)["amount"] == "1000.00000000"
