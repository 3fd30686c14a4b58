import re
import unicodedata

_DOI = re.compile(
    r"(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/[^\s]{1,200})", re.IGNORECASE
)


def grade(task, response):
    if not isinstance(response, str) or len(response) > 300:
        return 0.0
    match = _DOI.fullmatch(unicodedata.normalize("NFKC", response).strip())
    if not match:
        return 0.0
    return 1.0 if match.group(1).rstrip(".").casefold() == task["answer"].casefold() else 0.0
