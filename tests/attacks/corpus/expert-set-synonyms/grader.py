import re
import unicodedata


def norm(text):
    text = unicodedata.normalize("NFKC", text)
    if any(unicodedata.category(c) == "Cf" for c in text):
        return None  # invisible characters: not a plain answer
    return " ".join(text.casefold().split()).strip(" .")


def grade(task, response):
    if not isinstance(response, str) or len(response) > 500 or not response.strip():
        return 0.0
    text = norm(response)
    if text is None or " or " in f" {text} ":
        return 0.0
    synonyms = {norm(k): norm(v) for k, v in task.get("synonyms", {}).items()}
    items = [
        synonyms.get(norm(i), norm(i))
        for i in re.split(r"\s*(?:,|;|\band\b)\s*", text)
        if i.strip()
    ]
    if len(items) != len(set(items)):
        return 0.0
    return 1.0 if set(items) == {norm(a) for a in task["answer"]} else 0.0
