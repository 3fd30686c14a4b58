"""Multi-turn cases for the interop tests: every reference and negative conversation of a
package (and a silent assistant), with what Gauntlet Studio's own verification gives for each:
the reward and the replayed trajectory (the funnel's grading path, the process backend)."""

from __future__ import annotations

from app.envpack.model import EnvPack
from app.envpack.trajectory import encode_turns
from app.sandbox.backends import get_backend
from app.sandbox.base import GradingItem


def multiturn_cases(pack: EnvPack) -> list[dict]:
    """[{"task_id", "turns", "kind"}]: references, negatives, then an empty reply."""
    cases = [{"task_id": r.task_id, "turns": r.turns, "kind": "reference"} for r in pack.solutions]
    cases += [{"task_id": n.task_id, "turns": n.turns, "kind": "negative"} for n in pack.negatives]
    silent = [{"role": "assistant", "content": ""}]
    cases.append({"task_id": pack.tasks[0].id, "turns": silent, "kind": "silent"})
    return cases


def gauntlet_episodes(pack: EnvPack, cases: list[dict]) -> list[dict]:
    """[{"reward", "messages"}] per case, as Gauntlet's verification grades it (a grading
    error scores the floor, as in the report)."""
    items = [
        GradingItem(
            key=str(i), task=pack.task(c["task_id"]).record, response=encode_turns(c["turns"])
        )
        for i, c in enumerate(cases)
    ]
    backend = get_backend("process", own_package=True)
    results = {r.key: r for r in backend.grade_batch(pack, items)}
    low = pack.grader.reward_range[0]
    return [
        {
            "reward": results[str(i)].reward if results[str(i)].reward is not None else low,
            "messages": (results[str(i)].episode or {}).get("messages"),
        }
        for i in range(len(cases))
    ]
