#!/bin/bash
# PostgreSQL CPU per delivery on the current schema against a one-row outbox (BENCHMARKS.md):
# each pgbench transaction runs one delivery's three writes (submit, claim, record), one row
# per statement, with synchronous_commit off for these clients only so the CPU is the limit.
# Usage: bench/one-row-outbox/run.sh [postgres://postgres@127.0.0.1:5432]
set -euo pipefail
server=${1:-postgres://postgres@127.0.0.1:5432}
here=$(cd "$(dirname "$0")" && pwd)
migrations=$here/../../crates/store/src/postgres/migrations
fresh() {
    psql -q "$server/postgres" -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS ivrhook_pgbench_$1" \
        -c "CREATE DATABASE ivrhook_pgbench_$1"
    cat "$migrations"/000[1-4]_*.sql | psql -q "$server/ivrhook_pgbench_$1"
    if [ "$1" = one_row ]; then psql -q "$server/ivrhook_pgbench_$1" -f "$here/one_row_schema.sql"; fi
}
for round in 1 2 3; do
    for schema in current one_row; do
        fresh $schema
        tps=$(PGOPTIONS='-c synchronous_commit=off' pgbench -n -c 4 -j 2 -T 15 \
            -f "$here/$schema.sql" "$server/ivrhook_pgbench_$schema" | grep '^tps')
        echo "round $round, $schema: $tps"
        psql -q "$server/postgres" -c "DROP DATABASE ivrhook_pgbench_$schema"
    done
done
