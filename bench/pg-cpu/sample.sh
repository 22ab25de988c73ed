#!/bin/bash
# CPU per delivery by process group during `bench deliver --nodes 2` on PostgreSQL: samples
# /proc once a second (PostgreSQL's processes, the `ivrhook serve` nodes, the bench's own
# process with its load generator and test receiver, the whole machine) and the nodes'
# delivered counters from their /metrics, and prints the per-delivery CPU between the first
# and the seventh sample, inside the 10 s capacity phase (BENCHMARKS.md, steps 17 and 18).
# Usage: bench/pg-cpu/sample.sh target/release/ivrhook [server URL]
set -euo pipefail
bin=$(realpath "$1")
server=${2:-postgres://postgres@127.0.0.1:5432/postgres}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" bench deliver --nodes 2 --duration 10s --database "$server" >"$out" 2>&1 &
bench=$!
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true; done | awk '{s += $1} END {print s + 0}'; }
sleep 1.5
declare -a pg nodes bench_cpu busy delivered
ports=""
for t in 1 2 3 4 5 6 7; do
    [ -n "$ports" ] || ports=$(ss -ltnp | grep "pid=" | grep -v "pid=$bench," | grep "\"$(basename "$bin")\"" |
        grep -o '127.0.0.1:[0-9]*' | cut -d: -f2 | tr '\n' ' ')
    pg[t]=$(ticks $(pgrep -x postgres))
    nodes[t]=$(ticks $(pgrep -f "$bin serve"))
    bench_cpu[t]=$(ticks "$bench")
    busy[t]=$(head -1 /proc/stat | awk '{print $2 + $3 + $4 + $7 + $8}')
    d=0
    for p in $ports; do
        v=$(curl -s --max-time 1 "127.0.0.1:$p/metrics" | awk '/outcome="delivered"/ {print $2}')
        d=$((d + ${v:-0}))
    done
    delivered[t]=$d
    sleep 1
done
wait "$bench"
n=$((delivered[7] - delivered[1]))
us() { echo $(( ($2 - $1) * 10000 / n )); } # ticks are 10 ms
echo "deliveries/s $(awk '/^  deliveries_per_sec/ {print $2}' "$out"); over $n deliveries, µs of CPU each:" \
    "PostgreSQL $(us "${pg[1]}" "${pg[7]}"), nodes $(us "${nodes[1]}" "${nodes[7]}")," \
    "bench $(us "${bench_cpu[1]}" "${bench_cpu[7]}")," \
    "machine $(us "${busy[1]}" "${busy[7]}")"
