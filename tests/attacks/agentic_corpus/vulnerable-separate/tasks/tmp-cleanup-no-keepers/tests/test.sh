#!/bin/bash
# Flaw: deleting everything also leaves no .tmp file.
mkdir -p /logs/verifier
echo 0 > /logs/verifier/reward.txt
[ -z "$(find /app/work -name '*.tmp' 2>/dev/null)" ] && echo 1 > /logs/verifier/reward.txt
