// image_codec.h without OpenCV: the deep learning module still builds on
// LibTorch alone (e.g. against a CUDA LibTorch on a GPU machine), and says
// clearly what is missing.

#include "dl/image_codec.h"

namespace wharf::dl {

namespace {
Status NoOpenCv() {
  return Unimplemented("this wharf's deep learning module was built without OpenCV: no image decoding (use IDX files)");
}
}  // namespace

Result<std::pair<std::int64_t, std::int64_t>> SniffPngOrJpegSize(std::string_view) { return NoOpenCv(); }
Status DecodeImageRow(std::string_view, const ImageShape&, float*) { return NoOpenCv(); }
Result<data::ImageSet> ReadImageFolder(const data::ImageFolder&, const ImageShape&, bool, int) { return NoOpenCv(); }
Result<ImageShape> FirstImageShape(const data::ImageFolder&, std::int64_t) { return NoOpenCv(); }
Status DecodeImageFileTo(std::string_view, const ImageShape&, ColorConversion, float*) { return NoOpenCv(); }
Status ConvertGrayPixelsTo(const std::uint8_t*, std::int64_t, std::int64_t, const ImageShape&, ColorConversion, float*) {
  return NoOpenCv();
}

}  // namespace wharf::dl
