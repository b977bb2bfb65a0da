// ONNX Runtime backend through the C API (onnxruntime_c_api.h), the twin of
// fcn_trt/backends/onnxruntime.py: one session, one uint8 input "frame", output "labels".
#include <cstring>
#include <map>
#include <memory>

#include <onnxruntime_c_api.h>

#include "backend.hpp"
#include "fcn_trt/errors.hpp"
#include "internal.hpp"

#ifndef FCN_TRT_ORT_API_VERSION
// The oldest OrtApi this file needs (every function used here exists since ONNX Runtime 1.15, the
// Python side's minimum). GetApi(v) serves any v up to the library's own version and returns
// nullptr above it: microsoft/onnxruntime, onnxruntime/core/session/onnxruntime_c_api.cc,
// OrtApis::GetApi ("if (version >= 1 && version <= ORT_API_VERSION) return &ort_api_1_to_...").
// So the API 29 headers build a program that runs on any ONNX Runtime >= 1.15.
#define FCN_TRT_ORT_API_VERSION 15
#endif

namespace fcn_trt {
namespace detail {
namespace {

const OrtApi& ort_api() {
  static const OrtApi* api = OrtGetApiBase()->GetApi(FCN_TRT_ORT_API_VERSION);
  if (api == nullptr)
    throw BackendUnavailableError("ONNX Runtime C API",
                                  "a library serving API version " + std::to_string(FCN_TRT_ORT_API_VERSION) +
                                      " (ONNX Runtime >= 1.15)",
                                  std::string("ONNX Runtime ") + OrtGetApiBase()->GetVersionString(),
                                  "install a newer onnxruntime and point ONNXRUNTIME_LIBRARY at it");
  return *api;
}

// RAII for every Ort* handle: unique_ptr with the matching OrtApi::Release* function.

#define FCN_TRT_ORT_HANDLE(Type)                                                 \
  struct Type##Deleter {                                                        \
    void operator()(Ort##Type* p) const noexcept { if (p) ort_api().Release##Type(p); } \
  };                                                                            \
  using Type##Ptr = std::unique_ptr<Ort##Type, Type##Deleter>;

FCN_TRT_ORT_HANDLE(Env)
FCN_TRT_ORT_HANDLE(SessionOptions)
FCN_TRT_ORT_HANDLE(Session)
FCN_TRT_ORT_HANDLE(MemoryInfo)
FCN_TRT_ORT_HANDLE(Value)
FCN_TRT_ORT_HANDLE(TypeInfo)
FCN_TRT_ORT_HANDLE(TensorTypeAndShapeInfo)
FCN_TRT_ORT_HANDLE(ModelMetadata)
FCN_TRT_ORT_HANDLE(Status)
#undef FCN_TRT_ORT_HANDLE

std::string take_message(OrtStatus* status) {
  StatusPtr owned(status);
  std::string msg = ort_api().GetErrorMessage(status);
  const auto nl = msg.find('\n');
  if (nl != std::string::npos) msg.resize(nl);
  return msg.size() > 300 ? msg.substr(0, 300) : msg;
}

void check(OrtStatus* status, const std::string& what) {
  if (status != nullptr)
    throw OnnxRuntimeError("ONNX Runtime " + what, "success", take_message(status), "check the ONNX Runtime install");
}

// A string ONNX Runtime allocated with the default allocator.
std::string take_string(char* s) {
  OrtAllocator* alloc = nullptr;
  check(ort_api().GetAllocatorWithDefaultOptions(&alloc), "GetAllocatorWithDefaultOptions");
  std::string out = s ? s : "";
  if (s) check(ort_api().AllocatorFree(alloc, s), "AllocatorFree");
  return out;
}

struct TensorType {
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  std::vector<int64_t> shape;
};

TensorType describe(OrtTypeInfo* raw) {
  TypeInfoPtr info(raw);
  const OrtTensorTypeAndShapeInfo* tensor = nullptr;
  check(ort_api().CastTypeInfoToTensorInfo(info.get(), &tensor), "CastTypeInfoToTensorInfo");
  TensorType t;
  if (tensor == nullptr) return t;  // not a tensor (sequence, map)
  check(ort_api().GetTensorElementType(tensor, &t.type), "GetTensorElementType");
  size_t n = 0;
  check(ort_api().GetDimensionsCount(tensor, &n), "GetDimensionsCount");
  t.shape.resize(n);
  check(ort_api().GetDimensions(tensor, t.shape.data(), n), "GetDimensions");
  return t;
}

std::string type_name(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED: return "not a tensor";
    default: return "element type " + std::to_string(static_cast<int>(t));
  }
}

class OrtBackend final : public BackendImpl {
 public:
  OrtBackend(const std::string& path, const Options& options) : name_(file_name(path)) {
    const OrtApi& api = ort_api();
    OrtEnv* env = nullptr;
    check(api.CreateEnv(ORT_LOGGING_LEVEL_ERROR, "fcn_trt", &env), "CreateEnv");
    env_.reset(env);
    OrtSessionOptions* opts = nullptr;
    check(api.CreateSessionOptions(&opts), "CreateSessionOptions");
    opts_.reset(opts);
    if (options.threads > 0) check(api.SetIntraOpNumThreads(opts, options.threads), "SetIntraOpNumThreads");
    check(api.SetSessionLogSeverityLevel(opts, 3), "SetSessionLogSeverityLevel");
    OrtSession* session = nullptr;
    if (OrtStatus* st = api.CreateSession(env, path.c_str(), opts, &session))
      throw ModelFormatError(name_, "an ONNX model ONNX Runtime can load", take_message(st),
                             "re-export it with `python -m build_engine export`");
    session_.reset(session);
    read_metadata();
    inspect();
    OrtMemoryInfo* mem = nullptr;
    check(api.CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &mem), "CreateCpuMemoryInfo");
    mem_.reset(mem);
  }

  const PipelineMetadata& metadata() const override { return meta_; }
  std::string name() const override { return "onnxruntime"; }
  int max_batch() const override { return max_batch_; }

  void infer(const FrameView* frames, int n, RawOutputs& out) override {
    const OrtApi& api = ort_api();
    const FrameView& f0 = frames[0];
    const std::size_t row = f0.row_bytes(), plane = row * static_cast<std::size_t>(f0.height);
    packed_.resize(plane * static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
      for (int y = 0; y < f0.height; ++y)
        std::memcpy(packed_.data() + i * plane + y * row, frames[i].data + y * frames[i].step(), row);
    std::vector<int64_t> shape{n, f0.height, f0.width};
    if (!meta_.is_nv12()) shape.push_back(3);
    OrtValue* input = nullptr;
    check(api.CreateTensorWithDataAsOrtValue(mem_.get(), packed_.data(), packed_.size(), shape.data(), shape.size(),
                                             ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, &input),
          "CreateTensorWithDataAsOrtValue");
    ValuePtr in(input);
    std::vector<const char*> names;
    for (const auto& s : output_names_) names.push_back(s.c_str());
    std::vector<OrtValue*> outs(names.size(), nullptr);
    const OrtValue* inputs[] = {input};
    const char* input_names[] = {kInput};
    OrtStatus* st = api.Run(session_.get(), nullptr, input_names, inputs, 1, names.data(), names.size(), outs.data());
    std::vector<ValuePtr> owned;
    for (OrtValue* v : outs) owned.emplace_back(v);
    if (st != nullptr)
      throw OnnxRuntimeError("ONNX Runtime run of " + name_, "success", take_message(st),
                             "the frame size may be below the network's minimum (its total stride)");
    copy_output(owned[0].get(), ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, n, out, out.labels);
    out.has_confidence = owned.size() > 1;
    if (out.has_confidence) {
      RawOutputs conf;
      copy_output(owned[1].get(), ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, n, conf, out.confidence);
    }
  }

 private:
  void read_metadata() {
    const OrtApi& api = ort_api();
    OrtModelMetadata* raw = nullptr;
    check(api.SessionGetModelMetadata(session_.get(), &raw), "SessionGetModelMetadata");
    ModelMetadataPtr md(raw);
    OrtAllocator* alloc = nullptr;
    check(api.GetAllocatorWithDefaultOptions(&alloc), "GetAllocatorWithDefaultOptions");
    char* value = nullptr;
    check(api.ModelMetadataLookupCustomMetadataMap(md.get(), alloc, "fcn_trt", &value),
          "ModelMetadataLookupCustomMetadataMap");
    if (value == nullptr)
      throw MetadataError(name_ + " has no fcn_trt pipeline metadata",
                          "an ONNX pipeline graph exported by build_engine (uint8 'frame' in, 'labels' out)",
                          "no metadata_props entry \"fcn_trt\"",
                          "wrap a bare network with `python -m build_engine export --onnx MODEL.onnx --out pipeline.onnx`");
    meta_ = PipelineMetadata::from_json(take_string(value), name_);
  }

  void inspect() {
    const OrtApi& api = ort_api();
    OrtAllocator* alloc = nullptr;
    check(api.GetAllocatorWithDefaultOptions(&alloc), "GetAllocatorWithDefaultOptions");
    size_t n_in = 0, n_out = 0;
    check(api.SessionGetInputCount(session_.get(), &n_in), "SessionGetInputCount");
    check(api.SessionGetOutputCount(session_.get(), &n_out), "SessionGetOutputCount");
    std::string found_in, found_out;
    TensorType frame;
    std::string in_name;
    for (size_t i = 0; i < n_in; ++i) {
      char* s = nullptr;
      check(api.SessionGetInputName(session_.get(), i, alloc, &s), "SessionGetInputName");
      in_name = take_string(s);
      OrtTypeInfo* info = nullptr;
      check(api.SessionGetInputTypeInfo(session_.get(), i, &info), "SessionGetInputTypeInfo");
      frame = describe(info);
      found_in += (i ? ", " : "") + in_name + " " + type_name(frame.type);
    }
    std::map<std::string, TensorType> outputs;
    for (size_t i = 0; i < n_out; ++i) {
      char* s = nullptr;
      check(api.SessionGetOutputName(session_.get(), i, alloc, &s), "SessionGetOutputName");
      const std::string name = take_string(s);
      OrtTypeInfo* info = nullptr;
      check(api.SessionGetOutputTypeInfo(session_.get(), i, &info), "SessionGetOutputTypeInfo");
      outputs[name] = describe(info);
      found_out += (i ? ", " : "") + name + " " + type_name(outputs[name].type);
    }
    const std::size_t rank = meta_.is_nv12() ? 3 : 4;
    const auto labels = outputs.find("labels");
    const auto conf = outputs.find("confidence");
    if (n_in != 1 || in_name != kInput || frame.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 || frame.shape.size() != rank ||
        labels == outputs.end() || labels->second.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 ||
        (conf != outputs.end() && conf->second.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT))
      throw ModelFormatError(name_,
                             "a pipeline graph with one uint8 input 'frame' of rank " + std::to_string(rank) +
                                 " (" + meta_.input_format + "), a uint8 output 'labels' (float32 'confidence')",
                             "inputs [" + found_in + "], outputs [" + found_out + "]",
                             "wrap the bare network with `python -m build_engine export --onnx`");
    max_batch_ = frame.shape[0] > 0 ? static_cast<int>(frame.shape[0]) : 0;
    output_names_ = {"labels"};
    if (conf != outputs.end()) output_names_.push_back("confidence");
  }

  template <typename T>
  void copy_output(OrtValue* v, ONNXTensorElementDataType want, int n, RawOutputs& shape_out, std::vector<T>& dst) {
    const OrtApi& api = ort_api();
    OrtTensorTypeAndShapeInfo* raw = nullptr;
    check(api.GetTensorTypeAndShape(v, &raw), "GetTensorTypeAndShape");
    TensorTypeAndShapeInfoPtr info(raw);
    ONNXTensorElementDataType type{};
    check(api.GetTensorElementType(info.get(), &type), "GetTensorElementType");
    size_t rank = 0;
    check(api.GetDimensionsCount(info.get(), &rank), "GetDimensionsCount");
    std::vector<int64_t> dims(rank);
    check(api.GetDimensions(info.get(), dims.data(), rank), "GetDimensions");
    if (type != want || rank != 3 || dims[0] != n)
      throw ModelFormatError(name_ + " output", "[" + std::to_string(n) + ", H, W] " + type_name(want),
                             std::to_string(rank) + "-D " + type_name(type), "re-export the pipeline graph");
    void* data = nullptr;
    check(api.GetTensorMutableData(v, &data), "GetTensorMutableData");
    shape_out.n = n;
    shape_out.h = static_cast<int>(dims[1]);
    shape_out.w = static_cast<int>(dims[2]);
    const T* p = static_cast<const T*>(data);
    dst.assign(p, p + static_cast<std::size_t>(n) * dims[1] * dims[2]);
  }

  std::string name_;
  EnvPtr env_;
  SessionOptionsPtr opts_;
  SessionPtr session_;  // declared after env_/opts_: released first
  MemoryInfoPtr mem_;
  PipelineMetadata meta_;
  int max_batch_ = 0;
  std::vector<std::string> output_names_;
  std::vector<std::uint8_t> packed_;
};

}  // namespace

const BackendOpen open_onnxruntime = open_backend<OrtBackend>;

}  // namespace detail
}  // namespace fcn_trt
