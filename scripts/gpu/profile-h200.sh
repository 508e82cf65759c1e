#!/usr/bin/env bash
# tokbench run --profile ncu on the H200: llama-completion, 3 measured runs, then one run under
# Nsight Compute (not counted). Prepared on the CPU machine, meant for the device session.
#
#   scripts/gpu/profile-h200.sh OUT_DIR
#
# Writes into OUT_DIR: run.jsonl (the run records and the "kind": "profile" line), report.txt
# (the report and the kernel summary), stderr.txt, prof/ (ncu's CSV and run-summary.json),
# kernels.txt (tokbench kernels on the saved CSV). Set TOKBENCH to another tokbench binary,
# LLAMA_BIN / MODEL to other paths; ncu must be on PATH.
set -euo pipefail

out=${1:?usage: $0 OUT_DIR}
tokbench=${TOKBENCH:-./target/release/tokbench}
bin=${LLAMA_BIN:-/tmp/llama/llama.cpp/build/bin/llama-completion}
model=${MODEL:-/tmp/models/rand-1b-q4_k_m.gguf}

for f in "$tokbench" "$bin" "$model"; do
    [ -e "$f" ] || { echo "error: '$f' does not exist" >&2; exit 1; }
done
command -v ncu >/dev/null || { echo "error: ncu is not on PATH" >&2; exit 1; }
mkdir -p "$out"

# -n 8 keeps the profiled run short: ncu replays each kernel it profiles, and
# --profile-launch-count 400 bounds it (the prompt pass plus a few tokens).
rc=0
"$tokbench" run --no-history --bin "$bin" -m "$model" --gpu cuda -n 8 --reps 3 --warmup 1 \
    -o "$out/run.jsonl" --profile ncu --profile-dir "$out/prof" --profile-launch-count 400 \
    >"$out/report.txt" 2>"$out/stderr.txt" || rc=$?
echo "tokbench run exited $rc" | tee -a "$out/report.txt"

if [ -f "$out/prof/run-ncu.csv" ]; then
    "$tokbench" kernels "$out/prof/run-ncu.csv" --top 20 >"$out/kernels.txt" 2>&1 || true
fi
cat "$out/report.txt"
exit "$rc"
