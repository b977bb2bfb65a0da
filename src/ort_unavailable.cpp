// Built when the library has no ONNX Runtime backend (-DFCN_TRT_WITH_ONNXRUNTIME=OFF or not found).
#include "backend.hpp"

namespace fcn_trt {
namespace detail {

namespace {

std::unique_ptr<BackendImpl> open_unavailable(const std::string& path, const Options&) {
  throw_backend_not_built("ONNX Runtime", path, "a build without it",
                          "reconfigure with -DONNXRUNTIME_INCLUDE_DIR=... -DONNXRUNTIME_LIBRARY=..., or build a "
                          "TensorRT engine from the .onnx (python -m build_engine build)");
}

}  // namespace

const BackendEntry onnxruntime_backend{false, open_unavailable};

}  // namespace detail
}  // namespace fcn_trt
