"""The environment protocol between ``reactortrace run`` and the program it starts.

The launcher puts the bootstrap directory first on ``PYTHONPATH`` (Python then
imports its ``sitecustomize`` at start-up) and the session's options, as JSON,
in ``REACTORTRACE_CONFIG``. The program's original ``PYTHONPATH`` travels in
``REACTORTRACE_PYTHONPATH`` so that the bootstrap can give it back: programs the
traced program starts are not traced.
"""

from __future__ import annotations

import json
import os
from typing import Any

CONFIG = "REACTORTRACE_CONFIG"
PYTHONPATH = "REACTORTRACE_PYTHONPATH"
BOOTSTRAP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap")


def program_environment(config: dict[str, Any]) -> dict[str, str]:
    """Our environment, plus the bootstrap and the session's ``config``."""
    env = dict(os.environ)
    original = env.get("PYTHONPATH", "")
    env[PYTHONPATH] = original
    env["PYTHONPATH"] = BOOTSTRAP_DIR + (os.pathsep + original if original else "")
    env[CONFIG] = json.dumps(config)
    return env


def take_config() -> dict[str, Any] | None:
    """In the program: the session's config, if any, and the environment as the
    program would have had it without us (both variables removed)."""
    raw = os.environ.pop(CONFIG, None)
    original = os.environ.pop(PYTHONPATH, None)
    if original is not None:
        if original:
            os.environ["PYTHONPATH"] = original
        else:
            os.environ.pop("PYTHONPATH", None)
    if not raw:
        return None
    config = json.loads(raw)
    return config if isinstance(config, dict) else None
