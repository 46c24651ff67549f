"""Processors and connection types that ship with Countermand. Append new built-ins to BUILTINS."""

from countermand.integration.processors.builtin.noop import NoOp
from countermand.integration.processors.builtin.webservice import SANDBOX, WEBSERVICE, WebServiceOrderCancel

BUILTINS: list = [
    WEBSERVICE,
    SANDBOX,
    WebServiceOrderCancel,
    NoOp,
]
