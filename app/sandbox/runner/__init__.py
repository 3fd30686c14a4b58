"""The in-sandbox runner: a small, standard-library-only Python package.

It is bind-mounted read-only into the sandbox (as the package `runner`) and is also what the
process backend runs, so it must never import anything from `app` or outside the standard
library. `server` is the fork server the host talks to over JSON lines (it holds the batch's
key and never runs author code); `loader` is the separate process that imports the grader and
forks one child per grading (`grading`), reached through `loader_link`; `items` checks what a
grading sends back; `containment` kills and cleans up. `match` and `code_tests` are the built-in
graders; `harness` is the script a code submission runs under.
"""
