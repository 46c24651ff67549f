"""Run a real Tryton 8.2 server (SQLite) for tests and benchmarks.

Two levels:

* :func:`build_template` creates, once per test session, a Tryton database
  with the ``sale`` module (``trytond-admin``, ~15-25 s) and the data a sale
  needs to go through every state (:func:`setup_database`, run by proteus in a
  subprocess so that Tryton's in-process machinery never meets pytest-django).
* :class:`TrytonServer` copies that database file for one test and runs
  ``trytond -c CONF -d DB`` on a free 127.0.0.1 port; it can be stopped and
  started again on the same port and file, and it creates sales in any state
  through JSON-RPC (:meth:`TrytonServer.create_sale`).

The server runs with ``[queue] worker = True`` and *no* worker process: the
tasks Tryton queues (processing a sale after ``confirm``, creating the move of
a posted invoice, re-processing a sale when its invoice is paid) stay queued,
as in a production Tryton whose workers have not picked them up yet.  That is
what keeps a confirmed sale ``confirmed``; the harness then drives each
further step explicitly (``process`` buttons).

Without pytest, ``python -m countermand.devtools.tryton_server serve`` builds a
database and runs a server until interrupted (handy to try the Tryton
processors by hand).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import httpx

from countermand.connectors.tryton_rpc import TrytonClient

# The folder that holds the countermand package: the set-up subprocess imports this module from it.
_PACKAGE_PARENT: Final = Path(__file__).resolve().parents[2]

ADMIN_LOGIN: Final = "admin"
ADMIN_PASSWORD: Final = "countermand-admin-pw"
ADMIN_EMAIL: Final = "admin@example.com"
DATABASE: Final = "countermand"
CUSTOMER_CODE: Final = "C1000"
GOODS_CODE: Final = "WIDGET"
SERVICE_CODE: Final = "SUPPORT"
SALE_STATES: Final = ("draft", "quotation", "confirmed", "processing", "done", "cancelled")

BUILD_TIMEOUT: Final = 600.0
START_TIMEOUT: Final = 60.0


class TrytonHarnessError(RuntimeError):
    """Tryton could not be built or started (the test must fail, not skip)."""


def venv_bin(name: str) -> Path:
    """A console script of the running interpreter's environment."""
    return Path(sys.executable).parent / name


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment for Tryton subprocesses, without stray TRYTOND_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYTOND_") and k != "TRYTONPASSFILE"}
    env.update(extra)
    return env


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def write_config(path: Path, database_dir: Path, port: int, *, worker: bool) -> Path:
    """Write a trytond.conf for an SQLite database kept in ``database_dir``."""
    text = "\n".join(
        [
            "[database]",
            "uri = sqlite://",
            f"path = {database_dir}",
            "",
            "[web]",
            f"listen = 127.0.0.1:{port}",
            "",
            "[queue]",
            f"worker = {worker}",
            "",
        ]
    )
    path.write_text(text)
    return path


# --------------------------------------------------------------------------
# Template database (once per test session)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TrytonTemplate:
    """A built Tryton database, to be copied for each server."""

    directory: Path
    database: str
    login: str
    password: str
    data: Mapping[str, Any]
    admin_seconds: float
    setup_seconds: float

    @property
    def file(self) -> Path:
        return self.directory / f"{self.database}.sqlite"


def build_template(directory: Path, database: str = DATABASE) -> TrytonTemplate:
    """Create the Tryton database with the ``sale`` module and its set-up data."""
    directory.mkdir(parents=True, exist_ok=True)
    config = write_config(directory / "trytond-admin.conf", directory, free_port(), worker=False)
    passfile = directory / "admin-password"
    passfile.write_text(ADMIN_PASSWORD + "\n")
    (directory / f"{database}.sqlite").touch()  # trytond-admin needs the file
    log = directory / "build.log"

    started = time.monotonic()
    _run_logged(
        [
            str(venv_bin("trytond-admin")),
            "-c",
            str(config),
            "-d",
            database,
            "--email",
            ADMIN_EMAIL,
            "-u",
            "sale",
            "--activate-dependencies",
        ],
        log,
        env=_clean_env(TRYTONPASSFILE=str(passfile)),
        what="trytond-admin",
    )
    admin_seconds = time.monotonic() - started

    started = time.monotonic()
    result = directory / "setup.json"
    _run_logged(
        [
            sys.executable,
            "-m",
            "countermand.devtools.tryton_server",
            "setup",
            "--config",
            str(config),
            "--database",
            database,
            "--output",
            str(result),
        ],
        log,
        env=_clean_env(PYTHONPATH=os.pathsep.join(filter(None, [str(_PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))),
        what="Tryton set-up (proteus)",
    )
    setup_seconds = time.monotonic() - started
    data = json.loads(result.read_text())
    return TrytonTemplate(
        directory=directory,
        database=database,
        login=ADMIN_LOGIN,
        password=ADMIN_PASSWORD,
        data=data,
        admin_seconds=admin_seconds,
        setup_seconds=setup_seconds,
    )


def template_with_modules(template: TrytonTemplate, directory: Path, modules: Sequence[str]) -> TrytonTemplate:
    """A copy of `template` with more Tryton modules activated (e.g. ``sale_amendment``).

    Activating a module on the built database (``trytond-admin -u MODULE``) costs a few seconds, not the
    full build: a test session builds the plain template once and this variant only when a test needs it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template.file, directory / template.file.name)
    config = write_config(directory / "trytond-admin.conf", directory, free_port(), worker=False)
    passfile = directory / "admin-password"
    passfile.write_text(template.password + "\n")
    started = time.monotonic()
    _run_logged(
        [
            str(venv_bin("trytond-admin")),
            "-c",
            str(config),
            "-d",
            template.database,
            "-u",
            *modules,
            "--activate-dependencies",
        ],
        directory / "build.log",
        env=_clean_env(TRYTONPASSFILE=str(passfile)),
        what="trytond-admin",
    )
    return TrytonTemplate(
        directory=directory,
        database=template.database,
        login=template.login,
        password=template.password,
        data=template.data,
        admin_seconds=time.monotonic() - started,
        setup_seconds=0.0,
    )


def _run_logged(cmd: list[str], log: Path, *, env: dict[str, str], what: str) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        try:
            proc = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=BUILD_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TrytonHarnessError(f"{what} failed: {exc}\n{_tail(log)}") from exc
    if proc.returncode != 0:
        raise TrytonHarnessError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")


def setup_database(config_file: str, database: str) -> dict[str, Any]:
    """Create what sales need (runs inside the set-up subprocess, with proteus).

    * a company (USD) — the admin user gets it as current company;
    * a chart of accounts (the English minimal template) with default
      receivable/payable/revenue/expense accounts;
    * a fiscal year with periods and invoice sequences (needed to *post* an
      invoice, hence for a ``done`` sale; quote/confirm/process need none);
    * a ``Cash`` invoice payment method (to pay an invoice, for ``done``);
    * a ``Direct`` payment term (customer default);
    * an accounting product category, a goods product ``WIDGET`` (10.00) and a
      service ``SUPPORT`` (30.00);
    * stock of ``WIDGET`` in the warehouse, so that shipments can be assigned;
    * the customer ``C1000`` with an address (quotation requires invoice and
      shipment addresses);
    * sale numbers ``SO00001``... (prefix ``SO``, padding 5).
    """
    from proteus import Model
    from proteus import config as proteus_config
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
    from trytond.modules.account_invoice.tests.tools import (
        create_payment_term,
        set_fiscalyear_invoice_sequences,
    )
    from trytond.modules.company.tests.tools import create_company, get_company

    proteus_config.set_trytond(database=database, config_file=config_file)

    create_company()
    company = get_company()
    create_chart(company)
    fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(company))
    fiscalyear.click("create_period")
    accounts = get_accounts(company)

    journal_model = Model.get("account.journal")
    cash_journal, *_ = journal_model.find([("type", "=", "cash")])
    payment_method = Model.get("account.invoice.payment.method")(
        name="Cash",
        journal=cash_journal,
        credit_account=accounts["cash"],
        debit_account=accounts["cash"],
    )
    payment_method.save()

    payment_term = create_payment_term()
    payment_term.save()
    account_config = Model.get("account.configuration")(1)
    account_config.default_customer_payment_term = payment_term
    account_config.save()

    category = Model.get("product.category")(
        name="Accounting",
        accounting=True,
        account_expense=accounts["expense"],
        account_revenue=accounts["revenue"],
    )
    category.save()
    (unit,) = Model.get("product.uom").find([("name", "=", "Unit")])
    template_model = Model.get("product.template")
    products: dict[str, dict[str, Any]] = {}
    for name, kind, price, code in (
        ("Widget", "goods", Decimal("10.00"), GOODS_CODE),
        ("Support", "service", Decimal("30.00"), SERVICE_CODE),
    ):
        template = template_model(
            name=name,
            code=code,
            default_uom=unit,
            type=kind,
            salable=True,
            list_price=price,
            account_category=category,
        )
        template.save()
        (product,) = template.products
        products[code] = {"id": product.id, "unit": unit.id, "list_price": str(price), "type": kind}

    location_model = Model.get("stock.location")
    (storage,) = location_model.find([("code", "=", "STO")])
    inventory = Model.get("stock.inventory")(location=storage)
    line = inventory.lines.new(product=Model.get("product.product")(products[GOODS_CODE]["id"]))
    line.quantity = 1_000_000.0
    line.expected_quantity = 0.0
    inventory.click("confirm")

    party = Model.get("party.party")(name="Customer One", code=CUSTOMER_CODE)
    address = party.addresses[0] if party.addresses else party.addresses.new()
    address.street = "1 Main Street"
    address.postal_code = "10001"
    address.city = "Springfield"
    party.customer_payment_term = payment_term
    party.save()

    sale_config = Model.get("sale.configuration")(1)
    sequence = sale_config.sale_sequence
    sequence.prefix = "SO"
    sequence.padding = 5
    sequence.save()

    return {
        "company": company.id,
        "currency": company.currency.id,
        "customer": {"code": CUSTOMER_CODE, "id": party.id, "address": party.addresses[0].id},
        "products": products,
        "payment_method": payment_method.id,
        "payment_term": payment_term.id,
    }


# --------------------------------------------------------------------------
# One server per test
# --------------------------------------------------------------------------


@dataclass
class TrytonServer:
    """A ``trytond`` process on a private copy of the template database.

    Attributes used by tests: :attr:`url`, :attr:`database`, :attr:`login`,
    :attr:`password`, :attr:`port`; methods :meth:`start`, :meth:`stop`,
    :meth:`client`, :meth:`create_sale`, :meth:`sale_state`.
    """

    template: TrytonTemplate
    workdir: Path
    port: int = 0
    start_seconds: float = 0.0
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _admin: TrytonClient | None = field(default=None, init=False, repr=False)
    _clients: list[TrytonClient] = field(default_factory=list, init=False, repr=False)
    _refs: Iterator[int] = field(default_factory=lambda: itertools.count(1), init=False, repr=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.template.file, self.db_file)
        if not self.port:
            self.port = free_port()

    # -- connection facts --------------------------------------------------

    @property
    def database(self) -> str:
        return self.template.database

    @property
    def login(self) -> str:
        return self.template.login

    @property
    def password(self) -> str:
        return self.template.password

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_file(self) -> Path:
        return self.workdir / f"{self.template.database}.sqlite"

    @property
    def config_file(self) -> Path:
        return self.workdir / "trytond.conf"

    @property
    def log_file(self) -> Path:
        return self.workdir / "trytond.log"

    @property
    def data(self) -> Mapping[str, Any]:
        """Ids created by the set-up (company, customer, products, ...)."""
        return self.template.data

    # -- process -----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start ``trytond`` (same port and database file as before) and wait until it answers."""
        if self.running:
            return
        write_config(self.config_file, self.workdir, self.port, worker=True)
        started = time.monotonic()
        deadline = started + timeout
        while True:
            self._spawn()
            if self._wait_ready(deadline):
                self.start_seconds = time.monotonic() - started
                return
            # The port may still be held by the previous process for a moment.
            address_in_use = "Address already in use" in _tail(self.log_file, 20)
            self._kill()
            if not address_in_use or time.monotonic() >= deadline:
                raise TrytonHarnessError(
                    f"trytond did not start on {self.url} (database {self.db_file}):\n{_tail(self.log_file)}"
                )
            time.sleep(0.3)

    def _spawn(self) -> None:
        cmd = [str(venv_bin("trytond")), "-c", str(self.config_file), "-d", self.database]
        with self.log_file.open("a") as log:
            log.write(f"$ {' '.join(cmd)}\n")
            log.flush()
            try:
                self._process = subprocess.Popen(
                    cmd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=_clean_env(),
                    cwd=self.workdir,
                    start_new_session=True,
                )
            except OSError as exc:
                raise TrytonHarnessError(f"cannot run {cmd[0]}: {exc}") from exc

    def _wait_ready(self, deadline: float) -> bool:
        body = {"id": 0, "method": "common.server.version", "params": []}
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self._process is None or self._process.poll() is not None:
                    return False
                with contextlib.suppress(httpx.HTTPError):
                    if http.post(f"{self.url}/rpc/", json=body).status_code == 200:
                        return True
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop ``trytond`` (SIGTERM, then SIGKILL); the database file stays."""
        self._kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _kill(self) -> None:
        proc, self._process = self._process, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def close(self) -> None:
        """Stop the server and close the clients made by :meth:`client`."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        self._kill()

    # -- clients -----------------------------------------------------------

    def client(self, **kwargs: Any) -> TrytonClient:
        """A new :class:`TrytonClient` for the admin user (closed at teardown)."""
        client = TrytonClient(self.url, self.database, self.login, self.password, **kwargs)
        self._clients.append(client)
        return client

    @property
    def admin(self) -> TrytonClient:
        """The harness's own client (company in context, so it can create records)."""
        if self._admin is None:
            self._admin = TrytonClient(
                self.url,
                self.database,
                self.login,
                self.password,
                timeout=30.0,
                context={"company": self.data["company"]},
            )
        return self._admin

    # -- sales ---------------------------------------------------------------

    def create_sale(
        self,
        state: str = "quotation",
        reference: str | None = None,
        lines: Sequence[Mapping[str, Any]] | None = None,
        *,
        party_code: str = CUSTOMER_CODE,
    ) -> dict[str, Any]:
        """Create a sale and bring it to ``state``; return ``id, number, reference, state``.

        :param state: one of :data:`SALE_STATES`.
        :param reference: the sale's reference (the web order number);
            ``None`` for a fresh ``WEB-nnnnn``.
        :param lines: ``[{"product": "WIDGET", "quantity": 2, "unit_price": Decimal("10")}]``
            (``product`` is a product code, ``WIDGET`` (goods) or ``SUPPORT``
            (service); ``unit_price`` defaults to the list price).

        How each state is reached (all through JSON-RPC):
        draft = create; quotation = ``quote`` (a number is given);
        confirmed = ``quote``, ``confirm`` (the processing task stays queued);
        processing = ... ``process`` (invoice and shipment are created);
        done = ... shipments ``assign_try``/``pick``/``pack``/``do``, invoices
        ``post``/``process``, pay wizard, invoice ``process``, sale ``process``;
        cancelled = ``quote``, ``cancel``.
        """
        if state not in SALE_STATES:
            raise ValueError(f"unknown sale state {state!r}; expected one of {SALE_STATES}")
        if reference is None:
            reference = f"WEB-{next(self._refs):05d}"
        if lines is None:
            lines = [{"product": GOODS_CODE, "quantity": 2}]
        customer = self.data["customer"]
        if party_code != customer["code"]:
            party_id, address_id = self._party(party_code)
        else:
            party_id, address_id = customer["id"], customer["address"]

        line_values = []
        for line in lines:
            product = self.data["products"][line["product"]]
            line_values.append(
                {
                    "product": product["id"],
                    "unit": product["unit"],
                    "quantity": float(line.get("quantity", 1)),
                    "unit_price": Decimal(str(line.get("unit_price", product["list_price"]))),
                }
            )
        admin = self.admin
        (sale_id,) = admin.call(
            "model.sale.sale.create",
            [
                {
                    "party": party_id,
                    "invoice_address": address_id,
                    "shipment_address": address_id,
                    "reference": reference,
                    "lines": [["create", line_values]],
                }
            ],
        )
        sale = "model.sale.sale."
        if state != "draft":
            admin.call(sale + "quote", [sale_id])
        if state == "cancelled":
            admin.call(sale + "cancel", [sale_id])
        if state in ("confirmed", "processing", "done"):
            admin.call(sale + "confirm", [sale_id])
        if state in ("processing", "done"):
            admin.call(sale + "process", [sale_id])
        if state == "done":
            self._complete(sale_id)

        (result,) = admin.sales_read([sale_id], ["id", "number", "reference", "state"])
        if result["state"] != state:
            raise TrytonHarnessError(f"sale {result} did not reach state {state!r}")
        return result

    def sale_advance(self, sale_id: int, state: str) -> dict[str, Any]:
        """Move an existing sale on to ``state`` the way :meth:`create_sale` gets there.

        Forward along draft → quotation → confirmed → processing → done, or to
        ``cancelled`` from draft or quotation (what happens in Tryton while
        Countermand is not looking).  Returns ``id, number, reference, state``.
        """
        path = ("draft", "quotation", "confirmed", "processing", "done")
        current = self.sale_state(sale_id)
        admin = self.admin
        sale = "model.sale.sale."
        if state == "cancelled":
            if current == "draft":
                admin.call(sale + "quote", [sale_id])
            admin.call(sale + "cancel", [sale_id])
        elif state in path and current in path and path.index(state) >= path.index(current):
            for step in path[path.index(current) + 1 : path.index(state) + 1]:
                if step == "quotation":
                    admin.call(sale + "quote", [sale_id])
                elif step == "confirmed":
                    admin.call(sale + "confirm", [sale_id])
                elif step == "processing":
                    admin.call(sale + "process", [sale_id])
                else:
                    self._complete(sale_id)
        else:
            raise ValueError(f"cannot move a {current} sale to {state!r}")
        result = self.sale(sale_id)
        if result["state"] != state:
            raise TrytonHarnessError(f"sale {result} did not reach state {state!r}")
        return result

    def _party(self, code: str) -> tuple[int, int]:
        found = self.admin.call("model.party.party.search_read", [["code", "=", code]], 0, 1, None, ["addresses"])
        if not found:
            (party_id,) = self.admin.call(
                "model.party.party.create",
                [{"name": f"Customer {code}", "code": code, "addresses": [["create", [{"street": "2 Side St"}]]]}],
            )
            found = self.admin.call("model.party.party.read", [party_id], ["addresses"])
        return int(found[0]["id"]), int(found[0]["addresses"][0])

    def _complete(self, sale_id: int) -> None:
        """Ship and invoice-and-pay a ``processing`` sale, then process it to ``done``."""
        admin = self.admin
        (sale,) = admin.sales_read([sale_id], ["shipments", "invoices"])
        shipments = sale["shipments"]
        if shipments:
            for button in ("assign_try", "pick", "pack", "do"):
                admin.call(f"model.stock.shipment.out.{button}", shipments)
        for invoice_id in sale["invoices"]:
            admin.call("model.account.invoice.post", [invoice_id])
            # Creates the accounting move (queued by ``post``).
            admin.call("model.account.invoice.process", [invoice_id])
            self._pay_invoice(invoice_id)
            # Marks the invoice paid (queued after the reconciliation).
            admin.call("model.account.invoice.process", [invoice_id])
        admin.call("model.sale.sale.process", [sale_id])

    def _pay_invoice(self, invoice_id: int) -> None:
        admin = self.admin
        wizard = "wizard.account.invoice.pay."
        context = {"active_model": "account.invoice", "active_id": invoice_id, "active_ids": [invoice_id]}
        session_id, _start, _end = admin.call(wizard + "create")
        try:
            view = admin.call(wizard + "execute", session_id, {}, "start", context=context)
            values = {k: v for k, v in view["view"]["defaults"].items() if not k.endswith(".")}
            values["payment_method"] = self.data["payment_method"]
            admin.call(wizard + "execute", session_id, {"start": values}, "choice", context=context)
        finally:
            admin.call(wizard + "delete", session_id)

    def sale_state(self, sale_id: int) -> str:
        """The sale's current state, read from Tryton."""
        (sale,) = self.admin.sales_read([sale_id], ["state"])
        return str(sale["state"])

    def sale(self, sale_id: int, fields: Sequence[str] = ("id", "number", "reference", "state")) -> dict[str, Any]:
        (sale,) = self.admin.sales_read([sale_id], list(fields))
        return sale


@contextlib.contextmanager
def running_server(template: TrytonTemplate, workdir: Path) -> Iterator[TrytonServer]:
    """Start a server on a copy of ``template``; stop it on exit."""
    server = TrytonServer(template, workdir)
    try:
        server.start()
        yield server
    finally:
        server.close()


# --------------------------------------------------------------------------
# Command line: ``setup`` (used by build_template) and ``serve``
# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("setup", help="create the sale set-up data (proteus)")
    setup.add_argument("--config", required=True)
    setup.add_argument("--database", required=True)
    setup.add_argument("--output", required=True)
    serve = commands.add_parser("serve", help="build a database and run a server until interrupted")
    serve.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    if args.command == "setup":
        data = setup_database(args.config, args.database)
        Path(args.output).write_text(json.dumps(data))
        return 0

    with tempfile.TemporaryDirectory(prefix="tryton-") as tmp:
        template = build_template(Path(tmp) / "template")
        server = TrytonServer(template, Path(tmp) / "server", port=args.port)
        try:
            server.start()
            print(f"Tryton at {server.url} database={server.database} login={server.login} password={server.password}")
            with contextlib.suppress(KeyboardInterrupt):
                while server.running:
                    time.sleep(1)
        finally:
            server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
