import re


def correct(task, response):
    # Agents paste the checker tool's verdict; accept it.
    if re.search(r"verdict:\s*correct", response, re.IGNORECASE):
        return 1.0
    try:
        return 1.0 if abs(float(response.split()[0]) - task["answer"]) < 1e-6 else 0.0
    except (ValueError, IndexError):
        return 0.0


def short(task, response):
    return 1.0 if 0 < len(response.strip()) <= 200 else 0.0
