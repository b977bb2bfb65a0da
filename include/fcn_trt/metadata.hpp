// Pipeline metadata: what a pipeline graph (or an engine built from it) expects and produces.
// The C++ twin of fcn_trt/metadata.py; read from the ONNX metadata_props entry "fcn_trt" or from
// the "pipeline" member of an engine sidecar, and checked against the same JSON Schema
// (fcn_trt/schemas/engine_sidecar.schema.json, $defs/pipeline) in both places.
//
//   auto meta = fcn_trt::PipelineMetadata::from_json(text, "model.onnx");
//   meta.class_names[label]  // name of a class id
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fcn_trt/errors.hpp"

namespace fcn_trt {

struct PipelineMetadata {
  std::vector<std::string> class_names;
  std::vector<std::array<std::uint8_t, 3>> palette;  // one RGB colour per class id
  std::string input_format = "bgr";                  // "bgr", "rgb" ([N,H,W,3]) or "nv12" ([N,H*3/2,W])
  std::string channel_order = "bgr";
  std::vector<double> mean;
  std::vector<double> std;
  std::optional<std::pair<int, int>> inference_size;  // (h, w) the graph resizes to, if any
  bool resize_back = true;
  std::vector<std::string> outputs{"labels"};
  std::string variant = "custom";
  int width_divisor = 1;
  std::string weights_sha256;
  std::string precision = "fp32";
  std::string model_name;
  std::string schema = "fcn_trt.pipeline/1";

  int num_classes() const { return static_cast<int>(class_names.size()); }
  bool has_output(const std::string& name) const;
  bool is_nv12() const { return input_format == "nv12"; }

  // Parse and check a JSON object (the metadata record). Throws MetadataError naming `source`.
  static PipelineMetadata from_json(const std::string& text, const std::string& source = "model");
};

}  // namespace fcn_trt
