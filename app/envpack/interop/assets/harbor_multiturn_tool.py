"""Call one of this task's tools, exported by Gauntlet Studio (standard library only).

    python3 /app/gauntlet/tool.py                      # list the tools
    python3 /app/gauntlet/tool.py NAME '{"arg": 1}'    # call one; prints its result

The tools are the package's tools.py. Their state lasts for the whole task, as in one
conversation: every call made so far is kept in /app/gauntlet/calls.jsonl and replayed on a
fresh copy of the module before the new call runs. Calling a tool here does not answer the
task: the conversation you write to /app/trajectory.json is what is graded (its tool calls are
replayed the same way).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from episode import _call_tool, load_tools  # noqa: E402 - the folder must be on the path

CALLS = os.path.join(HERE, "calls.jsonl")


def main(argv):
    import importlib.util

    spec = importlib.util.spec_from_file_location("tools", os.path.join(HERE, "tools.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["tools"] = module
    spec.loader.exec_module(module)
    setup = getattr(module, "setup", None)
    if callable(setup):
        with open(os.path.join(HERE, "task.json"), encoding="utf-8") as handle:
            setup(json.load(handle))
    tools = load_tools(module)
    if len(argv) < 2:
        for name, function in sorted(tools.items()):
            summary = ((function.__doc__ or "").strip().splitlines() or [""])[0]
            print(f"{name}: {summary}")
        return 0
    if os.path.isfile(CALLS):
        with open(CALLS, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    earlier = json.loads(line)
                    _call_tool(earlier["name"], earlier["arguments"], tools)
    arguments = argv[2] if len(argv) > 2 else "{}"
    print(_call_tool(argv[1], arguments, tools))
    with open(CALLS, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"name": argv[1], "arguments": arguments}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
