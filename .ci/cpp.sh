#!/usr/bin/env bash
# CI for the C++ runtime (issue #15): system packages, configure, build, ctest, and the TensorRT
# backend compiled against every header set in ../shared/third_party/tensorrt/ (no TensorRT library
# exists here: those builds compile, they do not link or run).
#
# Run from anywhere, after `.venv` exists with fcn_trt installed (`.ci/run` creates it):
#   .ci/cpp.sh
# Environment: FCN_TRT_SHARED (default ../shared/third_party), JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SHARED="${FCN_TRT_SHARED:-$ROOT/../shared/third_party}"
JOBS="${JOBS:-$(nproc)}"
PY="$ROOT/.venv/bin/python"
BUILD="$ROOT/build/cpp"
log() { printf '== %s\n' "$*"; }

[ -x "$PY" ] || { echo ".ci/cpp.sh: expected $PY (the project venv), found none. Hint: run .ci/run, or: python3 -m venv .venv && .venv/bin/pip install -e '.[test]'" >&2; exit 2; }
[ -f "$SHARED/onnxruntime/include/onnxruntime_c_api.h" ] || { echo ".ci/cpp.sh: expected the ONNX Runtime C API headers in $SHARED/onnxruntime/include, found none. Hint: set FCN_TRT_SHARED" >&2; exit 2; }

# --- system packages (Debian 12): installed only when missing -------------------------------------
PKGS=(cmake ninja-build g++ libgtest-dev libopencv-dev nlohmann-json3-dev)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- library, sample, tests ----------------------------------------------------------------------
log "configure + build ($BUILD)"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DONNXRUNTIME_INCLUDE_DIR="$SHARED/onnxruntime/include" -DFCN_TRT_PYTHON="$PY" >/dev/null
cmake --build "$BUILD" -j "$JOBS"
log "ctest"
(cd "$BUILD" && ctest --output-on-failure -j "$JOBS")

# --- TensorRT backend: compile checks (headers only) ---------------------------------------------
CUDA_HEADERS="$ROOT/.cache/cuda-headers"
if [ ! -f "$CUDA_HEADERS/nvidia/cuda_nvcc/include/crt/host_defines.h" ]; then
  log "CUDA headers from PyPI -> $CUDA_HEADERS"
  "$PY" -m pip install -q --target "$CUDA_HEADERS" "nvidia-cuda-runtime-cu12==12.9.79" "nvidia-cuda-nvcc-cu12==12.9.86"
fi
CUDA_DIRS="$CUDA_HEADERS/nvidia/cuda_runtime/include;$CUDA_HEADERS/nvidia/cuda_nvcc/include"
checked=0
for inc in "$SHARED"/tensorrt/*/include; do
  v="$(basename "$(dirname "$inc")")"
  log "TensorRT $v: compile src/trt_backend.cpp (-Werror)"
  cmake -S "$ROOT" -B "$ROOT/build/trt-$v" -G Ninja -DFCN_TRT_BUILD_TESTS=OFF -DFCN_TRT_BUILD_SAMPLES=OFF \
    -DONNXRUNTIME_INCLUDE_DIR="$SHARED/onnxruntime/include" \
    -DFCN_TRT_TENSORRT_COMPILE_ONLY=ON -DTENSORRT_INCLUDE_DIR="$inc" -DCUDA_INCLUDE_DIRS="$CUDA_DIRS" >/dev/null
  cmake --build "$ROOT/build/trt-$v" --target fcn_trt_tensorrt_check -j "$JOBS"
  checked=$((checked + 1))
done
[ "$checked" -ge 3 ] || { echo ".ci/cpp.sh: expected the TensorRT header sets 8.6.1, 10.3.0 and 11.1 in $SHARED/tensorrt, found $checked" >&2; exit 1; }
log "C++: build, ctest and $checked TensorRT compile checks passed"
