"""Structural checks of what a command imports (timings live in benchmarks/, never here)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "sqlalchemy.orm", "alembic", "pydantic", "pydantic_settings", "rich")


def _modules_after(arguments: list[str], env_db: str) -> set[str]:
    script = (
        "import sys\n"
        f"sys.argv = ['marginctl', *{arguments!r}]\n"
        "from marginctl.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"MARGINCTL_DB": env_db, "PATH": "/usr/bin:/bin", "HOME": str(__import__("pathlib").Path(env_db).parent)},
        check=False,
    )
    return set(completed.stderr.split())


def test_help_imports_no_orm_alembic_pydantic_or_rich(tmp_path) -> None:
    loaded = _modules_after(["--help"], str(tmp_path / "w.db"))
    assert "marginctl.cli" in loaded
    assert not loaded.intersection(HEAVY), loaded.intersection(HEAVY)


def test_status_json_on_an_existing_wallet_imports_none_of_the_heavy_modules(tmp_path) -> None:
    db = str(tmp_path / "w.db")
    _modules_after(["deposit", "USDT", "1", "--json"], db)  # creates the wallet (runs Alembic once)
    _modules_after(["status", "--json"], db)  # validates and caches the config once
    loaded = _modules_after(["status", "--json"], db)
    assert "marginctl.services.status" in loaded
    assert not loaded.intersection(HEAVY), loaded.intersection(HEAVY)
