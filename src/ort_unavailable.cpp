// Built when the library has no ONNX Runtime backend (-DFCN_TRT_WITH_ONNXRUNTIME=OFF or not found):
// Segmenter reports it (src/segmenter.cpp, throw_not_built).
#include "backend.hpp"

namespace fcn_trt {
namespace detail {

const BackendOpen open_onnxruntime = nullptr;

}  // namespace detail
}  // namespace fcn_trt
