#include "voxcast/data/label_table.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace voxcast::data {
namespace {

bool to_int(const std::string& s, long long* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

LabelTable parse_label_table(const std::string& text) {
  LabelTable t;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string s; words >> s;) w.push_back(s);
    long long id = 0;
    if (w.size() < 2 || !to_int(w[0], &id)) continue;
    t.names[id] = w[1];
    // FreeSurfer's colour tables: R G B (and A) after the name.
    long long c[3];
    if (w.size() >= 5 && to_int(w[2], &c[0]) && to_int(w[3], &c[1]) && to_int(w[4], &c[2]) && c[0] >= 0 && c[0] <= 255 &&
        c[1] >= 0 && c[1] <= 255 && c[2] >= 0 && c[2] <= 255)
      t.colors[id] = {static_cast<float>(c[0]) / 255.0f, static_cast<float>(c[1]) / 255.0f,
                      static_cast<float>(c[2]) / 255.0f, 1.0f};
  }
  return t;
}

std::shared_ptr<const LabelTable> find_label_table(const std::string& image_path) {
  namespace fs = std::filesystem;
  std::string base = image_path;
  if (base.size() > 3 && base.compare(base.size() - 3, 3, ".gz") == 0) base.resize(base.size() - 3);
  std::string stem = base;
  if (stem.size() > 4 && stem.compare(stem.size() - 4, 4, ".nii") == 0) stem.resize(stem.size() - 4);
  for (const std::string& candidate : {base + ".txt", stem + ".txt", stem + ".lut.txt"}) {
    std::error_code ec;
    if (!fs::is_regular_file(candidate, ec) || fs::file_size(candidate, ec) > (16u << 20)) continue;
    std::ifstream f(candidate);
    std::stringstream text;
    text << f.rdbuf();
    auto table = std::make_shared<LabelTable>(parse_label_table(text.str()));
    if (!table->names.empty()) return table;
  }
  return nullptr;
}

}  // namespace voxcast::data
