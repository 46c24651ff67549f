"""Processors and connection types that ship with Countermand. Append new built-ins to BUILTINS."""

from countermand.integration.processors.builtin.noop import NoOp
from countermand.integration.processors.builtin.order_history_refresh import OrderHistoryRefresh
from countermand.integration.processors.builtin.tryton import TRYTON, TrytonOrderCancel
from countermand.integration.processors.builtin.webservice import SANDBOX, WEBSERVICE, WebServiceOrderCancel

BUILTINS: list = [
    WEBSERVICE,
    SANDBOX,
    WebServiceOrderCancel,
    NoOp,
    TRYTON,
    TrytonOrderCancel,
    OrderHistoryRefresh,
]
