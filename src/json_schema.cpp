#include "json_schema.hpp"

#include <cmath>
#include <regex>
#include <set>
#include <stdexcept>

namespace fcn_trt {
namespace detail {

using nlohmann::json;

namespace {

const std::set<std::string>& known_keywords() {
  static const std::set<std::string> k{
      "$schema", "$id", "$defs", "$ref", "title", "description", "type", "const", "enum", "pattern",
      "required", "properties", "additionalProperties", "items", "minItems", "maxItems", "minimum",
      "maximum", "contains", "oneOf"};
  return k;
}

bool is_integer(const json& v) {
  if (v.is_number_integer()) return true;
  // JSON Schema: a number with a zero fractional part is an integer (1.0 is an integer)
  return v.is_number_float() && std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>();
}

bool has_type(const json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "number") return v.is_number();
  if (t == "integer") return is_integer(v);
  throw std::logic_error("JSON Schema type '" + t + "' is not a type");
}

std::string shown(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

std::string where(const std::string& path) { return path.empty() ? "/" : path; }

}  // namespace

std::string json_type_name(const json& v) {
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_null()) return "null";
  if (is_integer(v)) return "integer";
  return "number";
}

JsonSchema::JsonSchema(json schema) : schema_(std::move(schema)) { check_keywords(schema_, ""); }

void JsonSchema::check_keywords(const json& node, const std::string& at) const {
  if (node.is_boolean()) return;
  if (!node.is_object()) throw std::logic_error("JSON Schema at " + where(at) + " is not an object");
  for (const auto& item : node.items()) {
    const std::string& key = item.key();
    if (!known_keywords().count(key))
      throw std::logic_error("JSON Schema keyword '" + key + "' at " + where(at) + " is not implemented");
    const json& v = item.value();
    if (key == "$defs" || key == "properties") {
      for (const auto& sub : v.items()) check_keywords(sub.value(), at + "/" + key + "/" + sub.key());
    } else if (key == "items" || key == "contains" || key == "additionalProperties") {
      check_keywords(v, at + "/" + key);
    } else if (key == "oneOf") {
      for (std::size_t i = 0; i < v.size(); ++i) check_keywords(v[i], at + "/oneOf/" + std::to_string(i));
    } else if (key == "$ref") {
      const std::string ref = v.get<std::string>();
      if (ref.rfind("#/", 0) != 0) throw std::logic_error("JSON Schema $ref '" + ref + "': only local refs");
      (void)schema_.at(json::json_pointer(ref.substr(1)));  // throws when it points nowhere
    } else if (key == "pattern") {
      std::regex(v.get<std::string>(), std::regex::ECMAScript);  // throws on a bad pattern
    }
  }
}

std::vector<std::string> JsonSchema::validate(const json& doc, const std::string& at) const {
  std::vector<std::string> errors;
  validate_node(at.empty() ? schema_ : schema_.at(json::json_pointer(at)), doc, "", errors, 0);
  return errors;
}

void JsonSchema::validate_node(const json& s, const json& v, const std::string& path, std::vector<std::string>& errors,
                               int depth) const {
  if (depth > 64) throw std::logic_error("JSON Schema $ref recursion deeper than 64");
  if (s.is_boolean()) {
    if (!s.get<bool>()) errors.push_back(where(path) + ": expected nothing (not allowed), found " + shown(v));
    return;
  }
  auto fail = [&](const std::string& expected, const std::string& found) {
    errors.push_back(where(path) + ": expected " + expected + ", found " + found);
  };
  if (s.contains("$ref")) {
    validate_node(schema_.at(json::json_pointer(s["$ref"].get<std::string>().substr(1))), v, path, errors, depth + 1);
  }
  if (s.contains("type")) {
    const json& t = s["type"];
    bool ok = false;
    std::string names;
    for (const auto& one : (t.is_array() ? t : json::array({t}))) {
      ok = ok || has_type(v, one.get<std::string>());
      names += (names.empty() ? "" : " or ") + one.get<std::string>();
    }
    if (!ok) {
      fail("a value of type " + names, json_type_name(v) + " " + shown(v));
      return;  // the other keywords would only repeat the type error
    }
  }
  if (s.contains("const") && v != s["const"]) fail(shown(s["const"]), shown(v));
  if (s.contains("enum")) {
    bool ok = false;
    std::string names;
    for (const auto& e : s["enum"]) {
      ok = ok || v == e;
      names += (names.empty() ? "" : ", ") + shown(e);
    }
    if (!ok) fail("one of " + names, shown(v));
  }
  if (s.contains("oneOf")) {
    int matches = 0;
    for (const auto& sub : s["oneOf"]) {
      std::vector<std::string> sub_errors;
      validate_node(sub, v, path, sub_errors, depth + 1);
      matches += sub_errors.empty() ? 1 : 0;
    }
    if (matches != 1) fail("exactly one of " + shown(s["oneOf"]), shown(v) + " (matches " + std::to_string(matches) + ")");
  }
  if (v.is_string() && s.contains("pattern")) {
    // JSON Schema patterns are ECMA-262 regular expressions, not anchored
    if (!std::regex_search(v.get<std::string>(), std::regex(s["pattern"].get<std::string>(), std::regex::ECMAScript)))
      fail("a string matching " + s["pattern"].get<std::string>(), shown(v));
  }
  if (v.is_number()) {
    if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>())
      fail(">= " + s["minimum"].dump(), shown(v));
    if (s.contains("maximum") && v.get<double>() > s["maximum"].get<double>())
      fail("<= " + s["maximum"].dump(), shown(v));
  }
  if (v.is_array()) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<std::size_t>())
      fail("at least " + s["minItems"].dump() + " items", std::to_string(v.size()));
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<std::size_t>())
      fail("at most " + s["maxItems"].dump() + " items", std::to_string(v.size()));
    if (s.contains("items"))
      for (std::size_t i = 0; i < v.size(); ++i) validate_node(s["items"], v[i], path + "/" + std::to_string(i), errors, depth + 1);
    if (s.contains("contains")) {
      bool any = false;
      for (const auto& item : v) {
        std::vector<std::string> sub_errors;
        validate_node(s["contains"], item, path, sub_errors, depth + 1);
        any = any || sub_errors.empty();
      }
      if (!any) fail("an item matching " + shown(s["contains"]), shown(v));
    }
  }
  if (v.is_object()) {
    if (s.contains("required"))
      for (const auto& r : s["required"])
        if (!v.contains(r.get<std::string>())) fail("member \"" + r.get<std::string>() + "\"", "none");
    for (const auto& item : v.items()) {
      const std::string child = path + "/" + item.key();
      if (s.contains("properties") && s["properties"].contains(item.key())) {
        validate_node(s["properties"][item.key()], item.value(), child, errors, depth + 1);
      } else if (s.contains("additionalProperties")) {
        validate_node(s["additionalProperties"], item.value(), child, errors, depth + 1);
      }
    }
  }
}

}  // namespace detail
}  // namespace fcn_trt
