import pytest

from countermand.core.crypto import decrypt_secret, encrypt_secret
from countermand.integration.models import IntegrationConnection
from countermand.project.settings import database_from_url


def test_database_url_sqlite_relative_and_absolute():
    assert database_from_url("sqlite:///countermand.db")["NAME"] == "countermand.db"
    assert database_from_url("sqlite:///data/cm%20prod.db")["NAME"] == "data/cm prod.db"
    absolute = database_from_url("sqlite:////var/lib/countermand/db.sqlite3")
    assert absolute["ENGINE"] == "django.db.backends.sqlite3"
    assert absolute["NAME"] == "/var/lib/countermand/db.sqlite3"


def test_database_url_sqlite_gets_the_options_for_writers_side_by_side_and_a_test_file():
    db = database_from_url("sqlite:///countermand.db")
    assert db["OPTIONS"] == {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    }
    assert db["TEST"]["NAME"].endswith(".sqlite3")
    assert db["CONN_MAX_AGE"] == 0


def test_database_url_sqlite_options_in_the_query_string_come_on_top():
    db = database_from_url("sqlite:///countermand.db?timeout=5")
    assert db["OPTIONS"]["timeout"] == 5
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_url_sqlite_without_a_path_is_the_default_file_and_memory_stays_memory():
    assert database_from_url("sqlite://")["NAME"] == "countermand.db"
    assert database_from_url("sqlite:///")["NAME"] == "countermand.db"
    assert database_from_url("sqlite://:memory:")["NAME"] == ":memory:"


def test_database_url_sqlite_with_two_slashes_says_to_use_three():
    with pytest.raises(ValueError, match=r"three slashes: sqlite:///relative\.db"):
        database_from_url("sqlite://countermand.db")


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
    assert db["CONN_MAX_AGE"] == 0
    # Behind PgBouncer in transaction mode a server-side (WITH HOLD) cursor would be lost between
    # transactions; they are off on PostgreSQL whether a pooler is in front or not.
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is True


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_database_url_postgres_schemes_without_port_or_password(scheme):
    db = database_from_url(f"{scheme}://postgres@127.0.0.1/cm_test")
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql",
        "cm_test",
        "postgres",
        "",
        "127.0.0.1",
        "",
    )
    assert db["OPTIONS"] == {}


def test_database_url_postgres_conn_max_age_and_options_from_the_query_string():
    db = database_from_url(
        "postgres://app@db:5432/cm?conn_max_age=60&connect_timeout=10&application_name=web&sslmode=prefer&sslmode=verify-full"
    )
    assert db["CONN_MAX_AGE"] == 60
    assert db["OPTIONS"] == {"connect_timeout": 10, "application_name": "web", "sslmode": "verify-full"}


def test_database_url_postgres_on_a_unix_socket():
    db = database_from_url("postgres://app@%2Fvar%2Frun%2Fpostgresql/cm")
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("/var/run/postgresql", "", "cm")


def test_database_url_with_an_unknown_scheme_says_what_to_use():
    with pytest.raises(
        ValueError, match=r"scheme 'mysql' is not supported: use sqlite:///path/to/file\.db or postgres://"
    ):
        database_from_url("mysql://x/y")
    with pytest.raises(ValueError, match=r"scheme '' is not supported"):
        database_from_url("countermand.db")


def test_database_url_that_does_not_parse_says_why_without_echoing_the_password():
    with pytest.raises(ValueError, match=r"the port must be a number") as raised:
        database_from_url("postgres://app:hunter2@db:port/cm")
    assert "hunter2" not in str(raised.value)


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
