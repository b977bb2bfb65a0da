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

// One backend as the library was built: ort_backend.cpp / trt_backend.cpp define it with
// compiled_in = true, ort_unavailable.cpp / trt_unavailable.cpp (a build without it) with false and an
// `open` that throws BackendUnavailableError (see throw_backend_not_built).
struct BackendEntry {
  bool compiled_in;
  std::unique_ptr<BackendImpl> (*open)(const std::string& path, const Options& options);
};
extern const BackendEntry onnxruntime_backend;
extern const BackendEntry tensorrt_backend;

// The `open` of a backend that is compiled in.
template <class Backend>
std::unique_ptr<BackendImpl> open_backend(const std::string& path, const Options& options) {
  return std::unique_ptr<BackendImpl>(new Backend(path, options));
}

// The error of a build without `backend` ("ONNX Runtime", "TensorRT"): "<backend> backend for <file>",
// expected "a fcn_trt library built with <backend>", `found` and `hint` as given.
[[noreturn]] void throw_backend_not_built(const std::string& backend, const std::string& path, const std::string& found,
                                          const std::string& hint);

}  // namespace detail
}  // namespace fcn_trt
