"""The pytest plugin is tested with pytest's own ``pytester``, in child processes.

``pytest_plugins = ["pytester"]`` is only allowed in the rootdir's conftest
(pytest refuses it in a conftest found during collection), so pytester is
registered here when this conftest is loaded.

The child pytest loads only the plugins a test names (``-p``): it starts
faster, and what else happens to be installed cannot change the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


Runner = Callable[..., pytest.RunResult]


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """Run pytest in a child with reactortrace's plugin (and pytest-twisted if asked)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    def runner(*args: Any, twisted: bool = False) -> pytest.RunResult:
        plugins = ["-p", "reactortrace.testing.plugin"]
        if twisted:
            plugins += ["-p", "pytest_twisted"]
        return pytester.runpytest_subprocess(*plugins, "-p", "no:cacheprovider", *args)

    return runner
