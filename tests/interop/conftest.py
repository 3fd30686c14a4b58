"""Fixtures for the interop tests: the real grader runtime, template packages, and a loader for
exported verifiers environments."""

from __future__ import annotations

import importlib
import shutil
import sys
import types
from pathlib import Path

import pytest

import app.sandbox.runner as runner
from app.envpack.interop import GraderRuntime
from app.resources import resource_path


@pytest.fixture(scope="session")
def runtime() -> GraderRuntime:
    return GraderRuntime.from_folder(Path(runner.__file__).parent)


@pytest.fixture
def template(tmp_path):
    """Copy a bundled template into tmp_path (so tests may edit it); returns its folder."""

    def copy(name: str) -> Path:
        dest = tmp_path / "packs" / name
        shutil.copytree(resource_path("templates", name), dest)
        return dest

    return copy


class _Subscriptable:
    def __class_getitem__(cls, item):
        return cls


class _StubTaskData:
    def __init__(self, **fields):
        self.__dict__.update(fields)


class _StubTask(_Subscriptable):
    def __init__(self, data, config=None):
        self.data, self.config = data, config


class _StubTaskConfig:
    def __init__(self, judges=()):
        self.judges = list(judges)


class _StubTasksetConfig:
    def __init__(self, id="", task=None, **kwargs):
        self.id, self.task, self.kwargs = id, task or _StubTaskConfig(), kwargs


class _StubTaskset(_Subscriptable):
    def __init__(self, config):
        self.config = config

    def __iter__(self):
        return iter(self.load())


def _stub_reward(func, weight=1.0, priority=0):
    func.reward, func._vf_weight = True, weight
    return func


@pytest.fixture
def load_exported(monkeypatch):
    """Import an exported verifiers environment with *only* the `verifiers` import replaced by
    a tiny stub of the verifiers 0.4 classes it subclasses (Task, TaskData, Taskset, the
    configs, @vf.reward), for unit tests: everything the environment itself does (task data,
    the reward, Gauntlet's graders) runs for real. The real package runs the same export in
    test_interop_verifiers_real.py (its own venv: it cannot go into the app's .venv)."""

    def load(folder: Path, module: str):
        vf = types.ModuleType("verifiers.v1")
        vf.Task, vf.TaskData, vf.Taskset, vf.State = _StubTask, _StubTaskData, _StubTaskset, object
        vf.TaskConfig, vf.TasksetConfig = _StubTaskConfig, _StubTasksetConfig
        vf.reward = vf.metric = _stub_reward
        root = types.ModuleType("verifiers")
        root.v1 = vf
        monkeypatch.setitem(sys.modules, "verifiers", root)
        monkeypatch.setitem(sys.modules, "verifiers.v1", vf)
        monkeypatch.syspath_prepend(str(folder))
        for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
            monkeypatch.delitem(sys.modules, name)
        return importlib.import_module(module)

    yield load
