import pytest

from countermand.core.crypto import decrypt_secret, encrypt_secret
from countermand.integration.models import IntegrationConnection
from countermand.project.settings import database_from_url


def test_database_url_sqlite_relative_and_absolute():
    assert database_from_url("sqlite:///countermand.db")["NAME"] == "countermand.db"
    absolute = database_from_url("sqlite:////var/lib/countermand/db.sqlite3")
    assert absolute["NAME"] == "/var/lib/countermand/db.sqlite3"
    assert absolute["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in absolute["OPTIONS"]["init_command"]


def test_database_url_postgres():
    db = database_from_url("postgres://app:s%40cret@db.internal:6432/cm?sslmode=require")
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql",
        "cm",
        "app",
        "s@cret",
        "db.internal",
        "6432",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_database_url_with_an_unknown_scheme_says_what_to_use():
    with pytest.raises(ValueError, match=r"sqlite:///path/to/file\.db or postgres://"):
        database_from_url("mysql://x/y")


@pytest.mark.django_db
def test_connection_password_is_encrypted_at_rest():
    conn = IntegrationConnection(name="ERP", type_name="WebService")
    conn.set_password("hunter2")
    conn.save()
    stored = IntegrationConnection.objects.values_list("password_encrypted", flat=True).get()
    assert "hunter2" not in stored
    assert IntegrationConnection.objects.get().get_password() == "hunter2"


def test_secret_from_another_key_cannot_be_decrypted(settings):
    token = encrypt_secret("pw")
    settings.SECRET_KEY = "another-key"
    with pytest.raises(ValueError, match="enter the connection's password again"):
        decrypt_secret(token)


def test_production_settings_hash_passwords_with_argon2():
    from countermand.project import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
