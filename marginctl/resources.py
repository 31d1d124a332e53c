"""Files shipped with marginctl: inside the wheel they sit in the package, in a clone at the top level."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_path(name: str) -> Path:
    """`migrations` or `config.example.toml`, from an installed wheel or from a source checkout."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"marginctl is installed without its {name}")
