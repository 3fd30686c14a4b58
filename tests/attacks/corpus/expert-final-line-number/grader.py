import re
import unicodedata


def grade(task, response):
    if not isinstance(response, str) or len(response) > 20000:
        return 0.0
    lines = unicodedata.normalize("NFKC", response).strip().splitlines()
    if (
        not lines
        or sum(1 for line in lines if line.strip().lower().startswith("final answer")) != 1
    ):
        return 0.0
    match = re.fullmatch(r"Final answer:\s*([+-]?\d{1,20})", lines[-1].strip())
    return 1.0 if match and int(match.group(1)) == int(task["answer"]) else 0.0
