"""Tooling for Countermand's own tests and benchmarks, not used by the product at run time.

- `tryton_server`: builds a real Tryton database with the sale module and runs `trytond` on it
  (tests/erp and bench/tryton_cancel.py); needs the `test` extra (trytond, trytond-sale, proteus).
- `pgbouncer`: starts Debian's PgBouncer in transaction pooling mode on a free 127.0.0.1 port in front of a
  PostgreSQL server (the PgBouncer tests and `bench/queue.py --pgbouncer`).
"""
