"""Harbor verifier for one multi-turn task exported by Gauntlet Studio (standard library only).

`tests/test.sh` runs this after the agent has finished. It reads the conversation the agent
wrote (/app/trajectory.json: {"turns": [assistant turns in OpenAI chat format, tool calls
included]}), replays it exactly as Gauntlet Studio does (the package's tools.py, fresh, answers
each tool call; the grading package next to this file is a copy of the app's own runner and
grader), grades it, and writes the reward where Harbor reads it: /logs/verifier/reward.json
({"reward": ...}) and reward.txt. Whatever goes wrong (no file, not JSON, a grader crash),
the reward is the floor.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gauntlet_grading.gauntlet_episodes import PackGrading  # noqa: E402 - path set above

TRAJECTORY = "/app/trajectory.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trajectory", default=TRAJECTORY, help="the agent's conversation")
    parser.add_argument("--logs", default="/logs/verifier", help="where to write the reward")
    args = parser.parse_args()
    grading = PackGrading(os.path.join(HERE, "gauntlet_grading", "data"))
    with open(os.path.join(HERE, "gauntlet_grading", "task.json"), encoding="utf-8") as handle:
        task = json.load(handle)
    low = float(grading.spec["reward_range"][0])
    try:
        turns = _read_turns(args.trajectory)
        if turns is None:
            result = {"reward": low, "feedback": f"no conversation at {args.trajectory}"}
        else:
            result = grading.grade(task, turns)
    except Exception as exc:  # noqa: BLE001 - any failure scores the floor, with the reason
        result = {"reward": low, "feedback": f"grading failed: {type(exc).__name__}: {exc}"}
    os.makedirs(args.logs, exist_ok=True)
    reward = result["reward"] if result["reward"] is not None else low
    with open(os.path.join(args.logs, "reward.json"), "w", encoding="utf-8") as handle:
        json.dump({"reward": reward}, handle)
    with open(os.path.join(args.logs, "reward.txt"), "w", encoding="utf-8") as handle:
        handle.write(f"{reward}\n")
    print(json.dumps({"reward": reward, "feedback": result.get("feedback", "")}))


def _read_turns(path):
    """The assistant's turns, as the replay reads them; None without a file. Plain text (not
    a JSON conversation) is one assistant message, as Gauntlet reads it."""
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict) and isinstance(value.get("turns"), list):
        return [t for t in value["turns"] if isinstance(t, dict) and t.get("role") != "user"]
    return [{"role": "assistant", "content": text}]


if __name__ == "__main__":
    main()
