"""Segment row ids are never reused: SQLite's AUTOINCREMENT (PostgreSQL's sequence never reuses).

Without it SQLite hands a deleted segment's id (the highest) to the next new row, so a search
index built before a re-ingest could show another segment's text under that id. The table is
copied into one declared AUTOINCREMENT; ids are kept, and SQLite starts counting after the
highest one.

Revision ID: 0005
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("segments", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("segments", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
