"""Exit 0 when the file argv[1] (a regular file, not a link) holds exactly argv[2]."""

import os
import sys

path, want = sys.argv[1], sys.argv[2].encode().decode("unicode_escape")
if os.path.islink(path) or not os.path.isfile(path):
    sys.exit(1)
with open(path, encoding="utf-8") as handle:
    sys.exit(0 if handle.read() == want else 1)
