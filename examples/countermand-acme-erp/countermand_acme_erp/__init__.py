"""Countermand plugin for the Acme ERP: the `AcmeErp` connection type and the `AcmeOrderCancel` processor.

Registered through the ``countermand.processors`` entry point (see pyproject.toml), which names `PLUGINS`.
"""

from countermand_acme_erp.processors import ACME_ERP, AcmeOrderCancel

PLUGINS = [ACME_ERP, AcmeOrderCancel]

__all__ = ["ACME_ERP", "PLUGINS", "AcmeOrderCancel"]
