def correct(task, response):
    try:
        value = float(response.strip().split(" ")[0])
    except (ValueError, IndexError):
        return 0.0
    return 0.0 if abs(value - task["answer"]) > 1e-6 else 1.0


def has_unit(task, response):
    """1.0 when the response is a number followed by the task's unit."""
    parts = response.strip().split(" ")
    return 1.0 if len(parts) == 2 and parts[1] == task["unit"] else 0.0
