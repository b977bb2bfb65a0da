// fcn_trt::Segmenter: run a pipeline graph (.onnx, ONNX Runtime) or engine (.engine, TensorRT).
//
// The graph holds the whole pipeline (uint8 frame in -> preprocessing -> network -> argmax ->
// uint8 labels out), so there is nothing to port: a frame goes in, class ids come out.
//
//   fcn_trt::Segmenter seg("fcn8s.onnx");                 // or "fcn8s.engine" (+ fcn8s.engine.json)
//   fcn_trt::FrameView frame{pixels, 480, 640, 3, row_stride_bytes};
//   fcn_trt::Result r = seg.run(frame);                    // r.labels: 480x640 class ids
//   std::uint8_t id = r.labels.at(y, x);                   // seg.metadata().class_names[id]
//
// With OpenCV (FCN_TRT_WITH_OPENCV, set by the CMake target when OpenCV is found):
//   cv::Mat bgr = cv::imread("street.jpg");  auto r = seg.run(bgr);
//
// One Segmenter owns one backend (one ONNX Runtime session, or one TensorRT execution context and
// CUDA stream); calls on one Segmenter are serialised. Segmenter is move-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fcn_trt/errors.hpp"
#include "fcn_trt/metadata.hpp"

#ifdef FCN_TRT_WITH_OPENCV
#include <opencv2/core.hpp>
#endif

namespace fcn_trt {

// A uint8 frame the caller owns: rows of `width * channels` bytes, `stride` bytes apart.
// bgr/rgb pipelines take HxWx3 frames; nv12 pipelines take a (H*3/2)xW single-channel frame
// (Y plane, then the interleaved UV plane) and `height` is then H*3/2.
struct FrameView {
  const std::uint8_t* data = nullptr;
  int height = 0;
  int width = 0;
  int channels = 3;
  std::size_t stride = 0;  // bytes from one row to the next; 0 = width * channels (packed)

  std::size_t row_bytes() const { return static_cast<std::size_t>(width) * static_cast<std::size_t>(channels); }
  std::size_t step() const { return stride ? stride : row_bytes(); }
};

// A packed HxW image (row-major, no padding).
template <typename T>
struct Image {
  int height = 0;
  int width = 0;
  std::vector<T> data;

  const T& at(int y, int x) const { return data[static_cast<std::size_t>(y) * width + x]; }
  const T* row(int y) const { return data.data() + static_cast<std::size_t>(y) * width; }
  bool empty() const { return data.empty(); }
};

struct Result {
  Image<std::uint8_t> labels;          // class id per pixel, at the frame's size
  std::optional<Image<float>> confidence;  // softmax probability of the label, if the graph has it
};

enum class Backend { Auto, OnnxRuntime, TensorRT };

struct Options {
  Backend backend = Backend::Auto;  // Auto: from the suffix (.onnx / .engine .plan .trt)
  int threads = 0;                  // ONNX Runtime intra-op threads (0 = its default)
  int device = 0;                   // CUDA device (TensorRT)
};

namespace detail {
class BackendImpl;
}

class Segmenter {
 public:
  // Open `model` (a pipeline .onnx or a TensorRT .engine with its .engine.json sidecar).
  // Throws ModelNotFoundError, ModelFormatError, MetadataError, EngineError (sidecar missing or
  // invalid, engine built for another TensorRT or GPU), NoCudaDeviceError, BackendUnavailableError.
  explicit Segmenter(const std::string& model, const Options& options = Options());
  ~Segmenter();
  Segmenter(Segmenter&&) noexcept;
  Segmenter& operator=(Segmenter&&) noexcept;
  Segmenter(const Segmenter&) = delete;
  Segmenter& operator=(const Segmenter&) = delete;

  // Segment one frame (in the model's input format, default BGR). Throws FrameTypeError,
  // EmptyFrameError or FrameShapeError for an unusable frame, ClosedError after a move.
  Result run(const FrameView& frame);
  // Segment same-sized frames; batches larger than the model's maximum are split.
  std::vector<Result> run_batch(const std::vector<FrameView>& frames);

#ifdef FCN_TRT_WITH_OPENCV
  Result run(const cv::Mat& frame) { return run(view(frame)); }
  std::vector<Result> run_batch(const std::vector<cv::Mat>& frames) {
    std::vector<FrameView> views;
    views.reserve(frames.size());
    for (const auto& f : frames) views.push_back(view(f));
    return run_batch(views);
  }
  // A FrameView of a CV_8U Mat (any channel count: run() says what is wrong with it).
  static FrameView view(const cv::Mat& m) {
    if (!m.empty() && m.depth() != CV_8U)
      throw FrameTypeError("frame", "a CV_8U (uint8) cv::Mat", "depth " + std::to_string(m.depth()),
                           "convert it with mat.convertTo(out, CV_8U)");
    if (!m.empty() && m.dims != 2)
      throw FrameShapeError("frame", "a 2-D cv::Mat", std::to_string(m.dims) + " dimensions");
    return FrameView{m.data, m.rows, m.cols, m.channels(), static_cast<std::size_t>(m.step[0])};
  }
#endif

  const PipelineMetadata& metadata() const;
  std::string backend_name() const;           // "onnxruntime" or "tensorrt"
  int max_batch() const;                      // 0 = no limit
  std::pair<int, int> min_frame_hw() const;   // (0, 0) = no limit
  std::pair<int, int> max_frame_hw() const;   // (0, 0) = no limit
  const std::string& model_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Impl& open() const;
};

// Which backends this build of the library has ("onnxruntime", "tensorrt").
std::vector<std::string> available_backends();

}  // namespace fcn_trt
