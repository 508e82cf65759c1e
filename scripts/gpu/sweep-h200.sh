#!/usr/bin/env bash
# The H200 sweeps of issue 12's "Show": the same 12-cell grid
#   --vary "-fa on,off" --vary "-ub 128,512,2048" --vary "-ctk f16,q8_0"
# once through llama-completion (metric eval_tps) and once through llama-bench
# (metric tg128; llama-bench spells flash attention 1/0), with nvidia-smi and
# /proc sampling, so the two can be compared in cost (wall time, runs) and in
# conclusions (best, tied group, recommendation). Each sweep writes its table,
# json (for `plot sweep`), every run (-o) and the stderr progress under OUT.
#
# usage: scripts/gpu/sweep-h200.sh OUT
#   LLAMA_BIN   llama.cpp build/bin    (default /tmp/llama/llama.cpp/build/bin)
#   MODEL       GGUF model             (default /tmp/models/rand-1b-q4_k_m.gguf)
#   TOKBENCH    tokbench binary        (default target/release/tokbench, else tokbench on PATH)
#   MAX_TIME    budget of each sweep   (default 10m)
#   SEED        order seed             (default 12)
#   ONLY        completion|bench       (default: both, one after the other)
set -euo pipefail

out=${1:?usage: $0 OUT (a directory for the outputs)}
bin=${LLAMA_BIN:-/tmp/llama/llama.cpp/build/bin}
model=${MODEL:-/tmp/models/rand-1b-q4_k_m.gguf}
max_time=${MAX_TIME:-10m}
seed=${SEED:-12}
only=${ONLY:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
tokbench=${TOKBENCH:-$root/target/release/tokbench}
[ -x "$tokbench" ] || tokbench=$(command -v tokbench) || {
    echo "error: no tokbench: build it (cargo build --release) or set TOKBENCH" >&2
    exit 1
}
for f in "$bin/llama-completion" "$bin/llama-bench" "$model"; do
    [ -e "$f" ] || { echo "error: '$f' not found: set LLAMA_BIN / MODEL" >&2; exit 1; }
done
mkdir -p "$out"
db="$out/history.sqlite"
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    "$bin/llama-completion" --version 2>&1 | head -n 4 || true
    echo "model: $model"
    echo "tokbench: $("$tokbench" --version)"
} >"$out/machine.txt"

# sweep NAME BINARY METRIC FA_VALUES [fixed args...]
sweep() {
    local name=$1 binary=$2 metric=$3 fa=$4
    shift 4
    local common=(sweep --db "$db" --bin "$binary" -m "$model" --gpu cuda
        --vary "-fa $fa" --vary "-ub 128,512,2048" --vary "-ctk f16,q8_0"
        --metric "$metric" --max-time "$max_time" --order-seed "$seed"
        --sampler nvidia-smi,proc --label "$name")
    "$tokbench" "${common[@]}" --dry-run -- "$@" >"$out/$name.cells.txt"
    local start=$SECONDS rc=0
    "$tokbench" "${common[@]}" --format json -o "$out/$name.runs.jsonl" -- "$@" \
        >"$out/$name.json" 2>"$out/$name.stderr.txt" || rc=$?
    echo "$name: exit $rc, $((SECONDS - start)) s wall" | tee -a "$out/summary.txt"
    # The same result as a table and markdown, from the json (no re-run).
    "$tokbench" plot sweep "$out/$name.json" -o "$out/$name.svg" || true
    # The ranked rows, groups and recommendation, from the json.
    python3 - "$out/$name.json" >>"$out/summary.txt" <<'PY' || true
import json, sys
r = json.load(open(sys.argv[1]))
def f(v, fmt):
    return "-" if v is None else format(v, fmt)
for row in r["rows"]:
    st = row["status"] + (f" r{row['round']}" if "round" in row else "")
    mem = f(row.get("gpu_mem_bytes") and row["gpu_mem_bytes"] / 2**20, ".0f")
    print(f"  {row['cell']:<28} {f(row['median'], '.2f'):>9} {f(row['change_pct'], '+.2f'):>8}% "
          f"[{f(row['change_ci_low_pct'], '+.2f')}, {f(row['change_ci_high_pct'], '+.2f')}] "
          f"rounds={row['rounds']:<3} {st:<14} gpu_mem={mem} MiB j/tok={f(row.get('j_per_token'), '.4f')}")
print(f"  rounds={r['rounds']} runs={r['runs']} without_racing={r['runs_without_racing']} "
      f"looks_taken={r.get('looks_taken')} stop={r['stop']}")
print(f"  tied={r['tied_group']} pareto={r['pareto']}")
rec = r.get("recommendation") or {}
print(f"  recommendation: {rec.get('completion')}")
print(f"  recommendation (llama-server): {rec.get('server')}")
PY
}

# llama-completion: 128 generated tokens after the built-in ~500-token prompt.
[ "$only" = bench ] || sweep completion "$bin/llama-completion" eval_tps on,off -n 128
# llama-bench: one invocation per cell and round (-r 1 from the sweep), raced on
# tg128 (pp512 measured too).
[ "$only" = completion ] || sweep bench "$bin/llama-bench" tg128 1,0 -p 512 -n 128

echo "outputs in $out:"
ls -l "$out"
cat "$out/summary.txt"
