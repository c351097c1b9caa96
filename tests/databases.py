"""Throwaway databases for a test session: an SQLite file and a PostgreSQL database of our own.

Each pytest session creates its own PostgreSQL database (and drops it afterwards), so several
sessions can run on one server at once without touching each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

PG_SERVER_URL = os.environ.get("SIGNAAL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_HINT = (
    f"PostgreSQL not reachable at {PG_SERVER_URL}: start it "
    "(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "
    "or set SIGNAAL_TEST_PG_URL to run the PostgreSQL half of the suite"
)


def pg_available() -> bool:
    engine = sa.create_engine(PG_SERVER_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


@contextmanager
def temporary_pg_database() -> Iterator[str]:
    name = f"signaal_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_all_tables(engine: sa.Engine, metadata: sa.MetaData) -> None:
    """Cheaper than recreating the schema between tests, and leaves the migrations' work in place."""
    tables = list(reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
