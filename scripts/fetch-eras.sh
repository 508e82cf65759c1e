#!/usr/bin/env bash
# Build and cache real llama.cpp binaries of three eras (Nov 2023, Jun 2024, Nov 2024) and the small
# random-weight llama model (SentencePiece vocab, 40 MB) that all three load. Used by .ci/run for the
# per-era end-to-end tests (tests/cli.rs, e2e_era_*). About 3 minutes on 2 cores for all three, once.
#
# Usage: scripts/fetch-eras.sh      prints, on stdout, two lines to export:
#   TOKBENCH_ERAS_DIR=<cache>       holding legacy-<commit>/build/bin/<tool> for each era
#   TOKBENCH_ERAS_MODEL=<path>      the model
# Needs cmake, a C++ compiler, make or ninja, curl (or python3) and python3 with pip (numpy is
# installed into the cache, not system-wide). Environment: TOKBENCH_CACHE_DIR, TOKBENCH_JOBS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYPI_FILES=https://files.pythonhosted.org/packages
# llama-cpp-python version | llama.cpp commit | tool | url path below $PYPI_FILES | sdist sha256
ERAS="
0.2.20|b38a16d|main|f0/6a/3e161b68097fe2f9901e01dc7ec2afb4753699495004a37d2abdc3b1fd07|a0ada1cb800ba4da60ea6ac4f7264b687a35412374e5af2c92e5b22852cdbafb
0.2.79|9c77ec1|llama-cli|b6/f2/cb93a90e0d4fdb9eeb3a1d20bdc22b3ff59e7ab303a9634b8a6bef82d3cb|19406225a37d816dc2fb911ba8e3ff2a48880dd79754820c55ed85ebc8238da4
0.3.2|74d73dc|llama-cli|5f/0e/ff129005a33b955088fc7e4ecb57e5500b604fb97eca55ce8688dbe59680|8fbf246a55a999f45015ed0d48f91b4ae04ae959827fac1cd6ac6ec65aed2e2f
"
# The model is written with the gguf-py and vocab of the pinned tree (older gguf-py lacks what
# gen_tiny_model.py uses); its sdist pin is read from quickstart.sh so that there is one pin.
eval "$(grep -E '^(LLAMA_COMMIT|SDIST_NAME|SDIST_URL|SDIST_SHA256|SDIST_LLAMA_DIR)=' "$ROOT/scripts/quickstart.sh")"
MODEL_ARGS="--dim 256 --layers 4 --ffn 768 --heads 4 --kv-heads 4 --ctx 2048"
# The weights come from a seeded generator: the same bytes each time (seen with numpy 2.4.6).
MODEL_SHA256=6405f42b3ad25cb9dc4068c17ebce8ddd209b77fa296883f98c97f3ffd86eb85

exec 3>&1 1>&2
START=$SECONDS
log() { printf '[fetch-eras +%ss] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf '\nfetch-eras: error: %s\n' "$1"; shift; local h; for h in "$@"; do printf '  -> %s\n' "$h"; done; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
sha256_of() { if have sha256sum; then sha256sum "$1" | awk '{print $1}'; else shasum -a 256 "$1" | awk '{print $1}'; fi; }

CACHE=${TOKBENCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tokbench}
JOBS=${TOKBENCH_JOBS:-$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)}
mkdir -p "$CACHE/downloads" "$CACHE/models"

# download <url> <dest> <sha256>
download() {
    local url=$1 dest=$2 want=$3 got
    if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$want" ]; then return 0; fi
    log "downloading $url"
    if have curl; then
        curl -fL --retry 3 --connect-timeout 30 -sS -o "$dest.partial" "$url" || die "download failed: $url" "check your network and retry"
    else
        python3 -c 'import sys, urllib.request, shutil
with urllib.request.urlopen(sys.argv[1], timeout=60) as r, open(sys.argv[2], "wb") as f:
    shutil.copyfileobj(r, f, 1 << 20)' "$url" "$dest.partial" || die "download failed: $url" "check your network and retry"
    fi
    got=$(sha256_of "$dest.partial")
    [ "$got" = "$want" ] || { rm -f "$dest.partial"; die "checksum mismatch for $dest: expected $want, got $got" "retry"; }
    mv -f "$dest.partial" "$dest"
}

# build_era <version> <commit> <tool> <url path> <sha256>
build_era() {
    local ver=$1 commit=$2 tool=$3 path=$4 sha=$5
    local dir=$CACHE/legacy-$commit sdist=llama_cpp_python-$ver.tar.gz
    [ -f "$dir/build-complete" ] && [ -x "$dir/build/bin/$tool" ] && { log "have $tool of $commit"; return 0; }
    have cmake || die "cmake is needed to build llama.cpp $commit but was not found" "install it: apt-get install cmake (or pip install cmake)"
    download "$PYPI_FILES/$path/$sdist" "$CACHE/downloads/$sdist" "$sha"
    rm -rf "$dir" && mkdir -p "$dir/unpack"
    tar xzf "$CACHE/downloads/$sdist" -C "$dir/unpack" "llama_cpp_python-$ver/vendor/llama.cpp"
    mv "$dir/unpack/llama_cpp_python-$ver/vendor/llama.cpp" "$dir/src" && rm -rf "$dir/unpack" "$dir/src/.git"
    local t0=$SECONDS
    log "building $tool of llama.cpp $commit (llama-cpp-python $ver sdist) with $JOBS jobs"
    # The sdist ships common/build-info.cpp naming its commit; keep git from replacing it.
    GIT_CEILING_DIRECTORIES=$dir cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_CURL=OFF >"$dir/configure.log" 2>&1 ||
        die "configuring llama.cpp $commit failed" "see $dir/configure.log"
    GIT_CEILING_DIRECTORIES=$dir cmake --build "$dir/build" --config Release -j "$JOBS" --target "$tool" \
        >"$dir/build.log" 2>&1 || die "building $tool of llama.cpp $commit failed" "see $dir/build.log"
    [ -x "$dir/build/bin/$tool" ] || die "the build finished but $dir/build/bin/$tool is missing" "see $dir/build.log"
    printf 'llama.cpp %s\nsdist %s %s\nbuilt in %ss\n' "$commit" "$sdist" "$sha" "$((SECONDS - t0))" >"$dir/build-complete"
    log "built $tool of $commit in $((SECONDS - t0))s"
}

make_model() {
    local out=$CACHE/models/tiny-spm-f16.gguf
    [ -s "$out" ] && { log "have $out"; return 0; }
    local src=$CACHE/llama.cpp-$LLAMA_COMMIT/src py=$CACHE/eras-python
    if [ ! -f "$src/models/ggml-vocab-llama-spm.gguf" ] || [ ! -d "$src/gguf-py" ]; then
        download "$SDIST_URL" "$CACHE/downloads/$SDIST_NAME" "$SDIST_SHA256"
        src=$CACHE/eras-gguf-py && rm -rf "$src" && mkdir -p "$src"
        tar xzf "$CACHE/downloads/$SDIST_NAME" -C "$src" --strip-components=3 \
            "$SDIST_LLAMA_DIR/gguf-py" "$SDIST_LLAMA_DIR/models/ggml-vocab-llama-spm.gguf"
    fi
    if ! PYTHONPATH=$py python3 -c 'import numpy, yaml' 2>/dev/null; then
        log "installing numpy and pyyaml into $py (for the model writer)"
        python3 -m pip install --quiet --disable-pip-version-check --target "$py" numpy pyyaml ||
            die "could not install numpy into $py" "install it yourself: python3 -m pip install numpy pyyaml"
    fi
    # shellcheck disable=SC2086  # MODEL_ARGS is a word list
    PYTHONPATH=$py:$src/gguf-py python3 "$ROOT/scripts/gen_tiny_model.py" \
        "$src/models/ggml-vocab-llama-spm.gguf" "$out.partial" $MODEL_ARGS || die "writing the model failed"
    mv -f "$out.partial" "$out"
    log "wrote $out ($(wc -c <"$out" | tr -d ' ') bytes)"
    local got
    got=$(sha256_of "$out")
    [ "$got" = "$MODEL_SHA256" ] ||
        log "note: its sha256 is $got, not $MODEL_SHA256 (another numpy draws other random weights; timings are comparable, bytes are not)"
}

while IFS='|' read -r ver commit tool path sha; do
    [ -n "$ver" ] && build_era "$ver" "$commit" "$tool" "$path" "$sha"
done <<<"$ERAS"
make_model
log "done in $((SECONDS - START))s"
printf 'TOKBENCH_ERAS_DIR=%s\nTOKBENCH_ERAS_MODEL=%s\n' "$CACHE" "$CACHE/models/tiny-spm-f16.gguf" >&3
