"""Other openai SDK generations, each in its own virtualenv: `nox` (all) or `nox -s sdk-0.28`.

`make test` runs everything under the SDK the project installs (openai 3.x, httpx2). These sessions install
the project with its test extra into a fresh venv, then one older SDK generation, and run the tests that
exercise the SDK from the outside: the seeds' own code (tests/seeds), strict clients (tests/seeds/test_strict_sdk.py)
and the in-process `openai_emulator` fixture. Nothing is pip-installed by a test itself.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

OUTSIDE_IN = ["tests/seeds", "tests/client/test_fixture_any_sdk.py"]


def _install(session: nox.Session, openai_spec: str) -> None:
    session.install("-e", ".[test,report]")
    # openai 0.28 predates the project's `openai>=1.40`: pip installs it anyway and says so
    session.install(openai_spec)
    session.run("python", "-c", "import openai; print('openai', openai.__version__)")


@nox.session(name="sdk-0.28")
def sdk_0_28(session: nox.Session) -> None:
    """The seeds' code as written in 2023: openai==0.28.1 (requests-based, module-level API)."""
    _install(session, "openai==0.28.1")
    session.run("pytest", "-q", "tests/seeds", *session.posargs)


@nox.session(name="sdk-1")
def sdk_1(session: nox.Session) -> None:
    """openai 1.x on httpx."""
    _install(session, "openai>=1.40,<2")
    session.run("pytest", "-q", *OUTSIDE_IN, *session.posargs)


@nox.session(name="sdk-2")
def sdk_2(session: nox.Session) -> None:
    """openai 2.x on httpx."""
    _install(session, "openai>=2,<3")
    session.run("pytest", "-q", *OUTSIDE_IN, *session.posargs)
