"""The secret key: production mode refuses to start without one; a rotation keeps stored passwords readable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from countermand.core.crypto import decrypt_secret, encrypt_secret
from countermand.integration.models import IntegrationConnection

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def production_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COUNTERMAND_SECRET_KEY", "COUNTERMAND_DEBUG")}
    return {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}"}


@pytest.mark.parametrize("command", [["serve"], ["web"], ["worker", "--burst"]])
def test_production_mode_without_a_key_refuses_to_start_and_says_how_to_make_one(tmp_path, command):
    done = subprocess.run(
        [sys.executable, "-m", "countermand", *command],
        cwd=tmp_path,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "COUNTERMAND_SECRET_KEY is not set" in done.stderr
    assert "secrets.token_urlsafe" in done.stderr
    assert "Traceback" not in done.stderr
    if command[0] == "serve":
        assert not (tmp_path / "prod.db").exists()  # refused before migrating anything


def test_the_wsgi_application_refuses_the_development_key_in_production_mode(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import countermand.project.wsgi"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "ImproperlyConfigured: COUNTERMAND_SECRET_KEY is not set" in done.stderr


def test_a_key_of_its_own_lets_the_worker_start(tmp_path):
    env = {**production_env(tmp_path), "COUNTERMAND_SECRET_KEY": "a-key-of-its-own-" + "x" * 40}
    subprocess.run([sys.executable, "-m", "countermand", "manage", "migrate", "-v0"], cwd=tmp_path, env=env, check=True)
    done = subprocess.run(
        [sys.executable, "-m", "countermand", "worker", "--burst"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_stored_password_is_read_with_a_fallback_key_after_a_rotation(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "old-key", []
    token = encrypt_secret("hunter2")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-key", ["old-key"]
    assert decrypt_secret(token) == "hunter2"
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(ValueError, match="COUNTERMAND_SECRET_KEY_FALLBACKS"):
        decrypt_secret(token)


@pytest.mark.django_db
def test_secrets_reencrypt_moves_connection_passwords_to_the_new_key(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "old-key", []
    connection = IntegrationConnection(name="ERP", type_name="WebService")
    connection.set_password("hunter2")
    connection.save()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-key", ["old-key"]
    assert IntegrationConnection.objects.get().get_password() == "hunter2"  # readable before the re-encryption

    call_command("secrets_reencrypt")

    settings.SECRET_KEY_FALLBACKS = []  # the old key is gone
    assert IntegrationConnection.objects.get().get_password() == "hunter2"


@pytest.mark.django_db
def test_secrets_reencrypt_names_the_connections_no_key_reads(settings):
    settings.SECRET_KEY = "lost-key"
    connection = IntegrationConnection(name="Lost ERP", type_name="WebService")
    connection.set_password("hunter2")
    connection.save()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-key", []
    with pytest.raises(CommandError, match="Lost ERP"):
        call_command("secrets_reencrypt")
