#include "fcn_trt/errors.hpp"

namespace fcn_trt {

std::string format_message(const std::string& what, const std::string& expected, const std::string& found,
                           const std::string& hint) {
  std::string msg = what;
  std::string parts;
  if (!expected.empty()) parts = "expected " + expected;
  if (!found.empty()) parts += (parts.empty() ? "" : ", ") + std::string("found ") + found;
  if (!parts.empty()) msg += ": " + parts;
  if (!hint.empty()) msg += ". Hint: " + hint;
  return msg;
}

Error::Error(const std::string& what, const std::string& expected, const std::string& found,
             const std::string& hint, int exit_code)
    : std::runtime_error(format_message(what, expected, found, hint)),
      what_(what),
      expected_(expected),
      found_(found),
      hint_(hint),
      exit_code_(exit_code) {}

}  // namespace fcn_trt
