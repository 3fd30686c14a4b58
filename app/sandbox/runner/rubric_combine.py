"""How a rubric's criterion scores become its one reward (standard library only).

The host (app/sandbox/rubric.py) and every export (the verifiers, Harbor and Inspect graders
ship this file in `gauntlet_runtime`) combine with this one function, so an exported rubric
scores exactly as the funnel does:
- "weighted-mean" (the default): the weighted mean of the scores;
- "all-pass": the ceiling when every criterion reaches pass_threshold, else the floor;
- "threshold": the ceiling when the weighted mean reaches `threshold`, else the floor.
`spec` is the grader as a dict (GraderSpec.to_dict()); `scores` has every criterion's score.
"""


def weighted_mean(spec, scores):
    criteria = spec.get("criteria") or []
    low, high = (float(x) for x in spec["reward_range"])
    weights = sum(float(c.get("weight", 1.0)) for c in criteria) or 1.0
    mean = sum(float(c.get("weight", 1.0)) * scores[c["name"]] for c in criteria) / weights
    return min(max(round(mean, 12), low), high)  # no 0.9999999999 from float sums


def combine_scores(spec, scores):
    """The rubric's reward from {criterion name: score} (every criterion scored)."""
    low, high = (float(x) for x in spec["reward_range"])
    mean = weighted_mean(spec, scores)
    combine = spec.get("combine") or "weighted-mean"
    if combine == "all-pass":
        threshold = float(spec.get("pass_threshold", high))
        return high if all(score >= threshold for score in scores.values()) else low
    if combine == "threshold":
        threshold = spec.get("threshold")
        return high if mean >= (high if threshold is None else float(threshold)) else low
    return mean


def choice_scores(spec, criterion):
    """What each choice of a judge criterion is worth: `scores` when written, else evenly
    from floor to ceiling."""
    choices = criterion.get("choices") or []
    scores = criterion.get("scores") or []
    if scores and len(scores) == len(choices):
        return [float(s) for s in scores]
    low, high = (float(x) for x in spec["reward_range"])
    steps = max(len(choices) - 1, 1)
    return [low + (high - low) * i / steps for i in range(len(choices))]


def criterion_score(value, spec):
    """A code criterion's return value as a score (a number, or a dict with "reward"), or None
    when it is not a finite number within reward_range (the funnel's rule for any reward)."""
    low, high = (float(x) for x in spec["reward_range"])
    if isinstance(value, dict):
        value = value.get("reward")
    if type(value) not in (int, float):
        return None
    value = float(value)
    return value if low <= value <= high else None  # also refuses nan and inf


def grade_code_criteria(spec, task, response, function_of):
    """An exported rubric's code criteria on one response: {"scores": {name: score},
    "failed": "" or why the grading failed}. `function_of(criterion)` returns the criterion's
    function. As in the funnel, a criterion that raises or returns no valid score fails the
    whole rubric (the caller scores the floor); judge criteria are left out."""
    scores = {}
    for criterion in spec.get("criteria") or []:
        if criterion.get("judge") and not criterion.get("function"):
            continue
        name = criterion["name"]
        try:
            value = function_of(criterion)(task, response)
        except Exception as exc:  # noqa: BLE001 - this criterion's failure, reported
            return {"scores": scores, "failed": f"{name}: {type(exc).__name__}: {exc}"}
        score = criterion_score(value, spec)
        if score is None:
            return {"scores": scores, "failed": f"{name}: invalid score {value!r:.80}"}
        scores[name] = score
    return {"scores": scores, "failed": ""}


def criterion_function(spec, criterion, load_module):
    """The function a code criterion names ("name" in the grader entry's file, or
    "file.py:name"); `load_module(file name)` imports a file of the package's grader."""
    file, sep, name = str(criterion.get("function", "")).rpartition(":")
    default_file = str(spec.get("entry", "grader.py:grade")).partition(":")[0]
    return getattr(load_module(file if sep else default_file), name)
