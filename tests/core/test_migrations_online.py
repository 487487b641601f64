"""A release migrates while the previous one still serves: an index added to an existing table is built
without blocking the table's writes (``CREATE INDEX CONCURRENTLY`` on PostgreSQL)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

from apps.core.migration_ops import AddIndexWithoutLocking
from tests.conftest import require_postgres

PROJECT_APPS = {
    "accounts",
    "audit",
    "capture",
    "core",
    "faces",
    "ilive",
    "signing",
    "users",
    "verifications",
    "webhooks",
}


def test_every_index_added_to_an_existing_table_is_built_without_locking_it():
    offenders = []
    for (app, name), migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.items():
        if app not in PROJECT_APPS:
            continue
        created = {op.name.lower() for op in migration.operations if isinstance(op, migrations.CreateModel)}
        for op in migration.operations:
            if type(op) is migrations.AddIndex and op.model_name.lower() not in created:
                offenders.append(f"{app}.{name}: {op.index.name} (use AddIndexWithoutLocking)")
            if isinstance(op, AddIndexWithoutLocking) and migration.atomic:
                offenders.append(f"{app}.{name}: set atomic = False")
    assert offenders == []


@pytest.mark.django_db(transaction=True)  # outside a transaction, as migrate runs a non-atomic migration
def test_on_postgresql_the_sessions_indexes_are_built_concurrently():
    require_postgres()
    for migration in ("0009", "0010", "0011"):
        sql = io.StringIO()
        call_command("sqlmigrate", "capture", migration, stdout=sql)
        assert "CREATE INDEX CONCURRENTLY" in sql.getvalue() and "BEGIN" not in sql.getvalue(), sql.getvalue()
