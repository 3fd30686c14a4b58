import re
import unicodedata


def grade(task, response):
    if not isinstance(response, str) or len(response) > 40:
        return 0.0
    match = re.fullmatch(
        r"(?:PMID:?\s*)?(\d{1,9})", unicodedata.normalize("NFKC", response).strip(), re.IGNORECASE
    )
    return 1.0 if match and int(match.group(1)) == int(task["answer"]) else 0.0
