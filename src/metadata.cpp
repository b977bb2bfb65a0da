#include "fcn_trt/metadata.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

#include "fcn_trt/errors.hpp"
#include "internal.hpp"

namespace fcn_trt {

using nlohmann::json;

bool PipelineMetadata::has_output(const std::string& name) const {
  return std::find(outputs.begin(), outputs.end(), name) != outputs.end();
}

PipelineMetadata PipelineMetadata::from_json(const std::string& text, const std::string& source) {
  const json d = detail::parse_json<MetadataError>(text, source + ": fcn_trt metadata",
                                                   "re-export the model with `python -m build_engine export`");
  return detail::metadata_from_json(d, source);
}

namespace detail {

std::string join_errors(const std::vector<std::string>& errors, std::size_t max_shown) {
  std::string out;
  for (std::size_t i = 0; i < errors.size() && i < max_shown; ++i) out += (i ? "; " : "") + errors[i];
  if (errors.size() > max_shown) out += " (and " + std::to_string(errors.size() - max_shown) + " more)";
  return out;
}

std::string file_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw std::runtime_error("read error on " + path);
  return ss.str();
}

PipelineMetadata metadata_from_json(const json& d, const std::string& source) {
  const std::string what = source + ": fcn_trt pipeline metadata";
  const std::string hint = "re-export the model with `python -m build_engine export`";
  const auto errors = sidecar_schema().validate(d, "/$defs/pipeline");
  if (!errors.empty())
    throw MetadataError(what, "a record valid under fcn_trt.engine/1 $defs/pipeline", join_errors(errors), hint);
  PipelineMetadata m;
  m.class_names = d.at("class_names").get<std::vector<std::string>>();
  for (const auto& c : d.at("palette"))
    m.palette.push_back({c[0].get<std::uint8_t>(), c[1].get<std::uint8_t>(), c[2].get<std::uint8_t>()});
  // the one rule JSON Schema cannot state (fcn_trt/metadata.py PipelineMetadata.__post_init__)
  if (m.palette.size() != m.class_names.size())
    throw MetadataError(what + ": palette", "one RGB colour per class (" + std::to_string(m.class_names.size()) + ")",
                        std::to_string(m.palette.size()) + " colours", hint);
  m.input_format = d.value("input_format", m.input_format);
  m.channel_order = d.value("channel_order", m.channel_order);
  if (d.contains("mean")) m.mean = d["mean"].get<std::vector<double>>();
  if (d.contains("std")) m.std = d["std"].get<std::vector<double>>();
  if (d.contains("inference_size") && !d["inference_size"].is_null())
    m.inference_size = std::make_pair(d["inference_size"][0].get<int>(), d["inference_size"][1].get<int>());
  m.resize_back = d.value("resize_back", m.resize_back);
  if (d.contains("outputs")) m.outputs = d["outputs"].get<std::vector<std::string>>();
  m.variant = d.value("variant", m.variant);
  m.width_divisor = d.value("width_divisor", m.width_divisor);
  m.weights_sha256 = d.value("weights_sha256", m.weights_sha256);
  m.precision = d.value("precision", m.precision);
  m.model_name = d.value("model_name", m.model_name);
  m.schema = d.value("schema", m.schema);
  return m;
}

}  // namespace detail
}  // namespace fcn_trt
