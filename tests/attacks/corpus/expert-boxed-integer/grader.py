import re
import unicodedata


def extract(response):
    """The content of the one \boxed{...}; None when there is none, several, or it is unbalanced."""
    if not isinstance(response, str) or len(response) > 20000 or response.count("\\boxed{") != 1:
        return None
    start = response.index("\\boxed{") + len("\\boxed{")
    depth = 1
    for i in range(start, len(response)):
        if response[i] == "{":
            depth += 1
        elif response[i] == "}":
            depth -= 1
            if depth == 0:
                return response[start:i]
    return None


def grade(task, response):
    said = extract(response)
    if said is None:
        return 0.0
    said = unicodedata.normalize("NFKC", said).strip().replace(",", "")
    if not re.fullmatch(r"[+-]?\d{1,30}", said):
        return 0.0
    return 1.0 if int(said) == int(task["answer"]) else 0.0
