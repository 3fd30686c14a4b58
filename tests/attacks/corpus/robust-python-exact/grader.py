import unicodedata


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.casefold().split()).rstrip(".")


def grade(task: dict, response: str) -> dict:
    ok = len(response) < 200 and _clean(response) == _clean(task["answer"])
    return {
        "reward": 1.0 if ok else 0.0,
        "feedback": "correct" if ok else "not the expected answer",
    }
