// Built when the library has no TensorRT backend (no TensorRT/CUDA libraries at configure time).
// The sidecar is still read first, as the real backend does, so a missing or invalid sidecar is
// reported the same way on every build.
#include "backend.hpp"
#include "fcn_trt/errors.hpp"
#include "fcn_trt/sidecar.hpp"
#include "internal.hpp"

namespace fcn_trt {
namespace detail {

std::unique_ptr<BackendImpl> open_tensorrt(const std::string& path, const Options&) {
  (void)read_sidecar(path);
  throw BackendUnavailableError("TensorRT backend for " + file_name(path), "a fcn_trt library built with TensorRT",
                                "a build with the ONNX Runtime backend only",
                                "reconfigure with -DTENSORRT_ROOT=<TensorRT prefix> (JetPack: /usr) and CUDA, or run "
                                "the pipeline .onnx with ONNX Runtime");
}

bool tensorrt_compiled_in() { return false; }

}  // namespace detail
}  // namespace fcn_trt
