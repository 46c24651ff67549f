"""The administrator roles: Django groups created by migration api/0002_admin_roles (see its docstring)."""

READ_ONLY_ADMIN = "Read-only admin"
ORDER_ADMIN = "Order admin"
INTEGRATION_ADMIN = "Integration admin"
ROLES = (READ_ONLY_ADMIN, ORDER_ADMIN, INTEGRATION_ADMIN)
