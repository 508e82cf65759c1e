#!/usr/bin/env bash
# Make a git repository whose commits are consecutive llama.cpp trees, as vendored by the
# llama-cpp-python sdists on PyPI (0.3.29 ... 0.3.36, June to October 2026), one commit per sdist,
# dated by its upload and named by the upstream commit its CHANGELOG gives. llama.cpp's own history
# cannot be reached from every machine; this gives `tokbench build`, `compare --src` and `bisect`
# a real history of real trees to work on. The models/ folder (vocabularies, ~75 MB a tree) and the
# docs are left out: no build needs them.
#
# Usage: scripts/vendored-history.sh DIR      DIR must not exist; prints DIR's log when done.
# Needs git, curl, tar. Downloads about 560 MB into <cache>/downloads (kept).
# Environment: TOKBENCH_CACHE_DIR.
set -euo pipefail

PYPI_FILES=https://files.pythonhosted.org/packages
# llama-cpp-python version | upstream llama.cpp commit (its CHANGELOG) | upload date | url path | sha256
SNAPSHOTS="
0.3.29|f05cf4676|2026-06-13|83/0f/8e03877aa9ea79890cf64f6d12d47f4daced663d0dd6abe482fe6483e7e6|21122165951bdc25ba27c0483a2f44082c860d89422945548c64df08b6029ce4
0.3.30|e3a74b299|2026-06-16|1e/45/2bca210df9ab2403efbd20316b6f53a2c322fd71a313d8bf090e2ee148e4|798c9b42652d2e0bff5fe81e7e762089f425a99e67f66ffe5ae156957876e0d1
0.3.31|f449e0553|2026-06-20|e1/17/16fa56a288d66cc6c00f791c8f5af0acd5dbf8005be9e875da670b51652d|c3fd23b2c7197770321020a89f23c6515a366511dce4fcda1e81cfb749267a94
0.3.32|b3fed31b9|2026-06-29|18/c8/3eb9c10c138eaa9d6148471701476169322eafbd825fdc13ec326552b516|b06502361770f82eb08b7f1a192eb084b9ead2b88fe32cda8c397a2782eabde6
0.3.33|78d2f5246|2026-07-05|ad/5c/ca0eb0a3cd91918620dbcbefe46ef90335f75c62be8198a9e93fd2b9bb0f|369ba03d02caaef42c1ed07bbdc454f7436e47c7675b8b9757fa13fbac6acd92
0.3.34|e3546c794|2026-07-12|c1/2f/46487e949da42b31847853793ddbfd44c7414e94d4364c9a41f91f30af27|d849d286d808284f1d3ec1bd6875572430d29d1f9574a010232caa4e9cef0e35
0.3.35|4df29be4f|2026-08-17|1a/71/5ecdad726b87527b361d9d95313c6591f27bb3fad79c9ab524ad4250b4c9|1139dbb54509074b70893fab8554e3b079aa9f4d312058ce4018ef0019e3de12
0.3.36|0c1e57098|2026-10-01|ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3|832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
"

DEST=${1:?usage: scripts/vendored-history.sh DIR}
[ -e "$DEST" ] && { echo "vendored-history: $DEST exists: give a new directory" >&2; exit 2; }
CACHE=${TOKBENCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tokbench}
mkdir -p "$CACHE/downloads"
sha256_of() { if command -v sha256sum >/dev/null; then sha256sum "$1" | awk '{print $1}'; else shasum -a 256 "$1" | awk '{print $1}'; fi; }

# fetch <url> <dest> <sha256>
fetch() {
    local url=$1 dest=$2 want=$3
    if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$want" ]; then return 0; fi
    echo "downloading $url" >&2
    curl -fL --retry 3 -sS -o "$dest.partial" "$url"
    [ "$(sha256_of "$dest.partial")" = "$want" ] || { rm -f "$dest.partial"; echo "checksum mismatch: $url" >&2; exit 1; }
    mv -f "$dest.partial" "$dest"
}

git init -q -b master "$DEST"
git -C "$DEST" config user.name "vendored-history"
git -C "$DEST" config user.email "vendored-history@localhost"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
for row in $SNAPSHOTS; do
    IFS='|' read -r ver commit date path sha <<<"$row"
    sdist=$CACHE/downloads/llama_cpp_python-$ver.tar.gz
    fetch "$PYPI_FILES/$path/llama_cpp_python-$ver.tar.gz" "$sdist" "$sha"
    rm -rf "$WORK/x" && mkdir -p "$WORK/x"
    tar xzf "$sdist" -C "$WORK/x" "llama_cpp_python-$ver/vendor/llama.cpp"
    find "$DEST" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
    (cd "$WORK/x/llama_cpp_python-$ver/vendor/llama.cpp" && rm -rf models docs media .git && tar cf - .) | tar xf - -C "$DEST"
    git -C "$DEST" add -A -f
    GIT_AUTHOR_DATE="${date}T12:00:00Z" GIT_COMMITTER_DATE="${date}T12:00:00Z" \
        git -C "$DEST" commit -q -m "llama.cpp $commit (vendored by llama-cpp-python $ver)"
    git -C "$DEST" tag "v$ver"
done
git -C "$DEST" log --format='%h %ad %s' --date=short
