"""Migration operations that keep a live database writable while they run.

The Procfile's release phase migrates while the previous release still serves: a plain
``AddIndex`` on PostgreSQL (``CREATE INDEX``) blocks every write to the table until the index
is built, which on a table of millions of sessions stops session creation and verdicts for
the whole build. ``AddIndexWithoutLocking`` builds it with ``CREATE INDEX CONCURRENTLY``
there (writes go on; the build takes longer) and is a plain ``AddIndex`` elsewhere (SQLite,
the embedded default). A migration using it must set ``atomic = False``: PostgreSQL refuses a
concurrent build inside a transaction. If a concurrent build fails it leaves an invalid index
behind; drop it (``DROP INDEX CONCURRENTLY name``) before migrating again.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class AddIndexWithoutLocking(AddIndexConcurrently):
    """Django's ``AddIndexConcurrently`` on PostgreSQL, its plain ``AddIndex`` on any other database."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        _operation(schema_editor).database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        _operation(schema_editor).database_backwards(self, app_label, schema_editor, from_state, to_state)


def _operation(schema_editor: Any) -> type[migrations.AddIndex]:
    return AddIndexConcurrently if schema_editor.connection.vendor == "postgresql" else migrations.AddIndex
