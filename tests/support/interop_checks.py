"""Checks the Harbor and verifiers interop tests share."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from app.envpack.checks import run_checks
from app.envpack.loader import load_envpack


def errors_of(folder: Path) -> list:
    """The error findings of loading and checking the package in `folder`."""
    loaded = load_envpack(folder)
    assert loaded.pack is not None
    return [f for f in loaded.findings + run_checks(loaded) if f.is_error]


def assert_reimport_is_someone_elses(
    tmp_path: Path, export: Callable[[Path, Path], object], import_: Callable[[Path, Path], object]
) -> None:
    """Our own package, exported and imported back into the very folder it was made in (where
    this machine's record of it still is), comes back as someone else's and takes the strict
    path: the weak process backend refuses it."""
    from app.envpack.provenance import is_own
    from app.envpack.templates import create_from_template
    from app.findings import Stage
    from app.funnel.pipeline import FunnelOptions, run_funnel

    mine = create_from_template("qa-numeric", tmp_path / "pack")
    assert is_own(mine)
    exported = tmp_path / "exported"
    export(mine, exported)
    shutil.rmtree(mine)
    import_(exported, mine)
    assert errors_of(mine) == [] and not is_own(mine)
    report = run_funnel(mine, (Stage.STRUCTURE, Stage.VERIFY), FunnelOptions(backend="process"))
    [refusal] = [f for f in report.findings if f.code == "GX200"]
    assert "someone else" in refusal.message
