#!/usr/bin/env bash
# Builds xgrammar's C++ core (the grammar engine behind structured output) from its pinned PyPI
# source release into .deps/xgrammar-<version>/install: static library + headers, no Python.
# Re-running is a no-op once the install stamp matches the pinned version and archive hash.
set -euo pipefail
cd "$(dirname "$0")/.."

XGRAMMAR_VERSION=0.2.8
XGRAMMAR_SHA256=8305646fd2b319d6c3003f51a1665e54cbbe9cba1fb636bc41d0b46434ccbb80
DEPS_DIR=$PWD/.deps
SRC_DIR=$DEPS_DIR/xgrammar-$XGRAMMAR_VERSION
INSTALL_DIR=$SRC_DIR/install
STAMP=$INSTALL_DIR/.built-$XGRAMMAR_SHA256

if [[ -f $STAMP ]]; then
  exit 0
fi
mkdir -p "$DEPS_DIR"
ARCHIVE=$DEPS_DIR/xgrammar-$XGRAMMAR_VERSION.tar.gz
if [[ ! -f $ARCHIVE ]]; then
  echo "[setup] pip download xgrammar==$XGRAMMAR_VERSION (source release)"
  # --no-binary for xgrammar alone: the sdist carries cpp/, include/ and the vendored 3rdparty/.
  PY=${PYTHON_FOR_PIP:-.venv/bin/python}
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary xgrammar \
    "xgrammar==$XGRAMMAR_VERSION" -d "$DEPS_DIR"
fi
echo "$XGRAMMAR_SHA256  $ARCHIVE" | sha256sum -c --quiet - ||
  { echo "[setup] $ARCHIVE: sha256 differs from the pinned one" >&2; exit 1; }
rm -rf "$SRC_DIR"
tar -xzf "$ARCHIVE" -C "$DEPS_DIR"

echo "[setup] building xgrammar $XGRAMMAR_VERSION (C++ core only)"
start=$(date +%s)
# The sdist's cmake/config.cmake turns the Python bindings on (they need tvm_ffi); a config.cmake
# in the build folder is read first, so ours keeps the C++ core alone.
mkdir -p "$SRC_DIR/build"
cat >"$SRC_DIR/build/config.cmake" <<'CFG'
set(XGRAMMAR_BUILD_PYTHON_BINDINGS OFF)
set(XGRAMMAR_BUILD_CXX_TESTS OFF)
set(XGRAMMAR_ENABLE_CPPTRACE OFF)
set(XGRAMMAR_ENABLE_COVERAGE OFF)
set(XGRAMMAR_ENABLE_INTERNAL_CHECK OFF)
CFG
# xgrammar's own flags add -Werror and -flto=auto; ours come after them and win: warnings of a
# newer compiler must not fail the build, and plain objects link without the LTO plugin.
cmake -S "$SRC_DIR" -B "$SRC_DIR/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DXGRAMMAR_BUILD_PYTHON_BINDINGS=OFF -DXGRAMMAR_BUILD_CXX_TESTS=OFF \
  -DCMAKE_CXX_FLAGS="-Wno-error -fno-lto" -DCMAKE_INSTALL_PREFIX="$INSTALL_DIR" >/dev/null
cmake --build "$SRC_DIR/build" -j"$(nproc)"
cmake --install "$SRC_DIR/build" >/dev/null
touch "$STAMP"
echo "[setup] xgrammar built in $(($(date +%s) - start)) s into $INSTALL_DIR"
