"""Processors and connection types that ship with Countermand."""

from countermand.integration.processors.builtin.webservice import SANDBOX, WEBSERVICE, WebServiceOrderCancel

BUILTINS: list = [WEBSERVICE, SANDBOX, WebServiceOrderCancel]
