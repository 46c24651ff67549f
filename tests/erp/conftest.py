"""Fixtures that run a real Tryton 8.2 server (see ``tryton_harness``).

* ``tryton_template`` (session): the Tryton database, built once per test
  session (``trytond-admin -u sale`` plus the sale set-up, ~20-30 s).
* ``tryton_server`` (function): a started ``trytond`` on a private copy of that
  database; stopped at teardown.  Fails, never skips, when Tryton cannot run.

Other test packages can use them with
``from tests.erp.conftest import tryton_server, tryton_template  # noqa: F401``
in their own ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from countermand.integration.tryton_rpc import clear_session_cache
from tests.erp.tryton_harness import TrytonServer, TrytonTemplate, build_template, running_server


@pytest.fixture(scope="session")
def tryton_template(tmp_path_factory: pytest.TempPathFactory) -> TrytonTemplate:
    """Build the Tryton database once per test session."""
    return build_template(tmp_path_factory.mktemp("tryton-template"))


@pytest.fixture
def tryton_server(tryton_template: TrytonTemplate, tmp_path: Path) -> Iterator[TrytonServer]:
    """A running ``trytond`` on a copy of the template database."""
    clear_session_cache()
    with running_server(tryton_template, tmp_path / "tryton") as server:
        yield server
    clear_session_cache()
