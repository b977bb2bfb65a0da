// Engine sidecar: <name>.engine.json next to a plain TensorRT engine (fcn_trt/sidecar.py).
//
// Read and checked against fcn_trt/schemas/engine_sidecar.schema.json (compiled into the library)
// BEFORE the engine is deserialised:
//
//   auto side = fcn_trt::read_sidecar("fcn8s.engine");                  // fcn8s.engine.json
//   fcn_trt::check_engine_compatible(side, "10.3.0", "8.7", "fcn8s.engine");  // or EngineMismatchError
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fcn_trt/errors.hpp"
#include "fcn_trt/metadata.hpp"

namespace fcn_trt {

struct ProfileShapes {
  std::vector<std::int64_t> min, opt, max;
};

struct EngineInfo {
  std::string tensorrt_version;    // "10.3.0"
  std::string gpu_name;            // "Orin"
  std::string compute_capability;  // "8.7"
  std::string precision;           // "fp32", "fp16" or "int8"
  std::string onnx_sha256;
  // build_flags members the runtime uses (the rest stays in the file)
  std::string onnx;
  std::string command;  // the exact rebuild command
  bool version_compatible = false;
  std::string hardware_compatibility = "none";  // "none", "ampere_plus", "same_compute_capability"
  std::map<std::string, ProfileShapes> profiles;
  std::string created;
  std::string fcn_trt_version;
};

struct EngineSidecar {
  std::string schema = "fcn_trt.engine/1";
  PipelineMetadata pipeline;
  EngineInfo engine;
};

// The JSON Schema text every sidecar is checked against (the file shipped in the Python package).
const std::string& sidecar_schema_text();

// "model.engine" -> "model.engine.json"
std::string sidecar_path(const std::string& engine_path);

// Parse and check sidecar JSON text. Throws EngineCorruptError naming `source`.
EngineSidecar parse_sidecar(const std::string& text, const std::string& source, const std::string& engine_path);

// Read <engine>.json. Throws EngineError when it is missing, EngineCorruptError when it is invalid.
EngineSidecar read_sidecar(const std::string& engine_path);

// "rebuild on this machine with: ..." (the command recorded at build time when there is one).
std::string rebuild_hint(const EngineSidecar* sidecar, const std::string& engine_path);

// Throws EngineMismatchError unless TensorRT `trt_version` on a GPU of `compute_capability` can
// deserialise the engine: same TensorRT release (or, for a version-compatible engine, the same
// major release, not older), same compute capability (or >= 8.0 for an "ampere_plus" engine).
void check_engine_compatible(const EngineSidecar& sidecar, const std::string& trt_version,
                             const std::string& compute_capability, const std::string& engine_path);

}  // namespace fcn_trt
