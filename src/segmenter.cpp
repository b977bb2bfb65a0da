#include "fcn_trt/segmenter.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "backend.hpp"
#include "fcn_trt/sidecar.hpp"
#include "internal.hpp"

namespace fcn_trt {

struct Segmenter::Impl {
  std::unique_ptr<detail::BackendImpl> backend;
  std::string path;
  std::mutex lock;
  detail::RawOutputs outs;  // reused between calls
};

namespace {

std::string lower_suffix(const std::string& path) {
  const std::string name = detail::file_name(path);
  const auto dot = name.find_last_of('.');
  std::string s = dot == std::string::npos ? "" : name.substr(dot);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Backend backend_for_path(const std::string& path) {
  const std::string suffix = lower_suffix(path);
  if (suffix == ".engine" || suffix == ".plan" || suffix == ".trt") return Backend::TensorRT;
  if (suffix == ".onnx") return Backend::OnnxRuntime;
  throw ConfigError("model file " + detail::file_name(path),
                    "a .onnx pipeline graph or a .engine/.plan/.trt TensorRT engine",
                    "suffix " + (suffix.empty() ? std::string("(none)") : suffix),
                    "pass Options{Backend::OnnxRuntime} or Options{Backend::TensorRT} to choose explicitly");
}

// The error of a library built without the backend `which`. For a TensorRT engine the sidecar is
// read first, as the real backend does, so a missing or invalid sidecar is reported the same way on
// every build.
[[noreturn]] void throw_not_built(Backend which, const std::string& model) {
  const bool trt = which == Backend::TensorRT;
  if (trt) (void)read_sidecar(model);
  const std::string backend = trt ? "TensorRT" : "ONNX Runtime";
  throw BackendUnavailableError(
      backend + " backend for " + detail::file_name(model), "a fcn_trt library built with " + backend,
      trt ? "a build with the ONNX Runtime backend only" : "a build without it",
      trt ? "reconfigure with -DTENSORRT_ROOT=<TensorRT prefix> (JetPack: /usr) and CUDA, or run the pipeline .onnx "
            "with ONNX Runtime"
          : "reconfigure with -DONNXRUNTIME_INCLUDE_DIR=... -DONNXRUNTIME_LIBRARY=..., or build a TensorRT engine "
            "from the .onnx (python -m build_engine build)");
}

std::string expected_frame(const PipelineMetadata& m) {
  if (m.is_nv12()) return "uint8 nv12 frame of (H*3/2) x W x 1 with even H and W";
  std::string fmt = m.input_format;
  std::transform(fmt.begin(), fmt.end(), fmt.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return "uint8 " + fmt + " frame of H x W x 3";
}

std::string dims(const FrameView& f) {
  return std::to_string(f.height) + " x " + std::to_string(f.width) + " x " + std::to_string(f.channels);
}

// Mirrors fcn_trt/validation.py validate_frame: the same checks, the same fixes.
void validate(const FrameView& f, const PipelineMetadata& m, const std::string& what) {
  const std::string expected = expected_frame(m);
  if (f.data == nullptr && f.height > 0 && f.width > 0)
    throw FrameTypeError(what, expected, "a null data pointer",
                         "the camera or file read failed (cv::VideoCapture::read() returned false?)");
  if (f.height <= 0 || f.width <= 0 || f.channels <= 0 || f.data == nullptr)
    throw EmptyFrameError(what, expected, "an empty frame of " + dims(f), "the source returned no pixels: check the camera/file");
  if (f.stride != 0 && f.stride < f.row_bytes())
    throw FrameShapeError(what + " stride", "at least width * channels = " + std::to_string(f.row_bytes()) + " bytes",
                          std::to_string(f.stride) + " bytes",
                          "pass the distance between row starts in bytes (cv::Mat::step[0]), or 0 for packed rows");
  if (m.is_nv12()) {
    if (f.channels != 1 || f.height % 3 != 0 || (f.height * 2 / 3) % 2 != 0 || f.width % 2 != 0)
      throw FrameShapeError(what, expected, dims(f),
                            "pass the Y plane followed by the interleaved UV plane, as cv::COLOR_BGR2YUV_NV12 would give");
    return;
  }
  if (f.channels != 3) {
    std::string fix = "pass one H x W x 3 image";
    if (f.channels == 1) fix = "a grayscale frame: convert it with cv::cvtColor(frame, out, cv::COLOR_GRAY2BGR)";
    if (f.channels == 4) fix = "a 4-channel (BGRA/RGBA) frame: drop alpha with cv::cvtColor(frame, out, cv::COLOR_BGRA2BGR)";
    throw FrameShapeError(what, expected, dims(f), fix);
  }
}

std::pair<int, int> image_hw(const FrameView& f, const PipelineMetadata& m) {
  return m.is_nv12() ? std::make_pair(f.height * 2 / 3, f.width) : std::make_pair(f.height, f.width);
}

// fcn_trt/segmenter.py _nearest_resize: source row of output row y is y * src_h / h.
template <typename T>
Image<T> nearest(const T* src, int src_h, int src_w, int h, int w) {
  Image<T> out{h, w, std::vector<T>(static_cast<std::size_t>(h) * w)};
  std::vector<int> cols(w);
  for (int x = 0; x < w; ++x) cols[x] = static_cast<int>(static_cast<long long>(x) * src_w / w);
  for (int y = 0; y < h; ++y) {
    const T* srow = src + static_cast<std::size_t>(static_cast<long long>(y) * src_h / h) * src_w;
    T* drow = out.data.data() + static_cast<std::size_t>(y) * w;
    for (int x = 0; x < w; ++x) drow[x] = srow[cols[x]];
  }
  return out;
}

template <typename T>
Image<T> slice(const std::vector<T>& all, int i, int h, int w) {
  const std::size_t n = static_cast<std::size_t>(h) * w;
  return Image<T>{h, w, std::vector<T>(all.begin() + i * n, all.begin() + (i + 1) * n)};
}

}  // namespace

Segmenter::Segmenter(const std::string& model, const Options& options) : impl_(new Impl) {
  const Backend which = options.backend == Backend::Auto ? backend_for_path(model) : options.backend;
  if (!detail::is_regular_file(model))
    throw ModelNotFoundError("model file", which == Backend::TensorRT ? "an existing .engine file" : "an existing .onnx file",
                             model);
  const detail::BackendOpen factory = which == Backend::TensorRT ? detail::open_tensorrt : detail::open_onnxruntime;
  if (factory == nullptr) throw_not_built(which, model);
  impl_->backend = factory(model, options);
  impl_->path = model;
}

Segmenter::~Segmenter() = default;
Segmenter::Segmenter(Segmenter&&) noexcept = default;
Segmenter& Segmenter::operator=(Segmenter&&) noexcept = default;

Segmenter::Impl& Segmenter::open() const {
  if (!impl_ || !impl_->backend)
    throw ClosedError("Segmenter", "an open Segmenter", "one that was moved from", "use the Segmenter it was moved to");
  return *impl_;
}

const PipelineMetadata& Segmenter::metadata() const { return open().backend->metadata(); }
std::string Segmenter::backend_name() const { return open().backend->name(); }
int Segmenter::max_batch() const { return open().backend->max_batch(); }
std::pair<int, int> Segmenter::min_frame_hw() const { return open().backend->min_hw(); }
std::pair<int, int> Segmenter::max_frame_hw() const { return open().backend->max_hw(); }
const std::string& Segmenter::model_path() const { return open().path; }

Result Segmenter::run(const FrameView& frame) {
  validate(frame, metadata(), "frame");
  return std::move(run_batch({frame}).front());
}

std::vector<Result> Segmenter::run_batch(const std::vector<FrameView>& frames) {
  Impl& impl = open();
  detail::BackendImpl& backend = *impl.backend;
  const PipelineMetadata& meta = backend.metadata();
  if (frames.empty()) throw EmptyFrameError("frames", "at least one frame", "an empty list");
  for (std::size_t i = 0; i < frames.size(); ++i) validate(frames[i], meta, "frames[" + std::to_string(i) + "]");
  for (std::size_t i = 1; i < frames.size(); ++i)
    if (frames[i].height != frames[0].height || frames[i].width != frames[0].width)
      throw FrameShapeError("frames", "frames of one size in a batch",
                            "sizes " + dims(frames[0]) + " and " + dims(frames[i]),
                            "resize them to one size, or call run() per frame");
  const auto hw = image_hw(frames[0], meta);
  const auto lo = backend.min_hw(), hi = backend.max_hw();
  if ((hi.first && hw.first > hi.first) || (hi.second && hw.second > hi.second) || hw.first < lo.first ||
      hw.second < lo.second)
    throw FrameShapeError("frame size",
                          "between " + std::to_string(lo.first) + "x" + std::to_string(lo.second) + " and " +
                              std::to_string(hi.first) + "x" + std::to_string(hi.second) +
                              " (the engine's optimization profile)",
                          std::to_string(hw.first) + "x" + std::to_string(hw.second),
                          "resize the frame, or rebuild the engine with a larger --max");
  std::vector<Result> results;
  results.reserve(frames.size());
  const int total = static_cast<int>(frames.size());
  const int limit = backend.max_batch() > 0 ? backend.max_batch() : total;
  std::lock_guard<std::mutex> guard(impl.lock);
  for (int start = 0; start < total; start += limit) {
    const int n = std::min(limit, total - start);
    detail::RawOutputs& o = impl.outs;
    backend.infer(frames.data() + start, n, o);
    for (int i = 0; i < n; ++i) {
      Result r;
      if (o.h == hw.first && o.w == hw.second) {
        r.labels = slice(o.labels, i, o.h, o.w);
        if (o.has_confidence) r.confidence = slice(o.confidence, i, o.h, o.w);
      } else {  // a graph without resize-back: labels at inference size
        const std::size_t plane = static_cast<std::size_t>(o.h) * o.w;
        r.labels = nearest(o.labels.data() + i * plane, o.h, o.w, hw.first, hw.second);
        if (o.has_confidence) r.confidence = nearest(o.confidence.data() + i * plane, o.h, o.w, hw.first, hw.second);
      }
      results.push_back(std::move(r));
    }
  }
  return results;
}

std::vector<std::string> available_backends() {
  std::vector<std::string> out;
  if (detail::open_onnxruntime != nullptr) out.push_back("onnxruntime");
  if (detail::open_tensorrt != nullptr) out.push_back("tensorrt");
  return out;
}

}  // namespace fcn_trt
