#!/bin/bash
# Verifier: the hidden tests in tests/test_parser.py must all pass.
# Fail closed: reward 0 is written first (and again on any error); 1 only at the very end.
# The agent's module runs only in a child process of the tests (tests/run_module.py), with an
# isolated interpreter (-I: neither /app nor the current folder is on sys.path).
set -euo pipefail
export PATH=/usr/bin:/bin
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP
mkdir -p /logs/verifier
rm -f /logs/verifier/reward.txt /logs/verifier/reward.json
trap 'rm -f /logs/verifier/reward.json; echo 0 > /logs/verifier/reward.txt' EXIT
echo 0 > /logs/verifier/reward.txt
cd /tests
/usr/bin/python3 -I /tests/test_parser.py
trap - EXIT
rm -f /logs/verifier/reward.json
echo 1 > /logs/verifier/reward.txt
