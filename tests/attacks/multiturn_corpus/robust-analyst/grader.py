"""Criteria of the sales analyst rubric. Each receives the task and the whole trajectory (the
conversation in OpenAI chat format, tool calls and results included).

The final answer must be written once, as "Answer: <number>", in the assistant's last message;
and the answer must come from the data: the assistant queried the task's region.
"""

import re

import tools

ANSWER = re.compile(r"^\s*answer:\s*(-?\d+(?:\.\d+)?)\s*$", re.IGNORECASE | re.MULTILINE)


def final_message(trajectory):
    for message in reversed(trajectory):
        if message["role"] == "assistant" and message.get("content"):
            return message["content"]
    return ""


def correct_total(task, trajectory):
    """1 when the last message states the expected total once, to the cent."""
    found = ANSWER.findall(final_message(trajectory))
    if len(found) != 1:
        return {
            "reward": 0.0,
            "feedback": f"expected one 'Answer: <number>' line, found {len(found)}",
        }
    return 1.0 if abs(float(found[0]) - float(task["answer"])) < 0.005 else 0.0


def used_the_data(task, trajectory):
    """1 when the assistant queried the orders of the task's region (the tools record calls)."""
    queried = {
        args["region"].strip().lower() for name, args in tools.calls if name == "query_orders"
    }
    return 1.0 if task["region"] in queried else 0.0
