// Shared helpers of the C++ tests: where the Python-written reference is, raw file reading, error checks.
#pragma once

#include <exception>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <utility>
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

// Runs `f`, expects exception E whose message contains every one of `parts`, then runs `check` on
// it (its other fields); returns the message.
template <typename E, typename F, typename Check>
std::string expect_error(F&& f, std::initializer_list<const char*> parts, Check&& check) {
  try {
    f();
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    check(e);
    return msg;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no exception";
  return "";
}

template <typename E, typename F>
std::string expect_error(F&& f, std::initializer_list<const char*> parts) {
  return expect_error<E>(std::forward<F>(f), parts, [](const E&) {});
}

inline nlohmann::json manifest() { return nlohmann::json::parse(read_text(ref_path("manifest.json"))); }

}  // namespace fcn_trt_test
