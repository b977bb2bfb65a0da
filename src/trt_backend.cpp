// TensorRT backend, the twin of fcn_trt/backends/tensorrt.py: named-tensor API only
// (getNbIOTensors / setInputShape / setTensorAddress / enqueueV3), one execution context, one CUDA
// stream, device buffers allocated once at the optimization profile's maximum. Compiles against
// the TensorRT 8.6, 10.x and 11.x headers; version differences sit behind NV_TENSORRT_MAJOR.
//
// Order of checks (each before the step that would crash or mislead without it):
//   1. the sidecar <engine>.json is read and validated (fcn_trt.engine/1),
//   2. a CUDA device exists: without one TensorRT's lean runtime returns a hollow IRuntime after a
//      CUDA error and deserializeCudaEngine then segfaults (measured, issue #15),
//   3. the sidecar's TensorRT version and compute capability match this machine,
//   4. only then createInferRuntime + deserializeCudaEngine.
#include <cuda_runtime_api.h>

#include <NvInfer.h>
#include <NvInferVersion.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "backend.hpp"
#include "fcn_trt/errors.hpp"
#include "fcn_trt/sidecar.hpp"
#include "internal.hpp"

namespace fcn_trt {
namespace detail {
namespace {

std::string library_version() {
#if NV_TENSORRT_MAJOR >= 10
  // NvInferRuntime.h (10.0+): getInferLib{Major,Minor,Patch,Build}Version
  return std::to_string(getInferLibMajorVersion()) + "." + std::to_string(getInferLibMinorVersion()) + "." +
         std::to_string(getInferLibPatchVersion()) + "." + std::to_string(getInferLibBuildVersion());
#else
  // NvInferRuntimeBase.h (8.6.1): "(TENSORRT_MAJOR * 1000) + (TENSORRT_MINOR * 100) + TENSOR_PATCH"
  const int v = getInferLibVersion();
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 100) + "." + std::to_string(v % 100);
#endif
}

class Logger final : public nvinfer1::ILogger {
 public:
  void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override {
    if (severity > Severity::kERROR || msg == nullptr) return;
    try {
      std::lock_guard<std::mutex> guard(lock_);
      errors_.emplace_back(msg);
    } catch (...) {  // log() is noexcept: never let an allocation failure escape into TensorRT
    }
  }
  std::string drain() {
    std::lock_guard<std::mutex> guard(lock_);
    std::string out;
    for (const auto& e : errors_) out += (out.empty() ? "" : "; ") + e;
    errors_.clear();
    return out.empty() ? "no error logged" : out;
  }

 private:
  std::mutex lock_;
  std::vector<std::string> errors_;
};

void cuda_check(cudaError_t err, const std::string& what) {
  if (err != cudaSuccess)
    throw CudaError(what, "cudaSuccess", std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err));
}

struct DeviceFree {
  void operator()(void* p) const noexcept { if (p) cudaFree(p); }
};
struct HostFree {
  void operator()(void* p) const noexcept { if (p) cudaFreeHost(p); }
};
using DevicePtr = std::unique_ptr<void, DeviceFree>;
using HostPtr = std::unique_ptr<void, HostFree>;

DevicePtr device_alloc(std::size_t bytes, const std::string& what) {
  void* p = nullptr;
  cuda_check(cudaMalloc(&p, std::max<std::size_t>(bytes, 1)), "cudaMalloc(" + what + ")");
  return DevicePtr(p);
}

HostPtr host_alloc(std::size_t bytes, const std::string& what) {
  void* p = nullptr;
  cuda_check(cudaMallocHost(&p, std::max<std::size_t>(bytes, 1)), "cudaMallocHost(" + what + ")");
  return HostPtr(p);
}

std::int64_t volume(const nvinfer1::Dims& d) {
  std::int64_t v = 1;
  for (int i = 0; i < d.nbDims; ++i) v *= d.d[i];
  return v;
}

std::string show(const nvinfer1::Dims& d) {
  std::string s = "[";
  for (int i = 0; i < d.nbDims; ++i) s += (i ? ", " : "") + std::to_string(d.d[i]);
  return s + "]";
}

struct DeviceInfo {
  std::string name;
  std::string compute_capability;
};

DeviceInfo check_device(int device) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count < 1)
    throw NoCudaDeviceError("CUDA device", "a CUDA-capable GPU and driver",
                            err != cudaSuccess ? std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err)
                                               : std::string("no device"),
                            "run on a machine with an NVIDIA GPU (check nvidia-smi), or use the .onnx model with ONNX Runtime");
  if (device < 0 || device >= count)
    throw ConfigError("CUDA device index", "0.." + std::to_string(count - 1), std::to_string(device));
  cuda_check(cudaSetDevice(device), "cudaSetDevice");
  cudaDeviceProp prop{};
  cuda_check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return DeviceInfo{prop.name, std::to_string(prop.major) + "." + std::to_string(prop.minor)};
}

class TrtBackend final : public BackendImpl {
 public:
  TrtBackend(const std::string& path, const Options& options)
      : name_(file_name(path)), device_(options.device) {
    sidecar_ = read_sidecar(path);                                                  // 1
    const DeviceInfo dev = check_device(options.device);                           // 2
    check_engine_compatible(sidecar_, library_version(), dev.compute_capability, path);  // 3
    const std::string rebuild = rebuild_hint(&sidecar_, path);
    std::string blob;
    try {
      blob = read_file(path);
    } catch (const std::exception& e) {
      throw EngineError(name_, "a readable file", e.what());
    }
    if (blob.empty()) throw EngineCorruptError(name_, "a serialized TensorRT engine", "an empty file", rebuild);
    runtime_.reset(nvinfer1::createInferRuntime(logger_));                           // 4
    if (!runtime_)
      throw TensorRTError("createInferRuntime", "a TensorRT runtime", "nullptr (" + logger_.drain() + ")",
                          "check the TensorRT install (libnvinfer version " + library_version() + ")");
    engine_.reset(runtime_->deserializeCudaEngine(blob.data(), blob.size()));
    if (!engine_)
      throw EngineCorruptError(name_, "an engine TensorRT " + library_version() + " can deserialize",
                               "deserializeCudaEngine returned nullptr (" + logger_.drain() + ")",
                               "the file is truncated, corrupt or not a TensorRT engine; " + rebuild);
    inspect();
    context_.reset(engine_->createExecutionContext());
    if (!context_)
      throw TensorRTError("createExecutionContext", "an execution context", "nullptr (" + logger_.drain() + ")",
                          "free GPU memory (other processes?) and retry");
    allocate();
    cudaStream_t stream = nullptr;
    cuda_check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    stream_ = stream;
  }

  ~TrtBackend() override {
    if (stream_) {
      cudaStreamSynchronize(stream_);
      cudaStreamDestroy(stream_);
    }
    // context_, engine_, runtime_ are released in reverse declaration order (context first)
  }

  const PipelineMetadata& metadata() const override { return sidecar_.pipeline; }
  std::string name() const override { return "tensorrt"; }
  int max_batch() const override { return static_cast<int>(max_.d[0]); }
  std::pair<int, int> min_hw() const override { return hw(min_); }
  std::pair<int, int> max_hw() const override { return hw(max_); }

  void infer(const FrameView* frames, int n, RawOutputs& out) override {
    cuda_check(cudaSetDevice(device_), "cudaSetDevice");  // the current device is per host thread
    const FrameView& f0 = frames[0];
    nvinfer1::Dims shape{};
    shape.nbDims = sidecar_.pipeline.is_nv12() ? 3 : 4;
    shape.d[0] = n;
    shape.d[1] = f0.height;
    shape.d[2] = f0.width;
    if (shape.nbDims == 4) shape.d[3] = 3;
    if (current_.nbDims != shape.nbDims || !std::equal(shape.d, shape.d + shape.nbDims, current_.d)) {
      set_shape(shape);
      current_ = shape;
    }
    const std::size_t row = f0.row_bytes(), plane = row * static_cast<std::size_t>(f0.height);
    auto* d_in = static_cast<std::uint8_t*>(d_in_.get());
    for (int i = 0; i < n; ++i)  // strided host rows -> packed device rows, no host-side repacking
      cuda_check(cudaMemcpy2DAsync(d_in + i * plane, row, frames[i].data, frames[i].step(), row, f0.height,
                                   cudaMemcpyHostToDevice, stream_),
                 "cudaMemcpy2DAsync(frame)");
    if (!context_->enqueueV3(stream_))
      throw TensorRTError("enqueueV3", "true", "false (" + logger_.drain() + ")");
    const nvinfer1::Dims labels = context_->getTensorShape("labels");
    const std::size_t count = static_cast<std::size_t>(volume(labels));
    cuda_check(cudaMemcpyAsync(h_labels_.get(), d_labels_.get(), count, cudaMemcpyDeviceToHost, stream_),
               "cudaMemcpyAsync(labels)");
    if (d_conf_)
      cuda_check(cudaMemcpyAsync(h_conf_.get(), d_conf_.get(), count * sizeof(float), cudaMemcpyDeviceToHost, stream_),
                 "cudaMemcpyAsync(confidence)");
    cuda_check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    out.n = n;
    out.h = static_cast<int>(labels.d[1]);
    out.w = static_cast<int>(labels.d[2]);
    const auto* lp = static_cast<const std::uint8_t*>(h_labels_.get());
    out.labels.assign(lp, lp + count);
    out.has_confidence = static_cast<bool>(d_conf_);
    if (d_conf_) {
      const auto* cp = static_cast<const float*>(h_conf_.get());
      out.confidence.assign(cp, cp + count);
    }
  }

 private:
  std::pair<int, int> hw(const nvinfer1::Dims& d) const {
    const int rows = static_cast<int>(d.d[1]), cols = static_cast<int>(d.d[2]);
    return sidecar_.pipeline.is_nv12() ? std::make_pair(rows * 2 / 3, cols) : std::make_pair(rows, cols);
  }

  void inspect() {
    std::string found;
    bool frame_ok = false, labels_ok = false, has_conf = false, conf_ok = true;
    int inputs = 0;
    for (int i = 0; i < engine_->getNbIOTensors(); ++i) {
      const char* name = engine_->getIOTensorName(i);
      const auto mode = engine_->getTensorIOMode(name);
      const auto type = engine_->getTensorDataType(name);
      found += std::string(found.empty() ? "" : ", ") + name + (mode == nvinfer1::TensorIOMode::kINPUT ? " (in)" : "");
      if (mode == nvinfer1::TensorIOMode::kINPUT) {
        ++inputs;
        frame_ok = std::strcmp(name, kInput) == 0 && type == nvinfer1::DataType::kUINT8;
      } else if (std::strcmp(name, "labels") == 0) {
        labels_ok = type == nvinfer1::DataType::kUINT8;
      } else if (std::strcmp(name, "confidence") == 0) {
        has_conf = true;
        conf_ok = type == nvinfer1::DataType::kFLOAT;
      }
    }
    if (inputs != 1 || !frame_ok || !labels_ok || !conf_ok)
      throw ModelFormatError(name_, "a pipeline engine: one uint8 input 'frame', a uint8 output 'labels'",
                             "tensors " + found,
                             "build the engine from a pipeline graph: python -m build_engine export ... then build");
    has_confidence_ = has_conf;
    const nvinfer1::Dims fixed = engine_->getTensorShape(kInput);
    if (std::all_of(fixed.d, fixed.d + fixed.nbDims, [](std::int64_t v) { return v >= 0; })) {
      min_ = opt_ = max_ = fixed;
    } else {
      if (engine_->getNbOptimizationProfiles() < 1)
        throw ModelFormatError(name_, "an optimization profile for input 'frame'", "none",
                               "rebuild the engine with `python -m build_engine build` (it always adds one)");
      min_ = engine_->getProfileShape(kInput, 0, nvinfer1::OptProfileSelector::kMIN);
      opt_ = engine_->getProfileShape(kInput, 0, nvinfer1::OptProfileSelector::kOPT);
      max_ = engine_->getProfileShape(kInput, 0, nvinfer1::OptProfileSelector::kMAX);
    }
    const int rank = sidecar_.pipeline.is_nv12() ? 3 : 4;
    if (max_.nbDims != rank)
      throw ModelFormatError(name_ + " input 'frame'", "rank " + std::to_string(rank) + " (" +
                                                           sidecar_.pipeline.input_format + " per the sidecar)",
                             show(max_), "the sidecar belongs to another engine: rebuild both together");
  }

  void set_shape(const nvinfer1::Dims& shape) {
    if (!context_->setInputShape(kInput, shape))
      throw FrameShapeError("frame batch shape", "within the engine profile " + show(min_) + ".." + show(max_),
                            show(shape) + " (" + logger_.drain() + ")",
                            "resize the frame or rebuild the engine with a larger --max shape");
  }

  // Buffers once, at the largest output over the profile's min/opt/max input shapes.
  void allocate() {
    std::int64_t out_max = 0;
    for (const nvinfer1::Dims* s : {&min_, &opt_, &max_}) {
      set_shape(*s);
      const nvinfer1::Dims o = context_->getTensorShape("labels");
      if (o.nbDims != 3 || std::any_of(o.d, o.d + o.nbDims, [](std::int64_t v) { return v < 0; }))
        throw TensorRTError("output 'labels' shape for input " + show(*s), "a concrete [N, H, W] shape", show(o));
      out_max = std::max(out_max, volume(o));
    }
    current_ = max_;
    const std::size_t labels_bytes = static_cast<std::size_t>(out_max);
    d_in_ = device_alloc(static_cast<std::size_t>(volume(max_)), "frame");
    d_labels_ = device_alloc(labels_bytes, "labels");
    h_labels_ = host_alloc(labels_bytes, "labels");
    if (!context_->setTensorAddress(kInput, d_in_.get()) || !context_->setTensorAddress("labels", d_labels_.get()))
      throw TensorRTError("setTensorAddress", "true", "false (" + logger_.drain() + ")");
    if (has_confidence_) {
      d_conf_ = device_alloc(labels_bytes * sizeof(float), "confidence");
      h_conf_ = host_alloc(labels_bytes * sizeof(float), "confidence");
      if (!context_->setTensorAddress("confidence", d_conf_.get()))
        throw TensorRTError("setTensorAddress(confidence)", "true", "false (" + logger_.drain() + ")");
    }
    // Any other output (logits) still needs an address for enqueueV3: give it a buffer, unread.
    for (int i = 0; i < engine_->getNbIOTensors(); ++i) {
      const char* name = engine_->getIOTensorName(i);
      if (engine_->getTensorIOMode(name) != nvinfer1::TensorIOMode::kOUTPUT || std::strcmp(name, "labels") == 0 ||
          std::strcmp(name, "confidence") == 0)
        continue;
      std::int64_t bytes = 0;
      for (const nvinfer1::Dims* s : {&min_, &opt_, &max_}) {
        set_shape(*s);
        bytes = std::max(bytes, volume(context_->getTensorShape(name)) * 4);  // float32/int32 at most
      }
      extra_.push_back(device_alloc(static_cast<std::size_t>(bytes), name));
      if (!context_->setTensorAddress(name, extra_.back().get()))
        throw TensorRTError(std::string("setTensorAddress(") + name + ")", "true", "false (" + logger_.drain() + ")");
    }
    set_shape(max_);
  }

  std::string name_;
  int device_ = 0;
  EngineSidecar sidecar_;
  Logger logger_;
  // destroyed bottom-up: buffers, then context, engine, runtime (TensorRT's required order)
  std::unique_ptr<nvinfer1::IRuntime> runtime_;
  std::unique_ptr<nvinfer1::ICudaEngine> engine_;
  std::unique_ptr<nvinfer1::IExecutionContext> context_;
  cudaStream_t stream_ = nullptr;
  nvinfer1::Dims min_{}, opt_{}, max_{}, current_{};
  bool has_confidence_ = false;
  DevicePtr d_in_, d_labels_, d_conf_;
  HostPtr h_labels_, h_conf_;
  std::vector<DevicePtr> extra_;
};

}  // namespace

const BackendOpen open_tensorrt = open_backend<TrtBackend>;

}  // namespace detail
}  // namespace fcn_trt
