"""Fixtures for the Twisted instrumentation tests: programs run once per reactor."""

from __future__ import annotations

import pytest

from .tracecheck import REACTORS, Runner


@pytest.fixture(scope="session")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """Runs test programs in child interpreters; results are shared by all tests."""
    return Runner(tmp_path_factory.mktemp("programs"))


@pytest.fixture(params=REACTORS)
def reactor(request: pytest.FixtureRequest) -> str:
    """Each reactor family in turn."""
    return request.param
