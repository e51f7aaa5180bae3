"""The CI matrix: every Twisted release and Python version pyproject.toml accepts.

    nox                     # everything below (about 20 minutes on 2 cores)
    nox -s twisted          # the event-kind tests and doctor on each Twisted release
    nox -s pythons          # the whole suite on Python 3.12 and 3.13, newest Twisted

The whole suite on Python 3.11 with the newest Twisted is the README's test
command, run by CI before this. A Python that is not installed is reported by
nox as skipped (``.ci/run`` says which, and where it looked).
"""

from __future__ import annotations

import nox

#: Every Twisted release the project accepts (pyproject.toml: twisted>=24.7).
TWISTED = ["24.7.0", "24.10.0", "24.11.0", "25.5.0", "26.4.0", "26.10.0"]
#: The reactor families the per-release runs cover: the default one and Scrapy's.
RELEASE_REACTORS = "epoll,asyncio"

nox.options.sessions = ["twisted", "pythons"]
nox.options.reuse_existing_virtualenvs = True


@nox.session(python="3.11")
@nox.parametrize("twisted", TWISTED)
def twisted(session: nox.Session, twisted: str) -> None:
    """Event-kind tests (epoll and asyncio) and doctor on one Twisted release."""
    session.install("-q", "-e", ".[test]", f"twisted[tls]=={twisted}")
    session.run("python", "-c", "import twisted; print('Twisted', twisted.__version__)")
    session.run("reactortrace", "doctor", "--reactor", "epoll", "--reactor", "asyncio")
    session.run(
        "pytest", "-q", "-p", "no:cacheprovider", "tests/instrumentation", "tests/core",
        "tests/cli/test_doctor.py",
        env={"REACTORTRACE_TEST_REACTORS": RELEASE_REACTORS},
    )


@nox.session(python=["3.12", "3.13"])
def pythons(session: nox.Session) -> None:
    """The whole suite on a newer Python, with the newest Twisted."""
    session.install("-q", "-e", ".[test]")
    session.run("pytest", "-q", "-p", "no:cacheprovider")
