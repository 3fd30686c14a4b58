"""Child process of test_parser.py: loads the module under test by its path and calls it.

The only place the agent's code runs during verification. It runs in its own process, so it
cannot touch the trusted test process, the reward file is written by test.sh alone, and the
results come back as JSON (which test_parser.py checks); an exit status means nothing here.
Usage: python3 -I run_module.py MODULE_PATH < inputs.json > results.json
"""

import importlib.util
import json
import os
import sys


def load(path):
    spec = importlib.util.spec_from_file_location("module_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call(function, text):
    try:
        value = function(text)
    except ValueError:
        return {"raises": "ValueError"}
    except Exception as exc:  # the wrong exception is an answer too, and a wrong one
        return {"raises": type(exc).__name__}
    if type(value) is float:
        return {"value": value}
    return {"type": type(value).__name__}


def main():
    inputs = json.loads(sys.stdin.read())
    results_fd = os.dup(1)
    os.dup2(2, 1)  # whatever the module prints goes to stderr, not into the results
    function = load(sys.argv[1]).parse_concentration
    results = [call(function, text) for text in inputs]
    os.write(results_fd, json.dumps(results).encode("utf-8"))


if __name__ == "__main__":
    main()
