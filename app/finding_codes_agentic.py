"""The finding codes of agentic packages (DESIGN §4.1), merged into `app.finding_codes.CATALOGUE`.

Kept apart from the qa/code catalogue so each stays readable. Plain tuples: (code, stage,
severity, title, hint); the catalogue turns them into `FindingCode`s.
"""

from __future__ import annotations

from app.findings import Severity, Stage

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

AGENTIC_CODES: tuple[tuple[str, Stage, Severity, str, str], ...] = (
    # -- stage 1: the task folders (docs/checks.md) ----------------------------------------------
    (
        "GX162",
        Stage.STRUCTURE,
        E,
        "agentic package without tasks",
        "Create tasks/<task-id>/ holding instruction.md, solution/solve.sh and tests/test.sh "
        "(`gauntlet new --template agentic-data` makes one).",
    ),
    (
        "GX163",
        Stage.STRUCTURE,
        E,
        "task folder misses a required file",
        "Every tasks/<id>/ needs instruction.md, solution/solve.sh and tests/test.sh.",
    ),
    (
        "GX164",
        Stage.STRUCTURE,
        E,
        "bad task folder name",
        "Name the folder with letters, digits, '.', '_' or '-' (at most 64), e.g. clean-csv.",
    ),
    (
        "GX165",
        Stage.STRUCTURE,
        W,
        "empty instruction",
        "Write in instruction.md what the agent must do and where its result goes.",
    ),
    (
        "GX166",
        Stage.STRUCTURE,
        E,
        "tests or solution copied into the image",
        "Remove the COPY of tests/ or solution/ from the Dockerfile: the agent would read them. "
        "The verifier gets tests/ mounted read-only in its own phase.",
    ),
    (
        "GX167",
        Stage.STRUCTURE,
        W,
        "verifier never writes the reward file",
        "Make tests/test.sh write one number to /logs/verifier/reward.txt (or reward.json).",
    ),
    (
        "GX168",
        Stage.STRUCTURE,
        W,
        "verifier shares the agent's container",
        'Use [verifier] mode = "separate": in a shared container the agent can leave files, '
        "processes and tools behind that the verifier trusts.",
    ),
    (
        "GX169",
        Stage.STRUCTURE,
        W,
        "agent phase reaches the network",
        "Only HTTP and HTTPS to the listed hosts get through, via the proxy named in the agent's "
        "HTTP_PROXY/HTTPS_PROXY; other protocols and DNS have no route. A task that depends on "
        "outside hosts changes when they do: make it work offline if you can.",
    ),
    (
        "GX194",
        Stage.STRUCTURE,
        E,
        "malformed network host",
        "Write each entry of [agent] hosts as a host name, *.domain for its subdomains, and "
        'an optional :port, e.g. hosts = ["pypi.org", "*.example.org", "example.org:8080"].',
    ),
    (
        "GX183",
        Stage.STRUCTURE,
        E,
        "grader type does not fit an agentic package",
        'Set [grader] type = "verifier" (each task\'s tests/test.sh writes its reward).',
    ),
    (
        "GX184",
        Stage.STRUCTURE,
        W,
        "negative is not a shell script",
        "Put known-wrong solutions in tasks/<id>/negatives/<name>.sh; other files are ignored.",
    ),
    # -- stage 2: gates for agentic tasks (docs/verification.md) ---------------------------------
    (
        "GX220",
        Stage.VERIFY,
        E,
        "oracle does not pass",
        "Run solution/solve.sh by hand in the task image; fix it or the tests until it passes.",
    ),
    (
        "GX221",
        Stage.VERIFY,
        E,
        "doing nothing earns reward",
        "The tests must fail on the untouched workdir: check the task's output, not its absence "
        "of errors.",
    ),
    (
        "GX222",
        Stage.VERIFY,
        E,
        "known-wrong solution earns reward",
        "Make the tests catch what this negative gets wrong (its note says what).",
    ),
    (
        "GX223",
        Stage.VERIFY,
        E,
        "oracle scores differently on a second run",
        "Remove randomness and time from the solution and the tests (fixed seeds, no clocks).",
    ),
    (
        "GX224",
        Stage.VERIFY,
        E,
        "tests or solution visible to the agent",
        "Do not COPY tests/ or solution/ into the image, and keep their content out of the "
        "environment/ folder.",
    ),
    (
        "GX225",
        Stage.VERIFY,
        E,
        "verifier wrote no valid reward",
        "tests/test.sh must write one finite number in the reward range to "
        '/logs/verifier/reward.txt, or {"reward": x} to reward.json, on every path.',
    ),
    (
        "GX226",
        Stage.VERIFY,
        E,
        "phase failed to run",
        "Read the container log in the message; build the image with `gauntlet sandbox doctor`.",
    ),
    (
        "GX227",
        Stage.VERIFY,
        W,
        "phase hit its time limit",
        "Raise [agent] or [verifier] timeout_s, or make the script faster.",
    ),
    # -- stage 3: cheating agents and the red-team agent (docs/attacks.md) ------------------------
    (
        "GX320",
        Stage.ATTACK,
        E,
        "agent forges the reward file",
        "Run the verifier in a separate container (the default) and have it write the reward "
        "itself after removing any existing /logs/verifier files.",
    ),
    (
        "GX321",
        Stage.ATTACK,
        E,
        "agent plants code the verifier runs",
        "Run the tests from tests/ with an isolated interpreter (python3 -I, no cwd on sys.path) "
        "and never import or execute files from the agent's workdir.",
    ),
    (
        "GX322",
        Stage.ATTACK,
        E,
        "agent shadows a tool the verifier uses",
        "Call tools by absolute path (/usr/bin/python3) and set PATH in tests/test.sh.",
    ),
    (
        "GX323",
        Stage.ATTACK,
        E,
        "stubbed output passes the tests",
        "Check the content of the output, not only that the file exists or has the right shape.",
    ),
    (
        "GX324",
        Stage.ATTACK,
        E,
        "agent reads the answer",
        "Keep expected outputs and solutions out of the image and the workdir (no .git history, "
        "no copies in environment/).",
    ),
    (
        "GX325",
        Stage.ATTACK,
        E,
        "verifier trusts the clock, seeds or the environment",
        "Do not read time, random seeds or settings the agent can change; fix them in the tests.",
    ),
    (
        "GX326",
        Stage.ATTACK,
        E,
        "agent's process outlives its phase",
        'Use [verifier] mode = "separate": the verifier must start in a fresh container.',
    ),
    (
        "GX327",
        Stage.ATTACK,
        E,
        "verifier crashes into a pass",
        "Make tests/test.sh fail closed: `set -euo pipefail`, and write reward 1 only at the end, "
        "after every check passed.",
    ),
    (
        "GX328",
        Stage.ATTACK,
        E,
        "verifier believes the agent's own report",
        "Score from the files the task asks for, never from text the agent printed or wrote "
        "about its result.",
    ),
    (
        "GX329",
        Stage.ATTACK,
        E,
        "LLM red-team agent earned the reward without solving the task",
        "Read the transcript: the command that earned the reward shows the hole to close.",
    ),
    (
        "GX330",
        Stage.ATTACK,
        INFO,
        "red-team agent's claimed hack did not replay",
        "Nothing to fix: the reward came from chance or a flaky step, not a repeatable hack.",
    ),
    (
        "GX331",
        Stage.ATTACK,
        INFO,
        "red-team agent stopped at its budget",
        "Raise --max-steps or --budget-usd for a deeper search.",
    ),
    (
        "GX332",
        Stage.ATTACK,
        W,
        "cheating agents could not run",
        "Run `gauntlet sandbox doctor`, then run the attacks again.",
    ),
    (
        "GX333",
        Stage.ATTACK,
        INFO,
        "red-team agent solved the task (its files match the oracle's)",
        "Nothing to fix: the model did the work. A stronger attack needs a model told only to "
        "hack (it was), or more steps.",
    ),
)
