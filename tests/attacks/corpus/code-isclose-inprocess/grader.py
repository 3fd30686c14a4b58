import math


def _load(task, response):
    namespace = {}
    exec(response, namespace)
    return namespace[task["entry"]]


def grade(task: dict, response: str) -> float:
    try:
        function = _load(task, response)
        results = [function(*case["args"]) for case in task["tests"]]
    except Exception:
        return 0.0
    passed = sum(
        isinstance(got, (int, float))
        and math.isclose(got, case["expected"], rel_tol=1e-3, abs_tol=1e-9)
        for got, case in zip(results, task["tests"], strict=True)
    )
    return passed / len(task["tests"])
