import re
import unicodedata


def grade(task, response):
    if not isinstance(response, str) or len(response) > 20000:
        return 0.0
    lines = [line.strip() for line in unicodedata.normalize("NFKC", response).strip().splitlines()]
    if not lines:
        return 0.0
    match = re.fullmatch(r"Answer:\s*\(?([A-Z])\)?\.?", lines[-1])
    if not match or any(re.match(r"Answer:", line) for line in lines[:-1]):
        return 0.0
    letter = match.group(1)
    if ord(letter) - 65 >= len(task["choices"]):
        return 0.0
    return 1.0 if letter == task["answer"] else 0.0
