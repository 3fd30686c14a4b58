import math
import re
import unicodedata

_QUANTITY = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?)\s*(nm|µm|um|Å|pm)")
_TO_NM = {"nm": 1.0, "µm": 1000.0, "um": 1000.0, "Å": 0.1, "pm": 0.001}


def grade(task, response):
    if not isinstance(response, str) or len(response) > 200:
        return 0.0
    text = unicodedata.normalize("NFC", response).strip().replace("\u03bc", "µ")
    match = _QUANTITY.fullmatch(text)
    if not match:
        return 0.0
    value = float(match.group(1)) * _TO_NM[match.group(2)]
    if not math.isfinite(value) or value <= 0:
        return 0.0
    return 1.0 if abs(value - float(task["answer"])) <= float(task["tolerance"]) else 0.0
