#!/bin/bash
# PostgreSQL alone, in groups of ten as the product writes them: each pgbench transaction runs
# ten deliveries' three writes (submit, claim, record: one statement each, ten rows each) on
# the current schema and on variants of it (BENCHMARKS.md, step 16). synchronous_commit is off
# for these clients only, so the CPU is the limit; simple protocol (each statement parsed and
# planned), the same for every variant. Deliveries/s is ROWS times the tps printed.
# Usage: [ROWS=10] [MODE=simple|prepared] bench/one-row-outbox/run_grouped.sh [server URL]
# (ROWS=40 MODE=prepared gave BENCHMARKS.md's figures for groups of forty; VARIANTS="current lean"
# runs those two only; VARIANTS="current accepted" compares the three writes with the two of a
# delivery sent as it is accepted, its submission leasing its rows: step 17; "accepted
# lean_accepted" prices the lean schema for such deliveries; accepted_attempt_log and
# accepted_one_row price its parts one at a time, accepted_c identifiers in COLLATE "C"
# (migration 6 since): step 18.)
set -euo pipefail
server=${1:-postgres://postgres@127.0.0.1:5432}
rows=${ROWS:-10}
mode=${MODE:-simple}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The scripts as written pass the ids as text (simple protocol); prepared, as one array value.
statements() {
    sed "s/generate_series(1, 10)/generate_series(1, $rows)/" "$here/grouped/$1.sql" |
        if [ "$mode" = prepared ]; then
            sed "s/SELECT string_agg(id::text, ',') AS ids/SELECT '{' || string_agg(id::text, ',') || '}' AS ids/; s/ARRAY\[:ids\]::bigint\[\]/(:ids::bigint[])/g"
        else cat; fi >"$work/$1.sql"
    echo "$work/$1.sql"
}
migrations=$here/../../crates/store/src/postgres/migrations
# variant: the statements, and the schema change on top of the migrations (if any)
declare -A script=([current]=current [no_ordering]=current [one_row]=one_row
                   [fold_attempts]=fold_attempts [lean]=lean [accepted]=accepted
                   [lean_accepted]=lean_accepted [accepted_attempt_log]=accepted_attempt_log
                   [accepted_one_row]=accepted_one_row [accepted_c]=accepted)
declare -A extra=([no_ordering]=grouped/no_ordering_schema.sql [one_row]=one_row_schema.sql
                  [fold_attempts]=grouped/fold_attempts_schema.sql [lean]=grouped/lean_schema.sql
                  [lean_accepted]=grouped/lean_schema.sql
                  [accepted_attempt_log]=grouped/attempt_log_schema.sql
                  [accepted_one_row]=one_row_schema.sql
                  [accepted_c]=grouped/c_collation_schema.sql)
for round in 1 2 3; do
    for variant in ${VARIANTS:-current one_row fold_attempts no_ordering lean}; do
        db=ivrhook_pgbench_$variant
        psql -q "$server/postgres" -c "SET client_min_messages = warning" \
            -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
        cat "$migrations"/000[1-4]_*.sql | psql -q "$server/$db"
        if [ -n "${extra[$variant]:-}" ]; then psql -q "$server/$db" -f "$here/${extra[$variant]}"; fi
        tps=$(PGOPTIONS='-c synchronous_commit=off' pgbench -M "$mode" -n -c 4 -j 2 -T 15 \
            -f "$(statements "${script[$variant]}")" "$server/$db" | grep '^tps')
        echo "round $round, $variant: $tps"
        psql -q "$server/postgres" -c "DROP DATABASE $db"
    done
done
