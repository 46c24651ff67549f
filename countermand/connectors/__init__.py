"""The connectors that ship with Countermand: plugins of the integration engine like any third-party
package. They use only `countermand.integration.plugin` and register through the ``countermand.processors``
entry-point group (pyproject.toml names `PLUGINS`).

- `webservice`: the `WebService` and `Sandbox` connection types and `WebServiceOrderCancel`; their order
  source for the order history refresh is in `webservice_refresh`;
- `tryton`: the `Tryton` connection type, `TrytonOrderCancel` and its order source (`tryton_rpc` is the
  JSON-RPC client);
- `noop`: `NoOp`, for smoke tests and benchmarks.
"""

from countermand.connectors.noop import NoOp
from countermand.connectors.tryton import TRYTON, TrytonOrderCancel
from countermand.connectors.webservice import SANDBOX, WEBSERVICE, WebServiceOrderCancel

PLUGINS: list = [WEBSERVICE, SANDBOX, WebServiceOrderCancel, NoOp, TRYTON, TrytonOrderCancel]
