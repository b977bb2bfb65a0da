// Built when the library has no TensorRT backend (no TensorRT/CUDA libraries at configure time).
// The sidecar is still read first, as the real backend does, so a missing or invalid sidecar is
// reported the same way on every build.
#include "backend.hpp"
#include "fcn_trt/sidecar.hpp"

namespace fcn_trt {
namespace detail {

namespace {

std::unique_ptr<BackendImpl> open_unavailable(const std::string& path, const Options&) {
  (void)read_sidecar(path);
  throw_backend_not_built("TensorRT", path, "a build with the ONNX Runtime backend only",
                          "reconfigure with -DTENSORRT_ROOT=<TensorRT prefix> (JetPack: /usr) and CUDA, or run "
                          "the pipeline .onnx with ONNX Runtime");
}

}  // namespace

const BackendEntry tensorrt_backend{false, open_unavailable};

}  // namespace detail
}  // namespace fcn_trt
