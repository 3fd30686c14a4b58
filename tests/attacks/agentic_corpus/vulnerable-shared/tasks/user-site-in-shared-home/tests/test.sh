#!/bin/bash
# Flaw: python3 without -I loads the user site of HOME, which the agent shares.
mkdir -p /logs/verifier
echo 0 > /logs/verifier/reward.txt
cd /tests
python3 /tests/check.py && echo 1 > /logs/verifier/reward.txt
