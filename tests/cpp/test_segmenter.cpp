// fcn_trt::Segmenter against the Python SDK: same labels on the demo model, the same errors.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>

#include "fcn_trt/segmenter.hpp"
#include "fcn_trt/sidecar.hpp"
#include "test_support.hpp"

using fcn_trt_test::expect_error;
using fcn_trt_test::manifest;
using fcn_trt_test::read_bytes;
using fcn_trt_test::ref_path;
using nlohmann::json;

namespace {

struct Case {
  std::string name;
  int h = 0, w = 0, channels = 3, label_h = 0, label_w = 0;
  std::vector<unsigned char> frame, labels;
  std::vector<float> confidence;
};

Case load(const json& e) {
  Case c;
  c.name = e["name"].get<std::string>();
  c.h = e["height"].get<int>();
  c.w = e["width"].get<int>();
  c.channels = e["channels"].get<int>();
  c.label_h = e["label_height"].get<int>();
  c.label_w = e["label_width"].get<int>();
  c.frame = read_bytes(ref_path(e["frame"].get<std::string>()));
  c.labels = read_bytes(ref_path(e["labels"].get<std::string>()));
  if (e.contains("confidence")) {
    const auto raw = read_bytes(ref_path(e["confidence"].get<std::string>()));
    c.confidence.resize(raw.size() / sizeof(float));
    std::memcpy(c.confidence.data(), raw.data(), raw.size());
  }
  EXPECT_EQ(c.frame.size(), static_cast<std::size_t>(c.h) * c.w * c.channels) << c.name;
  EXPECT_EQ(c.labels.size(), static_cast<std::size_t>(c.label_h) * c.label_w) << c.name;
  return c;
}

fcn_trt::FrameView view(const Case& c) { return fcn_trt::FrameView{c.frame.data(), c.h, c.w, c.channels, 0}; }

std::size_t mismatches(const fcn_trt::Image<std::uint8_t>& got, const std::vector<unsigned char>& want) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < want.size() && i < got.data.size(); ++i) bad += got.data[i] != want[i];
  return bad + (got.data.size() > want.size() ? got.data.size() - want.size() : want.size() - got.data.size());
}

std::string demo_model() { return manifest()["demo_model"].get<std::string>(); }

}  // namespace

TEST(DemoModel, LabelsEqualPythonAtSeveralSizes) {
  fcn_trt::Segmenter seg(demo_model());
  EXPECT_EQ(seg.backend_name(), "onnxruntime");
  EXPECT_EQ(seg.metadata().num_classes(), 5);
  const json all = manifest();
  const json& cases = all["demo"];
  ASSERT_GE(cases.size(), 4u);
  for (const auto& e : cases) {
    const Case c = load(e);
    ASSERT_GT(e["distinct_labels"].get<int>(), 1) << c.name << ": a reference with one class proves little";
    const fcn_trt::Result r = seg.run(view(c));
    EXPECT_EQ(r.labels.height, c.h);
    EXPECT_EQ(r.labels.width, c.w);
    EXPECT_FALSE(r.confidence.has_value());
    EXPECT_EQ(mismatches(r.labels, c.labels), 0u) << c.name;
  }
}

TEST(DemoModel, StridedFrameGivesTheSameLabels) {
  fcn_trt::Segmenter seg(demo_model());
  const Case c = load(manifest()["demo"][1]);
  const std::size_t row = static_cast<std::size_t>(c.w) * 3, stride = row + 37;
  std::vector<unsigned char> padded(stride * c.h, 0xAB);
  for (int y = 0; y < c.h; ++y) std::memcpy(padded.data() + y * stride, c.frame.data() + y * row, row);
  const auto r = seg.run(fcn_trt::FrameView{padded.data(), c.h, c.w, 3, stride});
  EXPECT_EQ(mismatches(r.labels, c.labels), 0u);
}

TEST(DemoModel, RunBatchEqualsPython) {
  fcn_trt::Segmenter seg(demo_model());
  std::vector<Case> cases;
  const json all = manifest();
  for (const auto& e : all["demo_batch"]) cases.push_back(load(e));
  ASSERT_EQ(cases.size(), 3u);
  std::vector<fcn_trt::FrameView> views;
  for (const auto& c : cases) views.push_back(view(c));
  const auto results = seg.run_batch(views);
  ASSERT_EQ(results.size(), 3u);
  for (std::size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(mismatches(results[i].labels, cases[i].labels), 0u) << i;
}

TEST(TinyModel, ConfidenceAndLabelsAtInferenceSizeEqualPython) {
  fcn_trt::Segmenter seg(manifest()["tiny_model"].get<std::string>());
  EXPECT_FALSE(seg.metadata().resize_back);
  const json all = manifest();
  for (const auto& e : all["tiny"]) {
    const Case c = load(e);
    const auto r = seg.run(view(c));
    EXPECT_EQ(mismatches(r.labels, c.labels), 0u) << c.name;
    ASSERT_TRUE(r.confidence.has_value()) << c.name;
    ASSERT_EQ(r.confidence->data.size(), c.confidence.size());
    float worst = 0.f;
    for (std::size_t i = 0; i < c.confidence.size(); ++i)
      worst = std::max(worst, std::abs(r.confidence->data[i] - c.confidence[i]));
    EXPECT_LE(worst, 1e-6f) << c.name;
  }
}

TEST(TinyModel, Nv12FramesEqualPython) {
  fcn_trt::Segmenter seg(manifest()["nv12_model"].get<std::string>());
  EXPECT_TRUE(seg.metadata().is_nv12());
  const json all = manifest();
  for (const auto& e : all["nv12"]) {
    const Case c = load(e);
    ASSERT_EQ(c.channels, 1);
    const auto r = seg.run(view(c));
    EXPECT_EQ(r.labels.height, c.h * 2 / 3) << c.name;  // the image is H x W, the frame H*3/2 x W
    EXPECT_EQ(mismatches(r.labels, c.labels), 0u) << c.name;
  }
  std::vector<unsigned char> bgr(48 * 80 * 3);
  expect_error<fcn_trt::FrameShapeError>([&] { seg.run({bgr.data(), 48, 80, 3, 0}); }, {"nv12", "48 x 80 x 3", "interleaved UV"});
  expect_error<fcn_trt::FrameShapeError>([&] { seg.run({bgr.data(), 71, 80, 1, 0}); }, {"71 x 80 x 1"});
}

TEST(Segmenter, IsMoveOnlyAndSaysWhenUsedAfterMove) {
  static_assert(!std::is_copy_constructible<fcn_trt::Segmenter>::value, "move-only");
  static_assert(std::is_nothrow_move_constructible<fcn_trt::Segmenter>::value, "noexcept move");
  fcn_trt::Segmenter a(demo_model());
  fcn_trt::Segmenter b(std::move(a));
  EXPECT_EQ(b.metadata().num_classes(), 5);
  expect_error<fcn_trt::ClosedError>([&] { (void)a.metadata(); }, {"Segmenter", "moved from"});  // NOLINT
}

// --- bad frames: the checks and fixes of fcn_trt/validation.py --------------------------------------
class BadFrames : public ::testing::Test {
 protected:
  void SetUp() override { seg_.reset(new fcn_trt::Segmenter(demo_model())); }
  std::unique_ptr<fcn_trt::Segmenter> seg_;
  std::vector<unsigned char> pixels_ = std::vector<unsigned char>(64 * 64 * 4, 100);
};

TEST_F(BadFrames, GrayscaleFrameSaysHowToConvert) {
  const auto msg = expect_error<fcn_trt::FrameShapeError>(
      [&] { seg_->run({pixels_.data(), 64, 64, 1, 0}); }, {"frame: expected uint8 BGR frame of H x W x 3", "found 64 x 64 x 1", "COLOR_GRAY2BGR"});
  EXPECT_NE(msg.find("Hint:"), std::string::npos);
}

TEST_F(BadFrames, FourChannelFrameSaysDropAlpha) {
  expect_error<fcn_trt::FrameShapeError>([&] { seg_->run({pixels_.data(), 64, 64, 4, 0}); }, {"64 x 64 x 4", "COLOR_BGRA2BGR"});
}

TEST_F(BadFrames, EmptyFrame) {
  expect_error<fcn_trt::EmptyFrameError>([&] { seg_->run({pixels_.data(), 0, 64, 3, 0}); }, {"empty frame", "no pixels"});
  expect_error<fcn_trt::EmptyFrameError>([&] { seg_->run({nullptr, 0, 0, 3, 0}); }, {"empty frame"});
}

TEST_F(BadFrames, NullDataWithASize) {
  expect_error<fcn_trt::FrameTypeError>([&] { seg_->run({nullptr, 64, 64, 3, 0}); }, {"null data pointer", "read failed"});
}

TEST_F(BadFrames, StrideSmallerThanARow) {
  expect_error<fcn_trt::FrameShapeError>([&] { seg_->run({pixels_.data(), 32, 64, 3, 100}); },
                                         {"frame stride", "at least width * channels = 192 bytes", "found 100 bytes", "step[0]"});
}

TEST_F(BadFrames, BatchOfMixedSizesAndEmptyBatch) {
  const fcn_trt::FrameView a{pixels_.data(), 32, 32, 3, 0}, b{pixels_.data(), 32, 40, 3, 0};
  expect_error<fcn_trt::FrameShapeError>([&] { seg_->run_batch({a, b}); }, {"frames of one size", "call run() per frame"});
  expect_error<fcn_trt::EmptyFrameError>([&] { seg_->run_batch(std::vector<fcn_trt::FrameView>{}); }, {"at least one frame"});
  expect_error<fcn_trt::FrameShapeError>([&] { seg_->run_batch({a, {pixels_.data(), 32, 32, 1, 0}}); }, {"frames[1]"});
}

TEST_F(BadFrames, InputErrorsExitWithCode2) {
  expect_error<fcn_trt::InputError>([&] { seg_->run({pixels_.data(), 64, 64, 1, 0}); }, {}, [](const fcn_trt::InputError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_EQ(e.subject(), "frame");
    EXPECT_FALSE(e.hint().empty());
  });
}

// --- bad models ---------------------------------------------------------------------------------
TEST(BadModels, MissingFile) {
  expect_error<fcn_trt::ModelNotFoundError>([] { fcn_trt::Segmenter s(ref_path("no_such_model.onnx")); },
                                            {"model file", "an existing .onnx file", "no_such_model.onnx"});
}

TEST(BadModels, CorruptTruncatedAndEmptyOnnx) {
  for (const char* name : {"corrupt.onnx", "truncated.onnx", "empty.onnx"}) {
    const auto msg = expect_error<fcn_trt::ModelFormatError>([&] { fcn_trt::Segmenter s(ref_path(name)); },
                                                             {name, "an ONNX model ONNX Runtime can load", "Hint:"});
    EXPECT_GT(msg.size(), 40u) << msg;
  }
}

TEST(BadModels, ForeignModelWithoutPipelineMetadata) {
  expect_error<fcn_trt::MetadataError>([] { fcn_trt::Segmenter s(ref_path("foreign.onnx")); },
                                       {"foreign.onnx has no fcn_trt pipeline metadata"}, [](const fcn_trt::MetadataError& e) {
                                         EXPECT_EQ(e.exit_code(), 3);
                                         EXPECT_NE(e.hint().find("python -m build_engine export --onnx"), std::string::npos);
                                       });
}

TEST(BadModels, PipelineMetadataOnAGraphWithTheWrongInputs) {
  expect_error<fcn_trt::ModelFormatError>([] { fcn_trt::Segmenter s(ref_path("wrong_io.onnx")); },
                                          {"wrong_io.onnx", "one uint8 input 'frame'", "frame float32"});
}

TEST(BadModels, UnknownSuffix) {
  expect_error<fcn_trt::ConfigError>([] { fcn_trt::Segmenter s("model.pt"); }, {"model file model.pt", "suffix .pt", "Backend::OnnxRuntime"});
}

// --- engines: the sidecar comes first -----------------------------------------------------------
TEST(Engines, MissingSidecarIsReportedBeforeTheEngineIsTouched) {
  const std::string engine = ref_path("demo_copy_without_sidecar.engine");
  { std::ofstream(engine, std::ios::binary) << "plan bytes"; }
  const auto msg = expect_error<fcn_trt::EngineError>([&] { fcn_trt::Segmenter s(engine); },
                                                      {"engine sidecar", ".engine.json", "no such file", "copy demo_copy_without_sidecar.engine.json together with", "python -m build_engine build"});
  try {
    fcn_trt::Segmenter s(engine);
  } catch (const fcn_trt::EngineCorruptError&) {
    ADD_FAILURE() << "a missing sidecar is not a corrupt one";
  } catch (const fcn_trt::EngineError&) {
  }
}

TEST(Engines, CorruptSidecar) {
  const std::string engine = ref_path("corrupt_sidecar.engine");
  { std::ofstream(engine, std::ios::binary) << "plan bytes"; }
  { std::ofstream(engine + ".json") << "{\"schema\": \"fcn_trt.engine/1\", \"pipeline\": {}, \"engine\": {}}"; }
  expect_error<fcn_trt::EngineCorruptError>([&] { fcn_trt::Segmenter s(engine); },
                                            {"engine sidecar", "fcn_trt.engine/1", "/engine: expected member \"tensorrt_version\"", "Hint: rebuild"});
}

TEST(Engines, ValidSidecarWrittenByPythonGetsPastTheSidecarCheck) {
  bool has_trt = false;
  for (const auto& b : fcn_trt::available_backends()) has_trt = has_trt || b == "tensorrt";
  if (has_trt) {
    // with TensorRT: no GPU here -> NoCudaDeviceError; with a GPU: "10.3.0"/sm_87 mismatch or a corrupt plan
    EXPECT_THROW(fcn_trt::Segmenter s(ref_path("python.engine")), fcn_trt::Error);
  } else {
    expect_error<fcn_trt::BackendUnavailableError>([] { fcn_trt::Segmenter s(ref_path("python.engine")); },
                                                   {"TensorRT backend for python.engine", "-DTENSORRT_ROOT"});
  }
}

// --- cv::Mat overloads --------------------------------------------------------------------------
#ifdef FCN_TRT_WITH_OPENCV
TEST(OpenCv, RegionOfALargerMatGivesPythonsLabels) {
  fcn_trt::Segmenter seg(demo_model());
  const Case c = load(manifest()["demo"][2]);
  cv::Mat big(c.h + 20, c.w + 30, CV_8UC3, cv::Scalar(7, 7, 7));
  cv::Mat roi = big(cv::Rect(11, 5, c.w, c.h));  // rows (c.w + 30) * 3 bytes apart: not contiguous
  cv::Mat(c.h, c.w, CV_8UC3, const_cast<unsigned char*>(c.frame.data())).copyTo(roi);
  ASSERT_FALSE(roi.isContinuous());
  EXPECT_EQ(mismatches(seg.run(roi).labels, c.labels), 0u);
  const auto both = seg.run_batch(std::vector<cv::Mat>{roi, roi.clone()});
  EXPECT_EQ(mismatches(both[1].labels, c.labels), 0u);
}

TEST(OpenCv, FloatEmptyAndGrayMats) {
  fcn_trt::Segmenter seg(demo_model());
  expect_error<fcn_trt::FrameTypeError>([&] { seg.run(cv::Mat(8, 8, CV_32FC3)); }, {"CV_8U", "convertTo"});
  expect_error<fcn_trt::EmptyFrameError>([&] { seg.run(cv::Mat()); }, {"empty frame"});
  expect_error<fcn_trt::FrameShapeError>([&] { seg.run(cv::Mat(8, 8, CV_8UC1)); }, {"8 x 8 x 1", "COLOR_GRAY2BGR"});
}
#else
TEST(OpenCv, NotBuilt) { GTEST_SKIP() << "the library was built without OpenCV: no cv::Mat overloads to test"; }
#endif
