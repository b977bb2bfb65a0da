// Shared helpers of the C++ tests: where the Python-written reference is, raw file reading.
#pragma once

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fcn_trt_test {

// Compiled in by tests/cpp/CMakeLists.txt: the reference folder make_reference.py writes (ctest
// fixture python_reference) and the source tree.
inline std::string ref_path(const std::string& file) { return std::string(FCN_TRT_TEST_REFERENCE_DIR) + "/" + file; }
inline std::string source(const std::string& file) { return std::string(FCN_TRT_TEST_SOURCE_DIR) + "/" + file; }

inline std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline std::string read_text(const std::string& path) {
  const auto b = read_bytes(path);
  return std::string(b.begin(), b.end());
}

inline nlohmann::json manifest() { return nlohmann::json::parse(read_text(ref_path("manifest.json"))); }

}  // namespace fcn_trt_test
