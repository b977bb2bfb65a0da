// fcn_trt C++ runtime: one exception hierarchy, mirroring fcn_trt/errors.py.
//
// Every message reads "<what>: expected <expected>, found <found>. Hint: <fix>", and each class
// carries the exit code the Python CLI uses for it (input 2, model 3, backend 4, source 7).
//
//   try { fcn_trt::Segmenter seg("model.onnx"); }
//   catch (const fcn_trt::Error& e) { std::cerr << e.what() << "\n"; return e.exit_code(); }
#pragma once

#include <stdexcept>
#include <string>

namespace fcn_trt {

// "<what>: expected <expected>, found <found>. Hint: <hint>" (empty parts are left out).
std::string format_message(const std::string& what, const std::string& expected = "",
                           const std::string& found = "", const std::string& hint = "");

class Error : public std::runtime_error {
 public:
  Error(const std::string& what, const std::string& expected = "", const std::string& found = "",
        const std::string& hint = "", int exit_code = 1);
  const std::string& subject() const noexcept { return what_; }
  const std::string& expected() const noexcept { return expected_; }
  const std::string& found() const noexcept { return found_; }
  const std::string& hint() const noexcept { return hint_; }
  int exit_code() const noexcept { return exit_code_; }

 private:
  std::string what_, expected_, found_, hint_;
  int exit_code_;
};

#define FCN_TRT_DEFINE_ERROR(Name, Base, Code)                                                      \
  class Name : public Base {                                                                         \
   public:                                                                                           \
    explicit Name(const std::string& what, const std::string& expected = "",                         \
                  const std::string& found = "", const std::string& hint = "", int exit_code = Code) \
        : Base(what, expected, found, hint, exit_code) {}                                            \
  };

// user input (frames, options): exit code 2
FCN_TRT_DEFINE_ERROR(InputError, Error, 2)
FCN_TRT_DEFINE_ERROR(FrameTypeError, InputError, 2)
FCN_TRT_DEFINE_ERROR(FrameShapeError, InputError, 2)
FCN_TRT_DEFINE_ERROR(EmptyFrameError, InputError, 2)
FCN_TRT_DEFINE_ERROR(ConfigError, InputError, 2)
// model files: exit code 3
FCN_TRT_DEFINE_ERROR(ModelError, Error, 3)
FCN_TRT_DEFINE_ERROR(ModelNotFoundError, ModelError, 3)
FCN_TRT_DEFINE_ERROR(ModelFormatError, ModelError, 3)
FCN_TRT_DEFINE_ERROR(MetadataError, ModelError, 3)
FCN_TRT_DEFINE_ERROR(EngineError, ModelError, 3)
FCN_TRT_DEFINE_ERROR(EngineCorruptError, EngineError, 3)
FCN_TRT_DEFINE_ERROR(EngineMismatchError, EngineError, 3)
// runtimes and devices: exit code 4
FCN_TRT_DEFINE_ERROR(BackendUnavailableError, Error, 4)
FCN_TRT_DEFINE_ERROR(CudaError, Error, 4)
FCN_TRT_DEFINE_ERROR(NoCudaDeviceError, CudaError, 4)
FCN_TRT_DEFINE_ERROR(TensorRTError, Error, 4)
FCN_TRT_DEFINE_ERROR(OnnxRuntimeError, Error, 4)
// camera / video / image files: exit code 7
FCN_TRT_DEFINE_ERROR(SourceError, Error, 7)
FCN_TRT_DEFINE_ERROR(ClosedError, Error, 1)

#undef FCN_TRT_DEFINE_ERROR

}  // namespace fcn_trt
