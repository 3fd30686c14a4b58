"""Import Harbor task folders as an agentic package (`kind = "agentic"`, DESIGN §4.1), losslessly.

Each Harbor task folder `<src>/<id>/` becomes `tasks/<id>/` with every file copied byte for byte,
modes included, `task.toml` among them (kept verbatim: it is what an export writes back). The
settings every task agrees on (agent and verifier time limits, cpus, memory, storage) become the
package's `[agent]`, `[verifier]` and `[sandbox]`. A dataset's own README.md becomes the
package's README.md.

What Gauntlet Studio cannot represent is refused with an error naming the file, never dropped:
multi-step tasks (`steps/`), multi-container environments (docker-compose), prebuilt images
without an `environment/Dockerfile`, Windows tasks, tasks without an oracle (`solution/solve.sh`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

from app.envpack.agentic_tasks import TASK_ID
from app.envpack.interop.file_tree import copy_tree
from app.envpack.interop.source_tree import refuse_symlinks
from app.envpack.loader import MANIFEST_FILE
from app.errors import UserError

COMPOSE_FILES = ("docker-compose.yaml", "docker-compose.yml", "compose.yaml", "compose.yml")
REQUIRED = ("instruction.md", "environment/Dockerfile", "solution/solve.sh", "tests/test.sh")
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|)\s*$", re.IGNORECASE)
_MB = {"": 1 / (1024 * 1024), "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
# First line of the README an import writes when the tasks came without one: an export leaves a
# README starting with it out, so that Harbor -> Gauntlet -> Harbor adds no file.
GENERATED_README = "<!-- written by gauntlet import; not exported while this line is here -->"


@dataclass(slots=True)
class AgenticImport:
    """What `import_agentic` wrote: the manifest, and one task folder per Harbor task."""

    manifest: dict[str, Any]
    readme: str
    task_ids: list[str] = field(default_factory=list)

    @property
    def task_count(self) -> int:
        return len(self.task_ids)


def read_agentic(src: Path, folders: list[Path], package_name: str) -> AgenticImport:
    """Check every task folder maps, and read their task.toml files (nothing written yet)."""
    refuse_symlinks(src, skip_dirs=frozenset())  # every file is copied, so no link anywhere
    if folders != [src]:
        _refuse_stray_entries(src, folders)
    configs = [_task_config(folder) for folder in folders]
    ids = [folder.name for folder in folders]
    manifest = _manifest(src, package_name, configs)
    readme_path = src / "README.md"
    if folders != [src] and readme_path.is_file():
        readme = readme_path.read_text(encoding="utf-8")
    else:
        readme = _readme(src, ids)
    return AgenticImport(manifest, readme, ids)


def write_agentic(staging: Path, folders: list[Path], imported: AgenticImport) -> None:
    (staging / MANIFEST_FILE).write_text(tomlkit.dumps(imported.manifest), encoding="utf-8")
    (staging / "README.md").write_text(imported.readme, encoding="utf-8")
    for folder in folders:
        copy_tree(folder, staging / "tasks" / folder.name)


def _refuse_stray_entries(src: Path, folders: list[Path]) -> None:
    """A dataset folder holds task folders and a README.md; anything else would be lost."""
    tasks = {folder.name for folder in folders}
    for entry in sorted(src.iterdir()):
        if entry.name in tasks or entry.name == "README.md" or entry.name.startswith("."):
            continue
        raise UserError(
            f"{entry.name} in {src} is neither a task folder (with task.toml) nor README.md, "
            "and an agentic package has no place for it.",
            "Move it into a task folder (the task that needs it), or out of the dataset folder, "
            "then import again.",
            where=str(entry),
        )


def _task_config(folder: Path) -> dict[str, Any]:
    def refuse(why: str, hint: str, where: Path) -> UserError:
        return UserError(
            f'Task "{folder.name}" cannot be imported as an agentic task: {why}.',
            hint,
            where=str(where),
        )

    if not TASK_ID.fullmatch(folder.name):
        raise refuse(
            "its folder name is not a usable task id",
            "Rename the folder with letters, digits, '.', '_' or '-' (at most 64).",
            folder,
        )
    toml_path = folder / "task.toml"
    try:
        config = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise refuse(f"task.toml cannot be read ({exc})", "Fix task.toml.", toml_path) from exc
    if "steps" in config or (folder / "steps").exists():
        raise refuse(
            "it is a multi-step task (steps), which agentic packages cannot hold yet",
            "Split it into single-step tasks, or keep it as a Harbor task.",
            folder / ("steps" if (folder / "steps").exists() else "task.toml"),
        )
    for name in COMPOSE_FILES:
        if (folder / "environment" / name).exists():
            raise refuse(
                f"its environment/{name} asks for several containers, which agentic packages "
                "cannot hold",
                "Build everything the task needs into environment/Dockerfile, or keep it as a "
                "Harbor task.",
                folder / "environment" / name,
            )
    environment = config.get("environment", {})
    system = environment.get("os", "linux") if isinstance(environment, dict) else "linux"
    if system != "linux":
        raise refuse(
            f'[environment] os = "{system}"; the sandbox runs Linux containers only',
            "Keep Windows tasks as Harbor tasks.",
            toml_path,
        )
    for name in REQUIRED:
        if not (folder / name).is_file():
            raise refuse(f"it has no {name}", _missing_hint(name), folder / name)
    return config


def _missing_hint(name: str) -> str:
    return {
        "instruction.md": "Write what the agent must do in instruction.md.",
        "environment/Dockerfile": "Add environment/Dockerfile (a task that names a prebuilt "
        "docker_image only cannot be built offline); FROM the image you use.",
        "solution/solve.sh": "Add solution/solve.sh, a correct solution: Gauntlet Studio's "
        "checks need an oracle to prove the task can be solved.",
        "tests/test.sh": "Add tests/test.sh, which writes /logs/verifier/reward.txt.",
    }[name]


def _manifest(src: Path, package_name: str, configs: list[dict[str, Any]]) -> dict[str, Any]:
    agent = _uniform(configs, "agent", "timeout_sec")
    verifier = _uniform(configs, "verifier", "timeout_sec")
    sandbox: dict[str, Any] = {"network": "none"}
    cpus = _uniform(configs, "environment", "cpus")
    if isinstance(cpus, int | float) and not isinstance(cpus, bool):
        sandbox["cpus"] = float(cpus)
    memory = _uniform_mb(configs, "memory_mb", "memory")
    if memory is not None:
        sandbox["memory_mb"] = memory
    storage = _uniform_mb(configs, "storage_mb", "storage")
    if storage is not None:
        sandbox["disk_mb"] = storage
    count = len(configs)
    return {
        "schema": "gauntlet/1",
        "kind": "agentic",
        "package": {
            "name": package_name,
            "version": "0.1.0",
            "title": f"{src.name} (imported from Harbor)",
            "description": f"{count} agentic task(s) imported from the Harbor tasks in {src.name}.",
            "authors": [],
            "license": "NOASSERTION",
            "tags": ["imported", "harbor"],
        },
        "grader": {"type": "verifier"},
        "agent": _timeout(agent, {"network": "none"}),
        # Harbor runs the tests in the agent's own container; "separate" is safer (GX168).
        "verifier": _timeout(verifier, {"mode": "shared"}),
        "sandbox": sandbox,
    }


def _timeout(value: Any, table: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return {"timeout_s": float(value), **table}
    return table


def _uniform(configs: list[dict[str, Any]], table: str, key: str) -> Any:
    """The value every task.toml gives to [table] key, or None when they differ or omit it."""
    values = []
    for config in configs:
        section = config.get(table)
        values.append(section.get(key) if isinstance(section, dict) else None)
    first = values[0]
    return first if all(v == first for v in values) else None


def _uniform_mb(configs: list[dict[str, Any]], key: str, old_key: str) -> int | None:
    """[environment] memory_mb / storage_mb (or the older "2G"-style memory / storage)."""
    values = set()
    for config in configs:
        environment = config.get("environment")
        environment = environment if isinstance(environment, dict) else {}
        value = environment.get(key)
        if value is None and isinstance(environment.get(old_key), str):
            match = _MEMORY.match(environment[old_key])
            if match:
                value = float(match.group(1)) * _MB[match.group(2)[:1].upper()]
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        values.add(int(value))
    return values.pop() if len(values) == 1 else None


def _readme(src: Path, ids: list[str]) -> str:
    return (
        f"{GENERATED_README}\n# {src.name}\n\n"
        f"Imported from the Harbor tasks in `{src}` by Gauntlet Studio: {len(ids)} task "
        "folder(s) under `tasks/`, each exactly as it was (its task.toml included), so that\n"
        "`gauntlet export DIR --to harbor` gives the same folders back.\n\n"
        "Before submitting: set the license in env.toml, say here what the tasks teach and how\n"
        "they are graded, and add known-wrong solutions as `tasks/<id>/negatives/<name>.sh`.\n"
        'Harbor runs the verifier in the agent\'s container (`[verifier] mode = "shared"`);\n'
        'switch to `mode = "separate"` when the tests only need the files of the workdir.\n'
    )
