#!/usr/bin/env bash
# The prepared GPU check: one run on a machine with an NVIDIA GPU produces the project's GPU numbers.
#
#   benchmarks/gpu_check.sh [--quick] [--out DIR] [--model ONNX] [--skip STEP,...]
#
# DIR defaults to $OUT or ./gpu_check_out; --model replaces the built-in demo model by your own fp32
# pipeline .onnx; --skip names steps not to run (recorded as skipped on request).
#
# Each step is guarded: a step whose prerequisite is missing (no GPU, no TensorRT, no onnxruntime...)
# is recorded as skipped with the reason, a failing step with its exit code and the last log line,
# and the script goes on as far as it can. It always ends with DIR/summary.md and DIR/summary.json
# and exits 0 (the verdicts are in the summary). Logs: DIR/logs/, raw numbers: DIR/raw/, generated
# graphs/engines: DIR/work/ (large; never commit them).
#
# Steps, cheapest and most informative first: environment facts; cuda-python round trip (buffers,
# two streams + events, CUDA graph, bandwidth); demo graphs fp32/fp16/int8; TensorRT engines of
# them (python -m build_engine build), fcn-trt selfcheck, two-frames-in-flight overlap; pytest -m gpu;
# ONNX Runtime numbers; PyTorch canonical FCN-8s reference; canonical-width FCN-8s (demo weights
# widened 8x at run time) graphs, engines and selfcheck; python -m benchmarks.bench_gpu.
# About 10 minutes on an H200/Orin with TensorRT; --quick: the demo model only, fewer frames.
# Python: $PYTHON (default python3), run from the repository root (no install needed).
set -u

QUICK=0
OUT="${OUT:-./gpu_check_out}"
MODEL=""
SKIP=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --out) shift; OUT="${1:?--out needs a folder}" ;;
        --model) shift; MODEL="$(cd "$(dirname "${1:?--model needs an .onnx}")" && pwd)/$(basename "$1")" ;;
        --skip) shift; SKIP=",${1:?--skip needs step names},"; ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "gpu_check.sh: unknown option $1 (use --quick, --out DIR, --model ONNX, --skip STEPS)" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$OUT" || exit 2
OUT="$(cd "$OUT" && pwd)"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT" || exit 2
PY="${PYTHON:-python3}"
mkdir -p "$OUT/raw" "$OUT/logs" "$OUT/work/graphs" "$OUT/work/engines"
WORK="$OUT/work"
STEPS="$OUT/steps.jsonl"
: > "$STEPS"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
QFLAG=""
[ "$QUICK" = 1 ] && QFLAG="--quick"

json_str() {  # a JSON string literal of $1 (quotes, backslashes, control characters escaped)
    printf '"%s"' "$(printf '%s' "$1" | tr '\n\t\r' '   ' | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

record() {  # step status seconds needs reason
    set -- "$1" "$2" "$3" "${4//$OUT\//}" "$5"
    printf '{"step": %s, "status": %s, "seconds": %s, "needs": %s, "reason": %s}\n' \
        "$(json_str "$1")" "$(json_str "$2")" "$3" "$(json_str "$4")" "$(json_str "$5")" >> "$STEPS"
    printf '[gpu_check] %-22s %-8s %4ss  %s\n' "$1" "$2" "$3" "$5"
}

# prerequisite tag -> 1 when present (py below, the others from the env step's raw/env.json)
declare -A HAVE=([py]=0 [gpu]=0 [cuda-python]=0 [trt]=0 [onnx]=0 [ort]=0 [torch-cuda]=0 [pytest]=0 [cv2]=0)
have() {  # prerequisite tag -> 0 when present
    case "$1" in
        file:*) [ -s "${1#file:}" ] ;;
        *) [ "${HAVE[$1]:-0}" = 1 ] ;;
    esac
}
why_missing() {
    case "$1" in
        py) echo "no usable $PY" ;;
        gpu) echo "no GPU: no CUDA device is usable (raw/env.json)" ;;
        cuda-python) echo "no cuda-python CUDA device (raw/env.json: cuda_python_device)" ;;
        trt) echo "no TensorRT: the tensorrt module does not import (raw/env.json: version_tensorrt)" ;;
        onnx) echo "the onnx package is not installed" ;;
        ort) echo "onnxruntime is not installed" ;;
        torch-cuda) echo "PyTorch with CUDA is not available" ;;
        pytest) echo "pytest is not installed" ;;
        cv2) echo "OpenCV (cv2) is not installed" ;;
        file:*) echo "missing input ${1#file:} (an earlier step failed)" ;;
    esac
}

step() {  # name needs(comma-separated) timeout_s command...
    local name="$1" needs="$2" limit="$3"
    shift 3
    local tag
    case "$SKIP" in
        *",$name,"*) record "$name" skipped 0 "$needs" "skipped on request (--skip)"; return 0 ;;
    esac
    while IFS= read -r -d ',' tag; do  # (paths in file: tags may contain spaces)
        [ -z "$tag" ] && continue
        if ! have "$tag"; then
            record "$name" skipped 0 "$needs" "$(why_missing "$tag")"
            return 0
        fi
    done <<< "$needs,"
    local log="$OUT/logs/$name.log" start end rc reason status
    start=$(date +%s)
    echo "\$ $*" > "$log"
    timeout "$limit" "$@" >> "$log" 2>&1
    rc=$?
    end=$(date +%s)
    case "$rc" in
        0) status=ok; reason="$(grep -v '^\s*$' "$log" | tail -n 1)" ;;
        10) status=skipped; reason="$(grep -v '^\s*$' "$log" | tail -n 1)" ;;
        124|137) status=timeout; reason="stopped after ${limit}s" ;;
        *) status=failed; reason="exit $rc: $(grep -v '^\s*$' "$log" | tail -n 1)" ;;
    esac
    record "$name" "$status" "$((end - start))" "$needs" "$reason"
    return 0
}

# --- 1. environment ---------------------------------------------------------------------------------
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi > "$OUT/logs/nvidia-smi.log" 2>&1
    record nvidia-smi "$([ $? = 0 ] && echo ok || echo failed)" 0 "" "full output in logs/nvidia-smi.log"
else
    record nvidia-smi skipped 0 "" "nvidia-smi not found: no NVIDIA driver installed"
fi
if command -v "$PY" >/dev/null 2>&1 && "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 8))' 2>/dev/null; then
    HAVE[py]=1
fi
step env py 120 "$PY" benchmarks/gpu_check.py env --out "$OUT/raw/env.json"
if [ -s "$OUT/raw/env.json" ]; then
    flags=$("$PY" - "$OUT/raw/env.json" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))
keys = [("gpu", "has_gpu"), ("cuda-python", "has_cuda_python_device"), ("trt", "has_tensorrt"),
        ("onnx", "has_onnx"), ("ort", "has_onnxruntime"), ("torch-cuda", "has_torch_cuda"),
        ("pytest", "has_pytest"), ("cv2", "has_cv2")]
print(" ".join("HAVE[%s]=%d" % (k, 1 if e.get(v) else 0) for k, v in keys))
EOF
)
    eval "$flags"
fi

# --- 2. CUDA through cuda-python ----------------------------------------------------------------------
step cuda_roundtrip gpu,cuda-python 180 "$PY" benchmarks/gpu_check.py cuda --out "$OUT/raw/cuda.json" $QFLAG

# --- 3. demo graphs (CPU work) ----------------------------------------------------------------------
G="$WORK/graphs"
DEMO_ONNX="${MODEL:-$ROOT/fcn_trt/models/demo_fcn8s_w8.onnx}"
step demo_fp32 py 30 cp "$DEMO_ONNX" "$G/demo.onnx"
step demo_fp16 onnx,file:"$G/demo.onnx" 300 "$PY" -m build_engine fp16 "$G/demo.onnx" --out "$G/demo.fp16.onnx"
step calib_scenes onnx,cv2 300 "$PY" -m build_engine.cli.make_scenes --out "$WORK/scenes" --count 16 --size 240x320 --no-progress
if [ -d "$WORK/scenes" ]; then
    step demo_int8 ort,file:"$G/demo.onnx" 600 "$PY" -m build_engine quantize "$G/demo.onnx" --calib "$WORK/scenes" \
        --num-frames 16 --no-cache --no-progress --out "$G/demo.int8.onnx"
else  # no OpenCV to write/read scene images: calibrate on synthetic frames through the Python API
    step demo_int8 ort,file:"$G/demo.onnx" 600 "$PY" benchmarks/gpu_check.py quantize "$G/demo.onnx" "$G/demo.int8.onnx"
fi

# --- 4. TensorRT engines of the demo, selfcheck, overlap ---------------------------------------------
E="$WORK/engines"
PROFILE=(--min 1x240x320 --opt 1x480x640 --max 1x720x1280)
for p in fp32 fp16 int8; do
    g="$G/demo.onnx"; [ "$p" != fp32 ] && g="$G/demo.$p.onnx"
    step "build_demo_$p" gpu,trt,file:"$g" 600 "$PY" -m build_engine build "$g" --out "$E/demo.$p.engine" \
        "${PROFILE[@]}" --timing-cache "$E/timing.cache" --no-progress
    step "selfcheck_demo_$p" gpu,trt,file:"$E/demo.$p.engine" 300 "$PY" -m fcn_trt.cli selfcheck "$E/demo.$p.engine" \
        --onnx "$g" --frames "$([ "$QUICK" = 1 ] && echo 8 || echo 32)" --size 480x640
done
step overlap_demo_fp16 gpu,trt,file:"$E/demo.fp16.engine" 300 "$PY" benchmarks/gpu_check.py overlap \
    --engine "$E/demo.fp16.engine" --out "$OUT/raw/overlap.json" $QFLAG

# --- 5. the test suite's GPU tests (they skip, with the reason, where TensorRT is missing) -------------
step pytest_gpu pytest 600 "$PY" -m pytest -m gpu -q -rs -p no:cacheprovider --junitxml="$OUT/raw/pytest_gpu.xml" tests

# --- 6. ONNX Runtime numbers, PyTorch reference --------------------------------------------------------
if [ "$QUICK" = 0 ]; then
    # --- canonical-width FCN-8s: the demo weights widened 8x (Net2WiderNet) at run time ---
    step canon_weights py 300 "$PY" -m build_engine.cli.widen "$ROOT/build_engine/training/demo_fcn8s_w8.npz" --factor 8 \
        --out "$WORK/canon.npz"
    step canon_fp32 onnx,file:"$WORK/canon.npz" 600 "$PY" -m build_engine export --weights "$WORK/canon.npz" \
        --out "$G/canon.onnx"
    step canon_fp16 onnx,file:"$G/canon.onnx" 600 "$PY" -m build_engine fp16 "$G/canon.onnx" --out "$G/canon.fp16.onnx"
    if [ -d "$WORK/scenes" ]; then
        step canon_int8 ort,file:"$G/canon.onnx" 900 "$PY" -m build_engine quantize "$G/canon.onnx" \
            --calib "$WORK/scenes" --num-frames 8 --calib-size 240x320 --no-cache --no-progress --out "$G/canon.int8.onnx"
    else
        step canon_int8 ort,file:"$G/canon.onnx" 900 "$PY" benchmarks/gpu_check.py quantize "$G/canon.onnx" \
            "$G/canon.int8.onnx" --frames 8
    fi
fi
step ort ort 900 "$PY" benchmarks/gpu_check.py ort --graphs "$G" --scenes "$WORK/scenes" --out "$OUT/raw/ort.json" $QFLAG
step torch_reference torch-cuda 300 "$PY" benchmarks/gpu_check.py torch --out "$OUT/raw/torch.json" $QFLAG

if [ "$QUICK" = 0 ]; then
    for p in fp32 fp16 int8; do
        g="$G/canon.onnx"; [ "$p" != fp32 ] && g="$G/canon.$p.onnx"
        step "build_canon_$p" gpu,trt,file:"$g" 900 "$PY" -m build_engine build "$g" --out "$E/canon.$p.engine" \
            --min 1x240x320 --opt 1x500x500 --max 1x720x1280 --timing-cache "$E/timing.cache" --no-progress
        step "selfcheck_canon_$p" gpu,trt,file:"$E/canon.$p.engine" 600 "$PY" -m fcn_trt.cli selfcheck \
            "$E/canon.$p.engine" --onnx "$g" --frames 8 --size 500x500
    done
fi

# --- 7. the GPU benchmark (builds its own engines) ------------------------------------------------------
BENCH_ARGS=(--out "$OUT/bench_gpu.md" --seconds 2)
[ "$QUICK" = 1 ] && BENCH_ARGS+=(--sizes 500x500 --precisions fp16)
[ -s "$G/canon.onnx" ] && BENCH_ARGS+=(--model "$G/canon.onnx")
step bench_gpu gpu,trt 900 "$PY" -m benchmarks.bench_gpu "${BENCH_ARGS[@]}"

# --- 8. summary ------------------------------------------------------------------------------------------
if have py && "$PY" benchmarks/gpu_check.py summary --out "$OUT" $QFLAG > "$OUT/logs/summary.log" 2>&1; then
    echo "[gpu_check] summary: $OUT/summary.md"
else
    {
        echo "# GPU check"
        echo
        echo "No usable Python ($PY): only the shell steps ran. Steps:"
        echo
        sed 's/^/    /' "$STEPS"
    } > "$OUT/summary.md"
    echo '{"has_gpu": null, "has_tensorrt": null, "error": "no usable python for the summary"}' > "$OUT/summary.json"
    echo "[gpu_check] summary (shell only): $OUT/summary.md"
fi
exit 0
