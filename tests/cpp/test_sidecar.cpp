// The engine sidecar in C++: Python's sidecars load, the schema's violations (the very cases
// tests/test_sidecar_schema.py runs) are rejected, TensorRT's compatibility rules match Python's.
#include <stdexcept>

#include "fcn_trt/sidecar.hpp"
#include "json_schema.hpp"
#include "test_support.hpp"

using fcn_trt_test::expect_error;
using fcn_trt_test::read_text;
using fcn_trt_test::ref_path;
using fcn_trt_test::source;
using nlohmann::json;

namespace {

json python_sidecar() { return json::parse(read_text(ref_path("python.engine.json"))); }

// The JSON-Pointer edits of one case of tests/data/sidecar_schema_cases.json.
json edited(json doc, const json& c) {
  if (c.contains("set"))
    for (const auto& item : c["set"].items()) doc[json::json_pointer(item.key())] = item.value();
  if (c.contains("remove"))
    for (const auto& p : c["remove"]) {
      const json::json_pointer ptr(p.get<std::string>());
      doc[ptr.parent_pointer()].erase(ptr.back());
    }
  return doc;
}

fcn_trt::EngineSidecar parse(const json& doc) { return fcn_trt::parse_sidecar(doc.dump(), "m.engine.json", "m.engine"); }

json cases() { return json::parse(read_text(source("tests/data/sidecar_schema_cases.json"))); }

}  // namespace

TEST(Sidecar, WrittenByPythonLoads) {
  const fcn_trt::EngineSidecar s = fcn_trt::read_sidecar(ref_path("python.engine"));
  EXPECT_EQ(s.schema, "fcn_trt.engine/1");
  EXPECT_EQ(s.engine.tensorrt_version, "10.3.0");
  EXPECT_EQ(s.engine.compute_capability, "8.7");
  EXPECT_EQ(s.engine.precision, "fp32");
  EXPECT_EQ(s.engine.hardware_compatibility, "none");
  EXPECT_FALSE(s.engine.version_compatible);
  ASSERT_EQ(s.engine.profiles.count("frame"), 1u);
  EXPECT_EQ(s.engine.profiles.at("frame").max, (std::vector<std::int64_t>{2, 480, 640, 3}));
  EXPECT_FALSE(s.engine.created.empty());
  EXPECT_FALSE(s.engine.fcn_trt_version.empty());
  EXPECT_EQ(s.pipeline.class_names, (std::vector<std::string>{"background", "floor", "marking", "obstacle", "person"}));
  EXPECT_EQ(s.pipeline.palette.size(), 5u);
  EXPECT_EQ(s.pipeline.input_format, "bgr");
  EXPECT_EQ(fcn_trt::sidecar_path("a/b.engine"), "a/b.engine.json");
}

TEST(Sidecar, CompiledInSchemaIsTheRepositoryFile) {
  EXPECT_EQ(fcn_trt::sidecar_schema_text(), read_text(source("fcn_trt/schemas/engine_sidecar.schema.json")))
      << "rebuild: the library embeds the schema at configure time";
}

TEST(Sidecar, RejectsEverySchemaViolationPythonsTestsList) {
  const json base = python_sidecar();
  EXPECT_NO_THROW(parse(base));
  const json all = cases();
  ASSERT_GE(all["cases"].size(), 30u);
  for (const json& c : all["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    expect_error<fcn_trt::EngineCorruptError>([&] { parse(edited(base, c)); },
                                              {"engine sidecar m.engine.json", "Hint: rebuild on this machine with"});
  }
}

TEST(Sidecar, RejectsWhatTheSchemaCannotState) {
  const json base = python_sidecar();
  const json all = cases();
  for (const json& c : all["beyond_schema"]) {
    EXPECT_THROW(parse(edited(base, c)), fcn_trt::EngineCorruptError) << c["name"];
  }
}

TEST(Sidecar, WrongTypedFieldsNameThePathAndType) {
  json doc = python_sidecar();
  doc["engine"]["compute_capability"] = 8.7;
  expect_error<fcn_trt::EngineCorruptError>([&] { parse(doc); },
                                            {"/engine/compute_capability: expected a value of type string, found number 8.7"});
}

// Both JSON readers share detail::parse_json: each keeps its own error type, subject and hint.
TEST(Sidecar, SyntaxErrorMessages) {
  const std::string meta = expect_error<fcn_trt::MetadataError>(
      [] { fcn_trt::PipelineMetadata::from_json("{not json", "m.onnx"); },
      {"found ", ". Hint: re-export the model with `python -m build_engine export`"});
  EXPECT_EQ(meta.rfind("m.onnx: fcn_trt metadata: expected valid JSON, found ", 0), 0u) << meta;
  const std::string side = expect_error<fcn_trt::EngineCorruptError>(
      [] { fcn_trt::parse_sidecar("{not json", "x.engine.json", "x.engine"); }, {". Hint: "});
  EXPECT_EQ(side.rfind("engine sidecar x.engine.json: expected valid JSON, found ", 0), 0u) << side;
}

TEST(Sidecar, NotJsonAndMissing) {
  EXPECT_THROW(fcn_trt::parse_sidecar("{not json", "x.engine.json", "x.engine"), fcn_trt::EngineCorruptError);
  EXPECT_THROW(fcn_trt::parse_sidecar("[]", "x.engine.json", "x.engine"), fcn_trt::EngineCorruptError);
  try {
    fcn_trt::read_sidecar(ref_path("nothing_here.engine"));
    FAIL() << "no exception";
  } catch (const fcn_trt::EngineCorruptError&) {
    FAIL() << "missing is not corrupt";
  } catch (const fcn_trt::EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), 3);
  }
}

// --- compatibility rules (fcn_trt/sidecar.py check_engine_compatible; tests/fcn_trt/test_sidecar.py) ---
namespace {
fcn_trt::EngineSidecar sidecar(const std::string& version = "10.3.0", const std::string& cc = "8.7") {
  json doc = python_sidecar();
  doc["engine"]["tensorrt_version"] = version;
  doc["engine"]["compute_capability"] = cc;
  return parse(doc);
}
}  // namespace

TEST(Compatibility, SameVersionAndGpu) {
  EXPECT_NO_THROW(fcn_trt::check_engine_compatible(sidecar(), "10.3.0", "8.7", "m.engine"));
  // TensorRT 10's library reports the build number too; Python's wheel version may not have it
  EXPECT_NO_THROW(fcn_trt::check_engine_compatible(sidecar(), "10.3.0.26", "8.7", "m.engine"));
}

TEST(Compatibility, OtherReleaseOrGpuIsAMismatchWithTheRebuildCommand) {
  expect_error<fcn_trt::EngineMismatchError>(
      [] { fcn_trt::check_engine_compatible(sidecar(), "10.4.0", "8.7", "m.engine"); },
      {"engine m.engine built with TensorRT 10.3 for sm_87 (Orin), this machine has TensorRT 10.4 on sm_87"},
      [](const fcn_trt::EngineMismatchError& e) {
        EXPECT_NE(e.hint().find("rebuild on this machine with: python -m build_engine build"), std::string::npos) << e.hint();
      });
  expect_error<fcn_trt::EngineMismatchError>([] { fcn_trt::check_engine_compatible(sidecar(), "10.3.1", "8.7", "m.engine"); },
                                             {"TensorRT 10.3.0 for sm_87 (Orin), this machine has TensorRT 10.3.1"});
  EXPECT_THROW(fcn_trt::check_engine_compatible(sidecar(), "10.3.0", "8.6", "m.engine"), fcn_trt::EngineMismatchError);
}

TEST(Compatibility, VersionCompatibleAndAmperePlus) {
  json doc = python_sidecar();
  doc["engine"]["build_flags"]["version_compatible"] = true;
  doc["engine"]["build_flags"]["hardware_compatibility"] = "ampere_plus";
  const auto s = parse(doc);
  EXPECT_NO_THROW(fcn_trt::check_engine_compatible(s, "10.8.0", "8.6", "m.engine"));
  EXPECT_NO_THROW(fcn_trt::check_engine_compatible(s, "10.3.0", "9.0", "m.engine"));
  EXPECT_THROW(fcn_trt::check_engine_compatible(s, "10.2.0", "8.7", "m.engine"), fcn_trt::EngineMismatchError);
  EXPECT_THROW(fcn_trt::check_engine_compatible(s, "11.0.0", "8.7", "m.engine"), fcn_trt::EngineMismatchError);
  EXPECT_THROW(fcn_trt::check_engine_compatible(s, "10.3.0", "7.5", "m.engine"), fcn_trt::EngineMismatchError);
}

TEST(Compatibility, BadComputeCapabilityString) {
  EXPECT_THROW(fcn_trt::check_engine_compatible(sidecar(), "10.3.0", "sm87", "m.engine"), fcn_trt::EngineMismatchError);
}

// --- the validator itself --------------------------------------------------------------------------
TEST(JsonSchema, RefusesKeywordsItDoesNotImplement) {
  EXPECT_THROW(fcn_trt::detail::JsonSchema(json::parse(R"({"type": "object", "patternProperties": {}})")), std::logic_error);
  EXPECT_THROW(fcn_trt::detail::JsonSchema(json::parse(R"({"$ref": "#/$defs/none"})")), std::exception);
}

TEST(JsonSchema, IntegersTypesAndOneOf) {
  const fcn_trt::detail::JsonSchema s(json::parse(
      R"({"type": "array", "items": {"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]}, "maxItems": 3})"));
  EXPECT_TRUE(s.validate(json::parse("[null, 1, 2.0]")).empty());
  EXPECT_EQ(s.validate(json::parse("[0.5]")).size(), 1u);
  EXPECT_EQ(s.validate(json::parse("[0]")).size(), 1u);
  EXPECT_EQ(s.validate(json::parse("[1, 1, 1, 1]")).size(), 1u);
  EXPECT_EQ(s.validate(json::parse("{}")).size(), 1u);
}
