// Built when the library has no ONNX Runtime backend (-DFCN_TRT_WITH_ONNXRUNTIME=OFF or not found).
#include "backend.hpp"
#include "fcn_trt/errors.hpp"
#include "internal.hpp"

namespace fcn_trt {
namespace detail {

std::unique_ptr<BackendImpl> open_onnxruntime(const std::string& path, const Options&) {
  throw BackendUnavailableError("ONNX Runtime backend for " + file_name(path), "a fcn_trt library built with ONNX Runtime",
                                "a build without it",
                                "reconfigure with -DONNXRUNTIME_INCLUDE_DIR=... -DONNXRUNTIME_LIBRARY=..., or build a "
                                "TensorRT engine from the .onnx (python -m build_engine build)");
}

bool onnxruntime_compiled_in() { return false; }

}  // namespace detail
}  // namespace fcn_trt
