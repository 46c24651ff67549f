from tests.integration.conftest import erp_shop, fake_erp, pgbouncer, route, workers  # noqa: F401
