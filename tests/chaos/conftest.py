from tests.integration.conftest import erp_shop, fake_erp, workers  # noqa: F401
