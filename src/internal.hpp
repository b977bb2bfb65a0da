// Internal helpers shared by the library's translation units (not installed).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fcn_trt/metadata.hpp"
#include "json_schema.hpp"

namespace fcn_trt {
namespace detail {

// fcn_trt/schemas/engine_sidecar.schema.json, compiled in at build time.
const JsonSchema& sidecar_schema();

// Check `d` against $defs/pipeline + the rules JSON Schema cannot state; throws MetadataError.
PipelineMetadata metadata_from_json(const nlohmann::json& d, const std::string& source);

// `text` parsed as JSON; a syntax error throws Error(what, "valid JSON", <the parser's message>, hint).
template <class Error>
nlohmann::json parse_json(const std::string& text, const std::string& what, const std::string& hint) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(what, "valid JSON", e.what(), hint);
  }
}

// "a; b; c (and N more)"
std::string join_errors(const std::vector<std::string>& errors, std::size_t max_shown = 3);

std::string file_name(const std::string& path);
bool is_regular_file(const std::string& path);
std::string read_file(const std::string& path);  // throws std::runtime_error on failure

}  // namespace detail
}  // namespace fcn_trt
