"""Compares the agent's output file with the expected one; exit status 0 only on an exact match.

Run as `/usr/bin/python3 -I check_output.py csv|json OUTPUT EXPECTED` by tests/test.sh. It reads
the output as data only (never imports or runs anything from /app), refuses a link or anything
but a regular file (a link could point at the expected file), and caps what it reads.
"""

import json
import os
import stat
import sys

MAX_BYTES = 1_000_000


def read_output(path):
    if os.path.realpath(path) != path:
        sys.exit(f"FAIL: {path} is, or lies under, a symbolic link")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        sys.exit(f"FAIL: {path} does not exist")
    if not stat.S_ISREG(info.st_mode):
        sys.exit(f"FAIL: {path} is not a regular file")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        sys.exit(f"FAIL: {path} is larger than {MAX_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        sys.exit(f"FAIL: {path} is not UTF-8 text")


def canonical_json(text):
    def refuse(value):
        raise ValueError(f"not a JSON number: {value}")

    value = json.loads(text, parse_constant=refuse)
    return json.dumps(value, sort_keys=True)  # keeps types apart: 1 vs 1.0 vs true


def main(mode, output, expected_path):
    got = read_output(output)
    with open(expected_path, encoding="utf-8") as handle:
        expected = handle.read()
    if mode == "csv":
        # one final line break is optional; anything else must be identical
        got_lines = got.removesuffix("\n").split("\n")
        want_lines = expected.removesuffix("\n").split("\n")
        if got_lines != want_lines:
            for number, (g, w) in enumerate(zip(got_lines, want_lines, strict=False), 1):
                if g != w:
                    sys.exit(f"FAIL: line {number} is {g!r}, expected {w!r}")
            sys.exit(f"FAIL: {len(got_lines)} lines, expected {len(want_lines)}")
    elif mode == "json":
        try:
            same = canonical_json(got) == canonical_json(expected)
        except ValueError as exc:
            sys.exit(f"FAIL: {output} is not valid JSON ({exc})")
        if not same:
            sys.exit(f"FAIL: {output} does not hold the expected values")
    else:
        sys.exit(f"FAIL: unknown mode {mode!r}")
    print("PASS")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: check_output.py csv|json OUTPUT EXPECTED")
    main(*sys.argv[1:])
