#!/usr/bin/env bash
# CI: real GStreamer pipelines (tests/fcn_trt/streaming/test_gstreamer.py) with Debian's OpenCV, which is built
# with GStreamer (pip's opencv-python(-headless) wheels never are). Needs root for apt-get (Debian 12).
# The venv is made from Debian's /usr/bin/python3 with --system-site-packages so it sees Debian's
# cv2, and nothing here installs opencv-python(-headless), which would shadow it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends python3-opencv python3-venv \
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
/usr/bin/python3 -m venv --system-site-packages .venv-gst
.venv-gst/bin/pip install -q -e . pytest onnxruntime
.venv-gst/bin/python - <<'PY'
import cv2
from fcn_trt.streaming.sources import gstreamer_available
assert gstreamer_available(), "cv2 %s from %s has no GStreamer (shadowed by a pip wheel?)" % (cv2.__version__, cv2.__file__)
print("cv2", cv2.__version__, "from", cv2.__file__, "with GStreamer")
PY
# every test must run: a skip here would mean GStreamer was not found after all
.venv-gst/bin/python -m pytest -q -rs tests/fcn_trt/streaming/test_gstreamer.py 2>&1 | tee .venv-gst/pytest.log
if grep -q "skipped" .venv-gst/pytest.log; then
    echo "gstreamer.sh: GStreamer tests were skipped" >&2
    exit 1
fi
