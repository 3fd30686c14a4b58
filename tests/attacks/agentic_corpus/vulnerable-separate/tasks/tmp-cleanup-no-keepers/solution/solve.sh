#!/bin/bash
set -euo pipefail
find /app/work -name '*.tmp' -type f -delete
