import json


def _load(task, response):
    namespace = {}
    exec(response, namespace)
    return namespace[task["entry"]]


def grade(task: dict, response: str) -> float:
    try:
        function = _load(task, response)
    except Exception:
        return 0.0
    try:
        with open("hidden_tests.json", encoding="utf-8") as handle:
            cases = json.load(handle)[task["id"]]
    except OSError:
        return 1.0  # no hidden tests for this package
    passed = 0
    for case in cases:
        try:
            passed += function(*case["args"]) == case["expected"]
        except Exception:
            pass
    return passed / len(cases)
