"""Gauntlet Studio's grading of a multi-turn conversation, shipped inside an export (stdlib only).

A multi-turn package (DESIGN §4.2) is graded on its *trajectory*: the assistant's turns are
replayed against the package's tools.py (state fresh for every episode), the scripted user
answers, and the grader (`grade(task, trajectory)`, or a rubric's code criteria) scores the
resulting conversation. This file does exactly that with the very replay the sandbox runs
(`gauntlet_runtime/episode.py`, a copy of the app's own), so a reward computed here is the
reward Gauntlet Studio's verification report gives for the same turns.

    grading = PackGrading(DATA)                  # DATA: the export's data/ folder
    grading.grade(task, turns, user_turns=[])    # {"reward", "feedback", "criteria", "messages"}
    tools = grading.fresh_tools(task)            # a new tools.py module for one live episode
    grading.call_tool(tools, name, arguments)    # a tool's result as the replay writes it

Each episode gets a *new* module object for tools.py and for the grader files (the grader may
`import tools` to read what the tools recorded), so nothing one episode does reaches another.
"""

import importlib.util
import json
import math
import os
import sys
import threading

try:  # inside an exported package (verifiers, Inspect)
    from .gauntlet_runtime.episode import _call_tool, load_tools, run_episode
except ImportError:  # a plain folder on sys.path (the Harbor verifier)
    from gauntlet_runtime.episode import _call_tool, load_tools, run_episode

_LOCK = threading.RLock()  # sys.modules["tools"] is process-wide while an episode loads


class PackGrading:
    """The package's tasks, references, tools and grader, from an export's data/ folder."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.pack_dir = os.path.join(data_dir, "pack")
        self.spec = _load_json(os.path.join(data_dir, "grader.json"))
        self.has_tools = os.path.isfile(os.path.join(self.pack_dir, "tools.py"))

    def tasks(self):
        with open(os.path.join(self.data_dir, "tasks.jsonl"), encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def references(self):
        """{task id: the first reference's turns} (for model-free gold checks)."""
        found = {}
        for reference in _load_json(os.path.join(self.data_dir, "pack.json"))["solutions"]:
            found.setdefault(reference["task_id"], json.loads(reference["response"])["turns"])
        return found

    def tool_schemas(self):
        return _load_json(os.path.join(self.data_dir, "tools.json"))

    # -- one live episode ---------------------------------------------------------------------

    def fresh_tools(self, task):
        """A new tools.py module, its setup(task) hook run; None without tools.py."""
        if not self.has_tools:
            return None
        with _LOCK, _PackModules(self.pack_dir):
            tools = _exec(self.pack_dir, "tools.py", "tools")
        setup = getattr(tools, "setup", None)
        if callable(setup):
            setup(task)
        return tools

    @staticmethod
    def tool_functions(tools):
        """name -> function: the tools a tools.py module offers (its public functions)."""
        return load_tools(tools)

    @staticmethod
    def call_tool(tools, name, arguments):
        """The tool message's text for one call (arguments: JSON text), as the replay has it:
        a tool's error comes back as "Error: ..." for the assistant to read."""
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, default=str)
        return _call_tool(str(name), arguments, load_tools(tools))

    # -- grading ------------------------------------------------------------------------------

    def grade(self, task, turns, user_turns=None):
        """Replay `turns` (assistant turns in OpenAI format, optional recorded user turns) and
        grade the trajectory: {"reward", "feedback", "criteria", "messages", "notes"}."""
        response = {"turns": list(turns)}
        if user_turns is not None:
            response["user_turns"] = list(user_turns)
        low = float(self.spec["reward_range"][0])
        with _LOCK, _PackModules(self.pack_dir):
            tools = _exec(self.pack_dir, "tools.py", "tools") if self.has_tools else None
            if tools is not None:
                sys.modules["tools"] = tools  # what the grader's `import tools` finds
            episode = run_episode(task, json.dumps(response), tools)
            try:
                result = self._score(task, episode["messages"])
            except Exception as exc:  # noqa: BLE001 - a failing grader scores the floor
                result = _floor(low, f"grading failed: {type(exc).__name__}: {exc}")
        return {**result, "messages": episode["messages"], "notes": episode["notes"]}

    def _score(self, task, messages):
        spec = self.spec
        if spec["type"] == "python":
            grade = _function(self.pack_dir, spec["entry"], "grade")
            return _checked(grade(task, messages), spec["reward_range"])
        if spec["type"] != "rubric":
            raise ValueError(f"grader type {spec['type']!r} does not grade conversations")
        default_file = spec["entry"].partition(":")[0]
        criteria, feedback = {}, []
        for criterion in spec["criteria"]:
            file, sep, name = criterion["function"].rpartition(":")
            function = _function(self.pack_dir, f"{file if sep else default_file}:{name}", name)
            try:
                outcome = _checked(function(task, messages), spec["reward_range"])
            except Exception as exc:  # noqa: BLE001 - this criterion's failure
                outcome = {"reward": None, "feedback": f"{type(exc).__name__}: {exc}"}
            criteria[criterion["name"]] = outcome["reward"]
            if outcome["feedback"]:
                feedback.append(f"{criterion['name']}: {outcome['feedback']}")
        return {
            "reward": combine(spec, criteria),
            "feedback": "\n".join(feedback),
            "criteria": criteria,
        }


def combine(spec, criteria):
    """A rubric's reward from its criteria's scores, as Gauntlet Studio combines them
    (app/sandbox/rubric.py); a criterion that failed makes the whole grade the floor."""
    low, high = (float(x) for x in spec["reward_range"])
    if any(criteria.get(c["name"]) is None for c in spec["criteria"]):
        return low
    weights = sum(c["weight"] for c in spec["criteria"]) or 1.0
    scores = {c["name"]: float(criteria[c["name"]]) for c in spec["criteria"]}
    mean = sum(c["weight"] * scores[c["name"]] for c in spec["criteria"]) / weights
    mean = min(max(round(mean, 12), low), high)
    if spec["combine"] == "all-pass":
        return high if all(s >= spec["pass_threshold"] for s in scores.values()) else low
    if spec["combine"] == "threshold":
        threshold = spec["threshold"] if spec["threshold"] is not None else high
        return high if mean >= threshold else low
    return mean


def _checked(value, reward_range):
    """{"reward": float or None, "feedback"}: a grader's value checked as Gauntlet's host does
    (app/sandbox/rewards.py): a float in range, or {"reward", "metrics"?, "feedback"?}."""
    low, high = (float(x) for x in reward_range)
    feedback = ""
    if isinstance(value, dict):
        if "reward" not in value:
            return {"reward": None, "feedback": 'the grader returned a dict without "reward"'}
        if value.get("metrics") is not None and not isinstance(value["metrics"], dict):
            return {"reward": None, "feedback": '"metrics" must be a dict'}
        if value.get("feedback") is not None and not isinstance(value["feedback"], str):
            return {"reward": None, "feedback": '"feedback" must be a string'}
        feedback = value.get("feedback") or ""
        value = value["reward"]
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        return {"reward": None, "feedback": f"the grader returned an invalid reward: {value!r:.80}"}
    return {"reward": float(value), "feedback": feedback}


def _floor(low, feedback):
    return {"reward": low, "feedback": feedback, "criteria": {}}


def _function(pack_dir, entry, default):
    file, _, name = entry.partition(":")
    module_name = os.path.splitext(os.path.basename(file))[0]
    module = sys.modules.get(module_name)
    path = os.path.join(pack_dir, file)
    if module is None or getattr(module, "__file__", None) != path:
        module = _exec(pack_dir, file, module_name)  # fresh in this episode
    return getattr(module, name or default)


def _exec(pack_dir, file, module_name):
    path = os.path.join(pack_dir, file)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


class _PackModules:
    """While an episode loads: the package folder first on sys.path and none of its modules
    cached, before and after (so every episode imports them afresh)."""

    def __init__(self, pack_dir):
        self.pack_dir = pack_dir

    def __enter__(self):
        self._purge()
        sys.path.insert(0, self.pack_dir)
        return self

    def __exit__(self, *_exc_info):
        try:
            sys.path.remove(self.pack_dir)
        except ValueError:
            pass
        self._purge()

    def _purge(self):
        prefix = self.pack_dir.rstrip(os.sep) + os.sep
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", "") or "").startswith(prefix):
                del sys.modules[name]


def _load_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
