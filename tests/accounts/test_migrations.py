"""ApiToken and LoginFailure moved from the api app to accounts: a database migrated before the move keeps
its tokens, its failed sign-ins and the permissions granted on them.

The database is a SQLite file of its own (not the test database), migrated by `python -m django migrate` in
subprocesses: back to the last migration before the move, filled as the old code filled it, then forward.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

BEFORE_THE_MOVE = ("api", "0002_admin_roles")


def django(database: Path, *args: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "countermand.project.settings",
    }
    done = subprocess.run(
        [sys.executable, "-m", "django", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def fill_as_before_the_move(database: Path) -> None:
    """A user with a token, a failed sign-in, and a permission on the api app's ApiToken."""
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
            " is_active, date_joined) VALUES ('!', 0, 'ops', '', '', '', 1, 1, '2026-01-01 00:00:00')"
        )
        user_id = db.execute("SELECT id FROM auth_user WHERE username = 'ops'").fetchone()[0]
        db.execute(
            "INSERT INTO api_apitoken (user_id, key_hash, prefix, created_at, expires_at)"
            " VALUES (?, 'cafe', 'cm_abcdef', '2026-01-01 00:00:00', '2999-01-01 00:00:00')",
            (user_id,),
        )
        db.execute(
            "INSERT INTO api_loginfailure (username, ip_address, failed_at)"
            " VALUES ('ops', '127.0.0.1', '2026-01-01 00:00:00')"
        )
        permission_id = db.execute(
            "SELECT p.id FROM auth_permission p JOIN django_content_type t ON t.id = p.content_type_id"
            " WHERE t.app_label = 'api' AND p.codename = 'view_apitoken'"
        ).fetchone()[0]
        db.execute(
            "INSERT INTO auth_user_user_permissions (user_id, permission_id) VALUES (?, ?)", (user_id, permission_id)
        )


READ_BACK = """
import json
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from countermand.accounts.models import ApiToken, LoginFailure
user = get_user_model().objects.get(username="ops")
moved = ContentType.objects.filter(model__in=["apitoken", "loginfailure"])
print(json.dumps({
    "tokens": list(ApiToken.objects.values_list("user__username", "prefix")),
    "failures": list(LoginFailure.objects.values_list("username", "ip_address")),
    "may_view_tokens": user.has_perm("accounts.view_apitoken"),
    "content_types": sorted(moved.values_list("app_label", "model")),
}))
"""


def test_migrating_a_database_from_before_the_move_keeps_its_tokens_failures_and_permissions(tmp_path):
    database = tmp_path / "before-the-move.sqlite3"
    django(database, "migrate", "--noinput")
    django(database, "migrate", *BEFORE_THE_MOVE, "--noinput")
    with sqlite3.connect(database) as db:
        applied = {app for (app,) in db.execute("SELECT app FROM django_migrations")}
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        old_content_types = set(db.execute("SELECT app_label, model FROM django_content_type WHERE model = 'apitoken'"))
    assert "accounts" not in applied
    assert {"api_apitoken", "api_loginfailure"} <= tables
    assert old_content_types == {("api", "apitoken")}
    fill_as_before_the_move(database)

    django(database, "migrate", "--noinput")

    state = json.loads(django(database, "shell", "--no-imports", "-c", READ_BACK).splitlines()[-1])
    assert state["tokens"] == [["ops", "cm_abcdef"]]
    assert state["failures"] == [["ops", "127.0.0.1"]]
    assert state["may_view_tokens"] is True
    assert state["content_types"] == [["accounts", "apitoken"], ["accounts", "loginfailure"]]
