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

std::unique_ptr<BackendImpl> open_onnxruntime(const std::string& path, const Options& options);
std::unique_ptr<BackendImpl> open_tensorrt(const std::string& path, const Options& options);
bool tensorrt_compiled_in();
bool onnxruntime_compiled_in();

}  // namespace detail
}  // namespace fcn_trt
