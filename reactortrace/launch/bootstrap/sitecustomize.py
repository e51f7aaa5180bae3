"""Started by Python in a program run under ``reactortrace run``.

This directory is put first on PYTHONPATH by ``reactortrace run``; Python
imports this module at start-up. It starts recording if (and only if) the
environment asks for it, then runs the user's own ``sitecustomize``, if any.
"""


def _start() -> None:
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    try:
        from reactortrace.launch.session import start_from_environment

        start_from_environment()
    except Exception as exc:  # noqa: BLE001 - the program must run regardless
        sys.stderr.write(f"reactortrace: recording disabled: {type(exc).__name__}: {exc}\n")
    _chain(here)


def _chain(here: str) -> None:
    """Import the next ``sitecustomize`` on sys.path, as Python would have."""
    import importlib.machinery
    import importlib.util
    import os
    import sys

    path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_start()
