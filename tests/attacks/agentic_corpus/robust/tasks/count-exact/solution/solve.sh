#!/bin/bash
set -euo pipefail
tail -n +2 /app/data.csv | wc -l > /app/count.txt
