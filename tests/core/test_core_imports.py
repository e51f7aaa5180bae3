"""The core model stays pure Python: it must not pull in Twisted or Textual."""

from __future__ import annotations

import json
import subprocess
import sys

CHECK = """
import importlib, json, pkgutil, sys
import reactortrace.core as core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "reactortrace.core.")]
for name in names:
    importlib.import_module(name)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("twisted", "textual"))
print(json.dumps({"modules": names, "leaked": leaked}))
"""


def test_core_modules_import_neither_twisted_nor_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=True
    )
    report = json.loads(result.stdout)
    assert {"reactortrace.core.state", "reactortrace.core.diagnose.diagnostics"} <= set(report["modules"])
    assert report["leaked"] == []
