def _load(task, response):
    namespace = {}
    exec(response, namespace)
    return namespace[task["entry"]]


def same_value(got, expected):
    return type(got) is type(expected) and got == expected


def grade(task: dict, response: str) -> float:
    try:
        function = _load(task, response)
    except Exception:
        return 0.0
    passed = 0
    for case in task["tests"]:
        try:
            got = function(*case["args"])
        except Exception:
            continue
        if same_value(got, case["expected"]):
            passed += 1
    return passed / len(task["tests"])
