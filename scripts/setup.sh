#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and builds ovllm in build/ (Release).
#   - installs the apt packages (as root, or with sudo),
#   - creates .venv with the pinned OpenVINO wheel (requirements.txt),
#   - builds xgrammar's C++ core from its pinned source release (scripts/build_xgrammar.sh),
#   - configures and builds with CMake + Ninja.
# Re-running is cheap: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build ccache pkg-config python3-venv git
  nlohmann-json3-dev libcpp-httplib-dev libmicrohttpd-dev libcli11-dev libfmt-dev libspdlog-dev
  libpcre2-dev libutf8proc-dev libgtest-dev libgmock-dev libbenchmark-dev
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev
  libcurl4-openssl-dev libssl-dev ca-certificates)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "[setup] apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import openvino" 2>/dev/null ||
   ! cmp -s requirements.txt .venv/.requirements-installed; then
  echo "[setup] pip install -r requirements.txt"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/.requirements-installed
fi

bash scripts/build_xgrammar.sh

BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "[setup] built $BUILD_DIR/ovllm"
