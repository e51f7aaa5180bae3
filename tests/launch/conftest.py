"""Fixtures for the launch tests: the live tests' private socket directory."""

from ..live.conftest import sock_dir  # noqa: F401 - a shared fixture
