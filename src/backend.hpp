// The interface between Segmenter and its backends (not installed).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fcn_trt/segmenter.hpp"

namespace fcn_trt {
namespace detail {

// The pipeline graph's input tensor (build_engine.pipeline names it so), in .onnx and .engine alike.
constexpr const char* kInput = "frame";

// Outputs of one batch, packed: labels [n, h, w] uint8, confidence [n, h, w] float (if any).
struct RawOutputs {
  int n = 0, h = 0, w = 0;
  std::vector<std::uint8_t> labels;
  std::vector<float> confidence;
  bool has_confidence = false;
};

class BackendImpl {
 public:
  virtual ~BackendImpl() = default;
  virtual const PipelineMetadata& metadata() const = 0;
  virtual std::string name() const = 0;
  virtual int max_batch() const = 0;                                   // 0 = no limit
  virtual std::pair<int, int> min_hw() const { return {0, 0}; }        // image (not nv12 row) size
  virtual std::pair<int, int> max_hw() const { return {0, 0}; }
  // `frames`: `n` validated frames of one size, n <= max_batch() when that is set.
  virtual void infer(const FrameView* frames, int n, RawOutputs& out) = 0;
};

// A backend's factory. ort_backend.cpp / trt_backend.cpp define it as open_backend<their backend>; a
// library built without one links ort_unavailable.cpp / trt_unavailable.cpp instead, which define it
// null (Segmenter then throws BackendUnavailableError).
using BackendOpen = std::unique_ptr<BackendImpl> (*)(const std::string& path, const Options& options);
extern const BackendOpen open_onnxruntime;
extern const BackendOpen open_tensorrt;

template <class Backend>
std::unique_ptr<BackendImpl> open_backend(const std::string& path, const Options& options) {
  return std::unique_ptr<BackendImpl>(new Backend(path, options));
}

}  // namespace detail
}  // namespace fcn_trt
