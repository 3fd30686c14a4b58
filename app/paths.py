"""Where the app keeps its files: user data, cache, logs and config (per OS, via platformdirs).

`GAUNTLET_HOME` overrides all of them (tests, portable installs, `--smoke-test` profiles).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "GauntletStudio"


def _home_override() -> Path | None:
    home = os.environ.get("GAUNTLET_HOME")
    return Path(home) if home else None


def data_dir() -> Path:
    home = _home_override()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    home = _home_override()
    return home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    home = _home_override()
    return (
        home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    )


def cache_dir() -> Path:
    """Files that can be rebuilt (or re-bought): e.g. calibration's cached model completions."""
    home = _home_override()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
