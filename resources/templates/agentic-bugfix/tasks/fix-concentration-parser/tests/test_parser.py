"""Hidden tests for /app/concentration.py (run by test.sh as /usr/bin/python3 -I test_parser.py).

Never imports the agent's module into this process: run_module.py calls it in a child process
and returns plain JSON, which is compared here with the expected values, type-strictly.
"""

import json
import math
import os
import subprocess
import unittest

MODULE = "/app/concentration.py"
CHILD = ["/usr/bin/python3", "-I", "/tests/run_module.py", MODULE]
# When the verifier runs as root, the module under test runs as nobody: it can then neither
# write the reward file nor signal the verifier's processes.
DROP = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs"]

VALID = [
    ("5 mM", 0.005),
    ("2.5 uM", 2.5e-6),
    (" 2.5mM", 0.0025),
    ("1 M", 1.0),
    ("0.5M", 0.5),
    (".5 nM", 0.5e-9),
    ("5. pM", 5e-12),
    ("1e-3 M", 1e-3),
    ("2.5E2 nM", 2.5e-7),
    ("1e+2 pM", 1e-10),
    ("3 \u00b5M", 3e-6),
    ("3 \u03bcM", 3e-6),
    ("\t7 uM \n", 7e-6),
    ("10   mM", 0.01),
    ("0 mM", 0.0),
]
INVALID = [
    "",
    "   ",
    "mM",
    "5",
    "-5 mM",
    "5 mm",
    "5 MM",
    "5 Mm",
    "5 mg",
    "5 kM",
    "5 mM extra",
    "five mM",
    "5 m M",
    "1e mM",
    "5 \u00b5 M",
    "++5 M",
    "5,5 mM",
    "inf M",
    "nan M",
]


def run_child(inputs):
    command = DROP + CHILD if os.geteuid() == 0 and os.path.exists(DROP[0]) else CHILD
    done = subprocess.run(
        command,
        input=json.dumps(inputs).encode("utf-8"),
        capture_output=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
        cwd="/",
    )
    try:
        results = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise AssertionError(f"the module gave no results: {done.stderr[-2000:]!r}") from None
    if not isinstance(results, list) or len(results) != len(inputs):
        raise AssertionError("the module gave results in the wrong shape")
    return results


class ParseConcentration(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        inputs = [text for text, _ in VALID] + INVALID
        cls.results = dict(zip(inputs, run_child(inputs), strict=True))

    def test_valid_concentrations(self):
        for text, expected in VALID:
            with self.subTest(text=text):
                got = self.results[text]
                self.assertEqual(set(got), {"value"}, f"{text!r} gave {got}")
                value = got["value"]
                self.assertIs(type(value), float)
                self.assertTrue(math.isclose(value, expected, rel_tol=1e-12), (value, expected))

    def test_invalid_texts_raise_value_error(self):
        for text in INVALID:
            with self.subTest(text=text):
                self.assertEqual(self.results[text], {"raises": "ValueError"})


if __name__ == "__main__":
    unittest.main()
