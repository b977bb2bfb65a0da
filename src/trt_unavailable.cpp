// Built when the library has no TensorRT backend (no TensorRT/CUDA libraries at configure time):
// Segmenter reports it (src/segmenter.cpp, throw_not_built), after reading the sidecar.
#include "backend.hpp"

namespace fcn_trt {
namespace detail {

const BackendOpen open_tensorrt = nullptr;

}  // namespace detail
}  // namespace fcn_trt
