"""The cheating-agent library itself: enough agents, unique ids, every code in the catalogue,
every script valid bash, and output paths read from an instruction."""

from __future__ import annotations

import subprocess

import pytest

from app.attacks.cheating_agents import AGENTS, named_outputs
from app.finding_codes import CATALOGUE


def test_at_least_25_agents_with_unique_ids_and_catalogued_codes() -> None:
    assert len(AGENTS) >= 25
    assert len({agent.id for agent in AGENTS}) == len(AGENTS)
    for agent in AGENTS:
        assert agent.code in CATALOGUE and CATALOGUE[agent.code].stage.value == "attack"
        assert agent.steps, agent.id
    assert {a.code for a in AGENTS} >= {f"GX32{n}" for n in range(9)}


@pytest.mark.parametrize("agent", AGENTS, ids=lambda a: a.id)
def test_every_script_is_valid_bash(agent) -> None:
    done = subprocess.run(["bash", "-n"], input=agent.script, text=True, capture_output=True)
    assert done.returncode == 0, done.stderr


def test_named_outputs_are_read_from_the_instruction() -> None:
    text = "Write the report to /app/qc/report.csv and the summary to `/app/qc/summary.json`."
    assert named_outputs(text) == ["/app/qc/report.csv", "/app/qc/summary.json"]
    assert named_outputs("Escape via /app/../etc/passwd or nothing") == []
