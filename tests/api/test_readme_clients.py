"""README's ```python examples run as written against a real `marginctl serve`; only the port differs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.api.conftest import Server
from tests.readme_examples import README

README_PORT = "8787"


def python_examples() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)


def test_the_readme_python_example_prints_the_margin_level(server: Server) -> None:
    (example,) = python_examples()
    assert f"127.0.0.1:{README_PORT}" in example
    port = server.url.rsplit(":", 1)[1]
    key = server.wallet.ok("apikey", "create", "--permissions", "read")
    env = {**os.environ, "API_KEY": key["apiKey"], "SECRET_KEY": key["secretKey"]}
    process = subprocess.run(
        [sys.executable, "-c", example.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{port}")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert process.returncode == 0, process.stderr
    # the funded wallet: 1100 / (100 + 0.001) = 10.99989000109…, 8 places rounded down
    assert process.stdout == "10.99989000\n"
