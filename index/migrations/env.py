from alembic import context

from index.migrations import run_env

run_env(context)
