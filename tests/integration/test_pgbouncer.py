"""The PgBouncer helper the PgBouncer tests and `bench/queue.py --pgbouncer` start (countermand.devtools.pgbouncer)."""

from __future__ import annotations

import pytest

from countermand.devtools import pgbouncer


def test_without_pgbouncer_installed_the_helper_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.delenv("COUNTERMAND_PGBOUNCER", raising=False)
    monkeypatch.setattr(pgbouncer, "DEBIAN_PGBOUNCER", str(tmp_path / "pgbouncer"))
    monkeypatch.setattr(pgbouncer.shutil, "which", lambda _name: None)
    with pytest.raises(pgbouncer.PgBouncerMissing, match=r"apt-get install -y pgbouncer"):
        pgbouncer.pgbouncer_start()


def test_a_pgbouncer_url_names_the_database_through_it_with_the_user_quoted():
    bouncer = pgbouncer.PgBouncer(
        process=None,  # type: ignore[arg-type]
        port=6432,
        user="app@ops",
        password="s:cret",
        directory=None,  # type: ignore[arg-type]
        server_host="db",
        server_port=5432,
        pool_size=10,
    )
    assert bouncer.url("cm") == "postgres://app%40ops:s%3Acret@127.0.0.1:6432/cm"
