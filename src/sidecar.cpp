#include "fcn_trt/sidecar.hpp"

#include <algorithm>
#include <sstream>

#include "fcn_trt/errors.hpp"
#include "internal.hpp"

namespace fcn_trt {

using nlohmann::json;

namespace detail {

const JsonSchema& sidecar_schema() {
  static const JsonSchema schema(json::parse(sidecar_schema_text()));
  return schema;
}

}  // namespace detail

const std::string& sidecar_schema_text() {
  static const std::string text =
#include "fcn_trt_sidecar_schema.inc"
      ;
  return text;
}

std::string sidecar_path(const std::string& engine_path) { return engine_path + ".json"; }

std::string rebuild_hint(const EngineSidecar* sidecar, const std::string& engine_path) {
  if (sidecar != nullptr && !sidecar->engine.command.empty())
    return "rebuild on this machine with: " + sidecar->engine.command;
  const std::string onnx = sidecar != nullptr && !sidecar->engine.onnx.empty() ? sidecar->engine.onnx : "MODEL.onnx";
  const std::string precision = sidecar != nullptr ? sidecar->engine.precision : "fp16";
  return "rebuild on this machine with: python -m build_engine build " + onnx + " --precision " + precision +
         " --out " + engine_path;
}

namespace {

std::vector<std::int64_t> ints(const json& v) { return v.get<std::vector<std::int64_t>>(); }

EngineSidecar from_checked_json(const json& d, const std::string& source) {
  EngineSidecar s;
  s.schema = d.at("schema").get<std::string>();
  s.pipeline = detail::metadata_from_json(d.at("pipeline"), source);
  const json& e = d.at("engine");
  EngineInfo& info = s.engine;
  info.tensorrt_version = e.at("tensorrt_version").get<std::string>();
  info.gpu_name = e.at("gpu_name").get<std::string>();
  info.compute_capability = e.at("compute_capability").get<std::string>();
  info.precision = e.at("precision").get<std::string>();
  info.onnx_sha256 = e.at("onnx_sha256").get<std::string>();
  info.created = e.value("created", "");
  info.fcn_trt_version = e.value("fcn_trt_version", "");
  if (e.contains("build_flags")) {
    const json& f = e["build_flags"];
    if (f.contains("onnx") && f["onnx"].is_string()) info.onnx = f["onnx"].get<std::string>();
    if (f.contains("command") && f["command"].is_string()) info.command = f["command"].get<std::string>();
    info.version_compatible = f.value("version_compatible", false);
    info.hardware_compatibility = f.value("hardware_compatibility", std::string("none"));
  }
  if (e.contains("profiles"))
    for (const auto& p : e["profiles"].items())
      info.profiles[p.key()] = ProfileShapes{ints(p.value()["min"]), ints(p.value()["opt"]), ints(p.value()["max"])};
  return s;
}

}  // namespace

EngineSidecar parse_sidecar(const std::string& text, const std::string& source, const std::string& engine_path) {
  const std::string hint = rebuild_hint(nullptr, engine_path);
  const json d = detail::parse_json<EngineCorruptError>(text, "engine sidecar " + source, hint);
  const auto errors = detail::sidecar_schema().validate(d);
  if (!errors.empty())
    throw EngineCorruptError("engine sidecar " + source, "a sidecar valid under the schema fcn_trt.engine/1",
                             detail::join_errors(errors), hint);
  try {
    return from_checked_json(d, source);
  } catch (const MetadataError& e) {
    throw EngineCorruptError("engine sidecar " + source + ": pipeline metadata", "valid fcn_trt metadata", e.what(), hint);
  }
}

EngineSidecar read_sidecar(const std::string& engine_path) {
  const std::string path = sidecar_path(engine_path);
  if (!detail::is_regular_file(path))
    throw EngineError("engine sidecar " + path,
                      "the JSON metadata written next to the engine by `python -m build_engine build`", "no such file",
                      "copy " + detail::file_name(path) + " together with " + detail::file_name(engine_path) + ", or " +
                          rebuild_hint(nullptr, engine_path));
  std::string text;
  try {
    text = detail::read_file(path);
  } catch (const std::exception& e) {
    throw EngineError("engine sidecar " + path, "a readable file", e.what());
  }
  return parse_sidecar(text, path, engine_path);
}

namespace {

std::vector<int> release(const std::string& version) {
  std::vector<int> out;
  std::stringstream ss(version);
  std::string part;
  while (std::getline(ss, part, '.')) {
    try {
      out.push_back(std::stoi(part));
    } catch (const std::exception&) {
      throw EngineMismatchError("TensorRT version", "\"major.minor.patch\" such as \"10.3.0\"", "\"" + version + "\"");
    }
  }
  return out;
}

std::pair<int, int> cc_pair(const std::string& cc) {
  const auto dot = cc.find('.');
  try {
    if (dot != std::string::npos && dot + 1 < cc.size() && cc.find('.', dot + 1) == std::string::npos) {
      std::size_t used = 0;
      const int major = std::stoi(cc.substr(0, dot), &used);
      if (used == dot) {
        const int minor = std::stoi(cc.substr(dot + 1), &used);
        if (used == cc.size() - dot - 1) return {major, minor};
      }
    }
  } catch (const std::exception&) {
  }
  throw EngineMismatchError("compute capability", "\"major.minor\" such as \"8.7\"", "\"" + cc + "\"");
}

std::string short_version(const std::vector<int>& r) {
  std::string s;
  for (std::size_t i = 0; i < r.size() && i < 2; ++i) s += (i ? "." : "") + std::to_string(r[i]);
  return s;
}

std::string no_dot(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '.'), s.end());
  return s;
}

}  // namespace

void check_engine_compatible(const EngineSidecar& sidecar, const std::string& trt_version,
                             const std::string& compute_capability, const std::string& engine_path) {
  const EngineInfo& info = sidecar.engine;
  const std::vector<int> built = release(info.tensorrt_version), here = release(trt_version);
  // Python compares the release tuples of trt.__version__. TensorRT's C++ library reports
  // major.minor.patch.build (10.x: getInferLib{Major,Minor,Patch,Build}Version) or major.minor.patch
  // (8.x), and a wheel's __version__ may lack the build: compare the components both have.
  const std::size_t n = std::min(built.size(), here.size());
  const std::vector<int> b(built.begin(), built.begin() + n), h(here.begin(), here.begin() + n);
  bool version_ok;
  if (info.version_compatible) {
    // "Engines built with the version-compatible flag can run with newer TensorRT versions within
    // the same major version." (Engine Portability,
    // https://docs.nvidia.com/deeplearning/tensorrt/10.16.1/getting-started/support-matrix.html);
    // the same rule as fcn_trt/sidecar.py.
    version_ok = !b.empty() && b[0] == h[0] && h >= b;
  } else {
    version_ok = b == h;
  }
  bool cc_ok;
  if (info.hardware_compatibility == "ampere_plus") {
    // NvInfer.h (TensorRT 10.3.0) HardwareCompatibilityLevel::kAMPERE_PLUS: "Require that the engine
    // is compatible with Ampere and newer GPUs" (Ampere = compute capability 8.0)
    cc_ok = cc_pair(compute_capability) >= std::make_pair(8, 0);
  } else {
    cc_ok = cc_pair(compute_capability) == cc_pair(info.compute_capability);
  }
  if (version_ok && cc_ok) return;
  std::string built_v = short_version(built), here_v = short_version(here);
  if (!version_ok && built_v == here_v) {
    built_v = info.tensorrt_version;
    here_v = trt_version;
  }
  throw EngineMismatchError("engine " + detail::file_name(engine_path) + " built with TensorRT " + built_v + " for sm_" +
                                no_dot(info.compute_capability) + " (" + info.gpu_name + "), this machine has TensorRT " +
                                here_v + " on sm_" + no_dot(compute_capability),
                            "", "", rebuild_hint(&sidecar, engine_path));
}

}  // namespace fcn_trt
