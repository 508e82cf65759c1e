#!/usr/bin/env bash
# The issue-15 Show on one H200: an A/B verdict between llama-server -np 4
# (A) and -np 16 (B), same model, same total context, the same seeded
# closed-loop load of 16 clients in 6 ABBA pairs of blocks (each block starts
# its side's server, waits for /health, runs, stops it: one server at a time).
#
#   scripts/gpu/serve-h200.sh OUTDIR            # the A/B (about 4 min)
#   scripts/gpu/serve-h200.sh OUTDIR sweep      # a rate sweep of -np 16 with --slo (128 requests a step for a p99; about 6 min)
#
# Environment: TOKBENCH (default ./target/release/tokbench), LLAMA_SERVER
# (default /tmp/llama/llama.cpp/build/bin/llama-server), MODEL (default
# /tmp/models/rand-1b-q4_k_m.gguf). Everything goes under OUTDIR: the -o
# records (one per request, one per block, the serve_ab summary), the
# table and markdown, each block's server log, nvidia-smi samples taken
# every 500 ms over the whole run, and tokbench's stderr.
# Exit status: tokbench's (0 done, 1 error or client behind, 2 usage).
set -euo pipefail

out=${1:?usage: $0 OUTDIR [ab|sweep]}
what=${2:-ab}
tokbench=${TOKBENCH:-./target/release/tokbench}
server=${LLAMA_SERVER:-/tmp/llama/llama.cpp/build/bin/llama-server}
model=${MODEL:-/tmp/models/rand-1b-q4_k_m.gguf}
for f in "$tokbench" "$server"; do
    [ -x "$f" ] || { echo "error: '$f' is not an executable (set TOKBENCH / LLAMA_SERVER)" >&2; exit 2; }
done
[ -f "$model" ] || { echo "error: model '$model' is not a file (set MODEL)" >&2; exit 2; }
mkdir -p "$out"

# 8192 tokens of context for both: 2048 a slot at -np 4, 512 at -np 16,
# enough for the 256-token prompts and 128 generated tokens.
common="-m $model -ngl 99 -c 8192"
"$tokbench" --version > "$out/tokbench-version.txt"
"$server" --version > "$out/server-version.txt" 2>&1 || true
nvidia-smi -q > "$out/nvidia-smi-q.txt" 2>&1 || true

sampler_pid=
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,power.draw,temperature.gpu,clocks.sm \
        --format=csv -lms 500 > "$out/nvidia-smi.csv" 2>/dev/null &
    sampler_pid=$!
fi
stop_sampler() { [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true; }
trap stop_sampler EXIT

load=(--concurrency 16 --requests 64 --warmup 4 --prompt-tokens 256 --max-tokens 128 --seed 42)
rc=0
case "$what" in
ab)
    "$tokbench" serve --no-history \
        --a-server "$server $common -np 4" --b-server "$server $common -np 16" \
        --pairs 6 --metric itl_ms.p50 "${load[@]}" \
        -o "$out/ab.jsonl" --format markdown > "$out/ab.md" 2> "$out/ab.stderr" || rc=$?
    # The same summary as a table, from the JSON record (no second run).
    tail -n 1 "$out/ab.jsonl" > "$out/ab-summary.json" || true
    cat "$out/ab.md"
    ;;
sweep)
    "$tokbench" serve --no-history --server "$server $common -np 16" \
        --rate-sweep --rates 2,4,8,16,32 --trials 2 --arrival poisson \
        --requests 128 --warmup 4 --prompt-tokens 256 --max-tokens 128 \
        --slo "ttft_p99<=1000ms,itl_p99<=50ms" \
        -o "$out/sweep.jsonl" --format markdown > "$out/sweep.md" 2> "$out/sweep.stderr" || rc=$?
    cat "$out/sweep.md"
    "$tokbench" plot serve "$out/sweep.jsonl" -o "$out/sweep.svg" || true
    ;;
*)
    echo "error: '$what' is not 'ab' or 'sweep'" >&2; exit 2 ;;
esac
echo "tokbench exit status: $rc" | tee "$out/exit-status.txt"
exit "$rc"
