import re


def grade(task, response):
    if not isinstance(response, str) or len(response) > 1000:
        return 0.0
    said = re.sub(r"\s+", "", response).upper()
    if not re.fullmatch(r"[ACGT]{1,500}", said):
        return 0.0
    return 1.0 if said == task["answer"] else 0.0
