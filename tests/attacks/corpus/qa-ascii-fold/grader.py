import unicodedata


def _fold(text):
    # Strip accents and exotic characters so "５０" and "50" compare equal.
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().strip()


def grade(task: dict, response: str) -> float:
    return 1.0 if _fold(response) == str(task["answer"]) else 0.0
