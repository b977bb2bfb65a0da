// A JSON Schema (draft 2020-12) validator for the keywords fcn_trt's schemas use. A keyword it does
// not implement makes the constructor throw, so a schema edit can never be silently half-checked.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fcn_trt {
namespace detail {

class JsonSchema {
 public:
  explicit JsonSchema(nlohmann::json schema);
  // Violations of the (sub)schema at JSON Pointer `at` ("" = the root), as
  // "<instance pointer>: expected ..., found ..." lines; empty when `doc` is valid.
  std::vector<std::string> validate(const nlohmann::json& doc, const std::string& at = "") const;
  const nlohmann::json& schema() const { return schema_; }

 private:
  void check_keywords(const nlohmann::json& node, const std::string& where) const;
  void validate_node(const nlohmann::json& schema, const nlohmann::json& doc, const std::string& path,
                     std::vector<std::string>& errors, int depth) const;
  nlohmann::json schema_;
};

std::string json_type_name(const nlohmann::json& v);

}  // namespace detail
}  // namespace fcn_trt
