#!/usr/bin/env bash
# Start a real PostgreSQL from Debian's packages for the storage tests, and
# print the SQLAlchemy URL the tests use. Installs the server when missing.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian's packages..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  pg_createcluster "$version" main >&2
fi
pg_ctlcluster "$version" main start >&2 || true
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
su postgres -c "psql -q -p $port -tc \"SELECT 1 FROM pg_roles WHERE rolname='quotebot'\" | grep -q 1 || psql -q -p $port -c \"CREATE ROLE quotebot LOGIN SUPERUSER PASSWORD 'quotebot'\"" >&2
su postgres -c "psql -q -p $port -tc \"SELECT 1 FROM pg_database WHERE datname='quotebot_test'\" | grep -q 1 || createdb -p $port -O quotebot quotebot_test" >&2
echo "postgresql+psycopg://quotebot:quotebot@127.0.0.1:$port/quotebot_test"
