#!/bin/bash
# Two builds compared on PostgreSQL, their runs alternating: `sample.sh` on each in turn, N
# pairs, then one line per build with the range and median of each figure, and how many pairs
# each won. This machine's speed drifts by a fifth from one minute to the next, so only runs
# taken in turn are compared (BENCHMARKS.md, "Reading these figures"). PostgreSQL's CPU over
# the nodes' ("pg/nodes") does not drift with the machine: it tells whether a change moved
# the database's share of the work, which deliveries/s alone cannot (step 18).
# Usage: bench/pg-cpu/pairs.sh OLD_BINARY NEW_BINARY [pairs, default 6] [server URL]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=$(realpath "$1")
new=$(realpath "$2")
pairs=${3:-6}
server=${4:-postgres://postgres@127.0.0.1:5432/postgres}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for i in $(seq "$pairs"); do
    for build in old new; do
        bin=$old
        [ "$build" = new ] && bin=$new
        line=$("$here/sample.sh" "$bin" "$server" | tail -1)
        echo "pair $i $build: $line"
        echo "$i $build $line" >>"$log"
    done
done
# "deliveries/s 4192.15; over 35287 deliveries, µs of CPU each: PostgreSQL 184, nodes 151,
#  bench 60, machine 418"
awk '
    { gsub(/[;,]/, "")
      for (f = 1; f <= NF; f++) {
          if ($f == "deliveries/s") v["rate"] = $(f + 1)
          if ($f == "PostgreSQL") v["pg"] = $(f + 1)
          if ($f == "nodes") v["nodes"] = $(f + 1)
          if ($f == "machine") v["machine"] = $(f + 1)
      }
      v["ratio"] = v["nodes"] > 0 ? v["pg"] / v["nodes"] : 0
      for (k in v) { x[$2, k, $1] = v[k] }
      n = $1 }
    function stat(b, k,   i, j, t, a, m) {
        for (i = 1; i <= n; i++) a[i] = x[b, k, i]
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        m = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        return sprintf("%s %.4g–%.4g (median %.4g)", k, a[1], a[n], m)
    }
    END {
        for (i = 1; i <= n; i++) wins += x["new", "rate", i] > x["old", "rate", i]
        split("old new", builds, " ")
        for (b = 1; b <= 2; b++) {
            printf "%s: %s; %s; %s; %s; %s\n", builds[b], stat(builds[b], "rate"),
                stat(builds[b], "pg"), stat(builds[b], "nodes"), stat(builds[b], "machine"),
                stat(builds[b], "ratio")
        }
        printf "new delivered more in %d of %d pairs\n", wins, n
    }' "$log"
