"""marginctl's user folders (config, cache, data), found without importing platformdirs on Linux.

A module of its own, beside resources.py, so config.py and store/ can both ask it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: The XDG variable and the folder under $HOME of each user folder `user_folder` knows.
_XDG_FOLDERS = {
    "config": ("XDG_CONFIG_HOME", ".config"),
    "cache": ("XDG_CACHE_HOME", ".cache"),
    "data": ("XDG_DATA_HOME", ".local/share"),
}


def user_folder(kind: str) -> Path:
    """marginctl's user `config`, `cache` or `data` folder: platformdirs' `user_{kind}_path("marginctl")`.

    On Linux it is worked out here, as platformdirs does (an absolute $XDG_*_HOME, else the folder under an
    absolute $HOME), because importing platformdirs costs ~4 ms a start (it imports tempfile and random);
    any other case (another system, Android, no usable $HOME) asks platformdirs itself.
    """
    variable, under_home = _XDG_FOLDERS[kind]
    android = hasattr(sys, "getandroidapilevel") or (
        os.environ.get("ANDROID_DATA") == "/data" and os.environ.get("ANDROID_ROOT") == "/system"
    )
    if sys.platform == "linux" and not android:
        xdg = os.environ.get(variable, "")
        if xdg.startswith("/"):
            return Path(xdg) / "marginctl"
        home = os.environ.get("HOME", "")
        if home.startswith("/"):
            return Path(home) / under_home / "marginctl"
    import platformdirs

    folder: Path = getattr(platformdirs, f"user_{kind}_path")("marginctl")
    return folder
