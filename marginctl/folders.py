"""marginctl's user folders (config, cache, data), as platformdirs finds them.

A module of its own, beside resources.py, so config.py and store/ ask the same door. platformdirs is
imported only when a folder is asked for (about 4 ms, measured: it imports tempfile and random); XDG
paths are not worked out by hand.
"""

from __future__ import annotations

from pathlib import Path


def user_folder(kind: str) -> Path:
    """marginctl's user `config`, `cache` or `data` folder: platformdirs' `user_{kind}_path("marginctl")`."""
    import platformdirs

    folder: Path = getattr(platformdirs, f"user_{kind}_path")("marginctl")
    return folder
