"""Running an agentic task's phases in real containers, for the template tests: build the task's
image offline FROM the sandbox image, run a script as the agent (no network, the default
non-root user, tests/ and solution/ not mounted), then run tests/test.sh in a new container made
from the agent's final state with tests/ read-only, and read /logs/verifier/reward.txt.

A test harness, not the product's runner: it commits the agent's container for the verifier,
which is enough to tell whether the oracle passes and the negatives fail."""

from __future__ import annotations

import uuid
from pathlib import Path

import docker


def build_task_image(client, pack: Path, task_id: str) -> str:
    from app.sandbox.images import default_image

    own = pack / "tasks" / task_id / "environment"
    context = own if (own / "Dockerfile").is_file() else pack / "environment"
    tag = f"gauntlet-test-agentic:{uuid.uuid4().hex[:12]}"
    client.images.build(
        path=str(context),
        buildargs={"GAUNTLET_BASE": default_image()},
        network_mode="none",
        tag=tag,
        rm=True,
    )
    return tag


def run_phases(client, image: str, task: Path, agent_script: Path | None, logs: Path) -> str:
    """The reward text the verifier wrote after `agent_script` (None: the agent does nothing)."""
    from app.sandbox.containers import owner_labels

    command = ["bash", f"/agent/{agent_script.name}"] if agent_script else ["true"]
    volumes = {}
    if agent_script is not None:  # the script's folder (a file mount would stay in the commit)
        volumes[str(agent_script.parent)] = {"bind": "/agent", "mode": "ro"}
    agent = client.containers.create(
        image, command, volumes=volumes, network_mode="none", labels=owner_labels()
    )
    try:
        agent.start()
        agent.wait(timeout=120)
        after = agent.commit()
    finally:
        agent.remove(force=True)
    try:
        client.containers.run(
            after.id,
            ["bash", "/tests/test.sh"],
            volumes={
                str(task / "tests"): {"bind": "/tests", "mode": "ro"},
                str(logs): {"bind": "/logs/verifier", "mode": "rw"},
            },
            network_mode="none",
            labels=owner_labels(),
            remove=True,
        )
    except docker.errors.ContainerError:  # a failing verifier exits non-zero; its reward says
        pass
    finally:
        client.images.remove(after.id, force=True)
    reward = logs / "reward.txt"
    return reward.read_text().strip() if reward.exists() else ""
