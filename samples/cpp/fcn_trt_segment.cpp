// fcn_trt_segment: segment an image, a video or a camera with a pipeline .onnx or TensorRT .engine.
//
//   fcn_trt_segment MODEL INPUT OUTPUT [--overlay] [--alpha A] [--max-frames N] [--threads N]
//
//   INPUT   an image file; a video file; or a camera index (0, 1, ...)
//   OUTPUT  image in: an 8-bit single-channel PNG of class ids (with --overlay: a colour overlay)
//           video/camera in: a folder of frame_000000.png ... (class ids, or overlays with
//           --overlay), or a video file (.avi, .mp4, .mkv) of colour overlays
//
// A bad model, input or option ends with one line on stderr and a non-zero exit code (the codes
// of the Python CLI: 2 usage/input, 3 model, 4 backend/GPU, 7 source).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "fcn_trt/segmenter.hpp"

namespace fs = std::filesystem;

namespace {

const char* const kUsage =
    "usage: fcn_trt_segment MODEL INPUT OUTPUT [--overlay] [--alpha A] [--max-frames N] [--threads N]";

struct Args {
  std::string model, input, output;
  bool overlay = false;
  double alpha = 0.5;
  long max_frames = -1;
  int threads = 0;
};

double number(const std::string& flag, const char* text, double lo, double hi) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || v < lo || v > hi)
    throw fcn_trt::ConfigError(flag, "a number in " + std::to_string(lo) + ".." + std::to_string(hi), text, kUsage);
  return v;
}

Args parse(int argc, char** argv) {
  Args a;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) throw fcn_trt::ConfigError(arg, "a value after it", "none", kUsage);
      return argv[++i];
    };
    if (arg == "--overlay") a.overlay = true;
    else if (arg == "--alpha") a.alpha = number(arg, value(), 0.0, 1.0);
    else if (arg == "--max-frames") a.max_frames = static_cast<long>(number(arg, value(), 1, 1e12));
    else if (arg == "--threads") a.threads = static_cast<int>(number(arg, value(), 0, 1024));
    else if (arg == "-h" || arg == "--help") {
      std::cout << kUsage << "\n";
      std::exit(0);
    } else if (arg.size() > 1 && arg[0] == '-' && !std::isdigit(static_cast<unsigned char>(arg[1])))
      throw fcn_trt::ConfigError("option " + arg, "--overlay, --alpha, --max-frames or --threads", arg, kUsage);
    else positional.push_back(arg);
  }
  if (positional.size() != 3)
    throw fcn_trt::ConfigError("arguments", "MODEL INPUT OUTPUT", std::to_string(positional.size()) + " positional arguments",
                               kUsage);
  a.model = positional[0];
  a.input = positional[1];
  a.output = positional[2];
  return a;
}

// The frame the model wants, from a BGR image (rgb: swapped; nv12: Y plane + interleaved UV).
cv::Mat to_model_format(const cv::Mat& bgr, const fcn_trt::PipelineMetadata& meta) {
  if (meta.input_format == "rgb") {
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
  }
  if (meta.input_format != "nv12") return bgr;
  const cv::Mat even = bgr(cv::Rect(0, 0, bgr.cols & ~1, bgr.rows & ~1));
  cv::Mat i420;
  cv::cvtColor(even, i420, cv::COLOR_BGR2YUV_I420);  // Y, then U (H/2 x W/2), then V
  const int h = even.rows, w = even.cols;
  cv::Mat nv12(h * 3 / 2, w, CV_8UC1);
  i420.rowRange(0, h).copyTo(nv12.rowRange(0, h));
  const std::uint8_t* u = i420.ptr<std::uint8_t>(h);
  const std::uint8_t* v = u + (h / 2) * (w / 2);
  for (int y = 0; y < h / 2; ++y) {
    std::uint8_t* row = nv12.ptr<std::uint8_t>(h + y);
    for (int x = 0; x < w / 2; ++x) {
      row[2 * x] = u[y * (w / 2) + x];
      row[2 * x + 1] = v[y * (w / 2) + x];
    }
  }
  return nv12;
}

cv::Mat labels_mat(const fcn_trt::Result& r) {
  return cv::Mat(r.labels.height, r.labels.width, CV_8UC1, const_cast<std::uint8_t*>(r.labels.data.data())).clone();
}

cv::Mat overlay(const cv::Mat& bgr, const fcn_trt::Result& r, const fcn_trt::PipelineMetadata& meta, double alpha) {
  cv::Mat colour(r.labels.height, r.labels.width, CV_8UC3);
  for (int y = 0; y < colour.rows; ++y) {
    const std::uint8_t* l = r.labels.row(y);
    cv::Vec3b* out = colour.ptr<cv::Vec3b>(y);
    for (int x = 0; x < colour.cols; ++x) {
      const auto& rgb = meta.palette[std::min<std::size_t>(l[x], meta.palette.size() - 1)];
      out[x] = cv::Vec3b(rgb[2], rgb[1], rgb[0]);
    }
  }
  cv::Mat base = bgr(cv::Rect(0, 0, colour.cols, colour.rows)), blended;
  cv::addWeighted(base, 1.0 - alpha, colour, alpha, 0.0, blended);
  return blended;
}

void write_image(const std::string& path, const cv::Mat& img) {
  bool ok = false;
  try {
    ok = cv::imwrite(path, img);
  } catch (const cv::Exception& e) {
    throw fcn_trt::SourceError("output " + path, "a writable image path (.png, .jpg...)", e.msg);
  }
  if (!ok) throw fcn_trt::SourceError("output " + path, "a writable image path (.png, .jpg...)", "cv::imwrite failed",
                                      "check that the folder exists and the suffix is an image format");
}

bool is_camera(const std::string& s) { return !s.empty() && std::all_of(s.begin(), s.end(), ::isdigit); }

std::string lower_ext(const std::string& s) {
  std::string ext = fs::path(s).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext;
}

// Output: a video file of overlays (else a folder of PNGs).
bool is_video_path(const std::string& s) {
  const std::string ext = lower_ext(s);
  return ext == ".avi" || ext == ".mp4" || ext == ".mkv";
}

// Input: only these are opened as video (FFmpeg would otherwise print its own lines for a broken image).
const char* const kVideoInputs[] = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv", ".h264"};

bool is_video_input(const std::string& s) {
  const std::string ext = lower_ext(s);
  return std::any_of(std::begin(kVideoInputs), std::end(kVideoInputs), [&](const char* v) { return ext == v; });
}

int segment_stream(fcn_trt::Segmenter& seg, cv::VideoCapture& cap, const Args& a) {
  const auto& meta = seg.metadata();
  const bool to_video = is_video_path(a.output);
  cv::VideoWriter writer;
  if (!to_video) fs::create_directories(a.output);
  long n = 0;
  double infer_ms = 0;
  cv::Mat frame;
  while ((a.max_frames < 0 || n < a.max_frames) && cap.read(frame) && !frame.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    const fcn_trt::Result r = seg.run(to_model_format(frame, meta));
    infer_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (to_video) {
      const cv::Mat out = overlay(frame, r, meta, a.alpha);
      if (!writer.isOpened()) {
        const bool avi = fs::path(a.output).extension() == ".avi";
        const double fps = cap.get(cv::CAP_PROP_FPS) > 0 ? cap.get(cv::CAP_PROP_FPS) : 30.0;
        writer.open(a.output, avi ? cv::VideoWriter::fourcc('M', 'J', 'P', 'G') : cv::VideoWriter::fourcc('m', 'p', '4', 'v'),
                    fps, out.size());
        if (!writer.isOpened())
          throw fcn_trt::SourceError("output " + a.output, "a video file OpenCV can write (.avi MJPG, .mp4 mp4v)",
                                     "cv::VideoWriter did not open", "write a folder of PNGs instead (an OUTPUT without a video suffix)");
      }
      writer.write(out);
    } else {
      char name[32];
      std::snprintf(name, sizeof name, "frame_%06ld.png", n);
      write_image((fs::path(a.output) / name).string(), a.overlay ? overlay(frame, r, meta, a.alpha) : labels_mat(r));
    }
    ++n;
  }
  if (n == 0)
    throw fcn_trt::SourceError("input " + a.input, "at least one frame", "none could be read",
                               "check the file or camera (is another program using it?)");
  std::cerr << "fcn_trt_segment: " << n << " frames -> " << a.output << " (" << seg.backend_name() << ", "
            << infer_ms / static_cast<double>(n) << " ms/frame)\n";
  return 0;
}

int run(int argc, char** argv) {
  const Args a = parse(argc, argv);
  fcn_trt::Options options;
  options.threads = a.threads;
  fcn_trt::Segmenter seg(a.model, options);
  const bool camera = is_camera(a.input);
  if (!camera && !fs::is_regular_file(a.input))
    throw fcn_trt::SourceError("input " + a.input, "an image file, a video file or a camera index", "no such file");
  if (camera || is_video_input(a.input)) {
    cv::VideoCapture cap;
    const bool opened = camera ? cap.open(std::stoi(a.input)) : cap.open(a.input);
    if (!opened && camera)
      throw fcn_trt::SourceError("camera " + a.input, "a camera OpenCV can open", "cv::VideoCapture did not open",
                                 "check the index (ls /dev/video*) and permissions");
    if (!opened)
      throw fcn_trt::SourceError("input " + a.input, "a video OpenCV can decode", "cv::VideoCapture did not open it",
                                 "check the file, or convert it (ffmpeg -i IN -c:v mjpeg OUT.avi)");
    return segment_stream(seg, cap, a);
  }
  const cv::Mat image = cv::imread(a.input, cv::IMREAD_COLOR);
  if (image.empty())
    throw fcn_trt::SourceError("input " + a.input, "an image OpenCV can read (or a video file: .mp4, .avi, .mkv...)",
                               "an unreadable or unsupported file", "convert it to PNG or JPEG");
  const fcn_trt::Result r = seg.run(to_model_format(image, seg.metadata()));
  write_image(a.output, a.overlay ? overlay(image, r, seg.metadata(), a.alpha) : labels_mat(r));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const fcn_trt::Error& e) {
    std::cerr << "fcn_trt_segment: " << e.what() << "\n";
    return e.exit_code();
  } catch (const cv::Exception& e) {
    std::cerr << "fcn_trt_segment: OpenCV: " << e.msg << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "fcn_trt_segment: " << e.what() << "\n";
    return 1;
  }
}
