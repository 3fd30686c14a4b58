"""Where the trajectory viewer's agent runs come from: a gauntlet-trajectory/1 file the user
opens, or a report whose stage details carry "trajectories" (a path to such a file, or the
runs inline as a list of dicts). Plain Python: every failure is a UserError saying what is wrong,
never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.attacks.trajectory import FORMAT, Trajectory, load_trajectories
from app.errors import UserError
from app.funnel.report import Report

DETAILS_KEY = "trajectories"


def read_trajectory_file(path: Path) -> list[Trajectory]:
    """The runs in a file written by `save_trajectories`; UserError when it is not one."""
    try:
        # load_trajectories lets through what from_dict trips on before its own checks
        # (an item that is not an object): those are bad files too.
        trajectories = load_trajectories(path)
    except (ValueError, AttributeError, TypeError) as exc:
        raise _not_trajectories(str(path), exc) from exc
    if not trajectories:
        raise UserError(
            f"{path} holds no agent runs.", "Open the trajectory file of a run that has steps."
        )
    return trajectories


def report_trajectories(report: Report | None, base: Path | None = None) -> list[Trajectory]:
    """Every run the report's stages carry (a relative file path is read from `base`)."""
    found: list[Trajectory] = []
    for stage in report.stages if report is not None else []:
        value = (stage.details or {}).get(DETAILS_KEY)
        if isinstance(value, str) and value:
            path = Path(value) if base is None else base / value  # an absolute value wins
            found.extend(read_trajectory_file(path))
        elif isinstance(value, list):
            found.extend(trajectories_from_dicts(value, f"the {stage.name} stage's report"))
    return found


def has_trajectories(report: Report | None) -> bool:
    """Whether the report names any runs (cheap: nothing is read)."""
    return report is not None and any(
        (stage.details or {}).get(DETAILS_KEY) for stage in report.stages
    )


def trajectories_from_dicts(items: list[Any], where: str) -> list[Trajectory]:
    try:
        return [Trajectory.from_dict(item) for item in items]
    except (ValueError, AttributeError, TypeError) as exc:
        raise _not_trajectories(where, exc) from exc


def _not_trajectories(where: str, exc: Exception) -> UserError:
    reason = str(exc) if isinstance(exc, ValueError) else f"an entry is malformed ({exc})"
    if isinstance(exc, ValueError) and isinstance(exc.__cause__, json.JSONDecodeError):
        reason = f"it is not JSON ({exc.__cause__.msg}, line {exc.__cause__.lineno})"
    return UserError(
        f"Could not read agent runs from {where}: {reason.removeprefix(where + ': ')}",
        f"Choose a {FORMAT} file: a JSON list of runs, as the red-team and baseline agents "
        "write next to the report.",
        where=where,
    )
