import re


def _words(text):
    return set(re.findall(r"[a-z0-9-]+", text.lower()))


def grade(task: dict, response: str) -> float:
    expected = _words(task["answer"])
    overlap = len(expected & _words(response)) / len(expected)
    return 1.0 if overlap >= 0.8 else 0.0
