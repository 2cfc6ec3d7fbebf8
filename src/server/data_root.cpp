#include "voxcast/server/data_root.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <string_view>

#include "voxcast/data/confined.hpp"
#include "voxcast/data/remote_store.hpp"
#include "voxcast/data/zarr.hpp"
#include "voxcast/protocol/json.hpp"

namespace voxcast::server {
namespace fs = std::filesystem;
using protocol::Json;

std::vector<std::string> dataset_suffixes() { return {".zarr", ".ome.zarr", ".tif", ".tiff", ".nii", ".nii.gz"}; }

protocol::Result<ResolvedPath> resolve_in_root(const std::string& root, const std::string& requested) {
  if (root.empty())
    return protocol::make_error("fs.forbidden", "the server was started without --data-root: browsing is off");
  std::error_code ec;
  fs::path base = fs::canonical(root, ec);
  if (ec) return protocol::make_error("fs.forbidden", "the data root is not accessible");
  // Replies quote at most a short prefix of what was asked for.
  const Json quoted = {{"path", protocol::quote_prefix(requested)}};
  // The OS would stop at a NUL and open a different file than the one named.
  if (requested.find('\0') != std::string::npos)
    return protocol::make_error("fs.invalid", "the path contains a NUL byte", quoted);
  if (requested.size() > kMaxPathBytes)
    return protocol::make_error("fs.invalid", "the path is longer than " + std::to_string(kMaxPathBytes) + " bytes", quoted);
  fs::path rel(requested);
  if (rel.is_absolute())
    return protocol::make_error("fs.forbidden", "absolute paths are refused; name a path relative to the data root", quoted);
  for (const auto& part : rel)
    if (part == "..")
      return protocol::make_error("fs.forbidden", "'..' is refused: paths stay inside the data root", quoted);
  fs::path full = (base / rel).lexically_normal();
  if (!fs::exists(full, ec)) return protocol::make_error("fs.not_found", "not found", quoted);
  fs::path real = fs::canonical(full, ec);
  if (ec) return protocol::make_error("fs.not_found", "not accessible", quoted);
  // Symlinks may lead anywhere: the resolved path must still be under the root.
  if (!data::path_is_within(real, base))
    return protocol::make_error("fs.forbidden", "the path leads outside the data root", quoted);
  ResolvedPath out;
  out.absolute = real;
  out.root = base;
  std::string shown = fs::relative(real, base, ec).generic_string();
  out.relative = shown.empty() ? "." : shown;
  return out;
}

std::string shown_server_path(const std::string& root, const std::string& path) {
  // A remote store's key is shown whole: the URL was given to the server, names no server
  // path and never holds credentials (URLs with them are refused on opening).
  if (data::is_remote_url(path)) return path;
  if (path.find('+') != std::string::npos) {
    std::string out;
    size_t begin = 0;
    while (begin <= path.size()) {
      size_t end = std::min(path.find('+', begin), path.size());
      out += (begin ? "+" : "") + shown_server_path(root, path.substr(begin, end - begin));
      begin = end + 1;
    }
    return out;
  }
  std::error_code ec;
  if (!root.empty()) {
    const fs::path base = fs::weakly_canonical(root, ec);
    const fs::path p = fs::weakly_canonical(fs::path(path), ec);
    if (!ec && data::path_is_within(p, base)) {
      std::string rel = fs::relative(p, base, ec).generic_string();
      if (!ec) return rel.empty() ? "." : rel;
    }
  }
  fs::path p = fs::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "dir/x.zarr/"
  return p.filename().string();
}

std::string shown_server_text(const std::string& root, const std::string& text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const bool starts_token = i == 0 || std::string_view(" \t\n('\"=").find(text[i - 1]) != std::string_view::npos;
    if (text[i] == '/' && starts_token) {
      size_t end = text.find_first_of(" \t\n'\"),:", i);
      if (end == std::string::npos) end = text.size();
      out += shown_server_path(root, text.substr(i, end - i));
      i = end;
    } else {
      out += text[i++];
    }
  }
  return out;
}

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
bool has_multiscales(const fs::path& dir) {
  std::ifstream f(dir / ".zattrs");
  if (!f) return false;
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return text.find("\"multiscales\"") != std::string::npos;
}
}  // namespace

std::vector<std::string> dataset_children(const ResolvedPath& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir.absolute, ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    bool ds = (e.is_directory(ec) && data::looks_like_zarr(e.path().string()));
    if (!ds && e.is_regular_file(ec))
      for (const auto& suffix : dataset_suffixes())
        if (lower(name).size() > suffix.size() && lower(name).compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
          ds = true;
    if (ds) out.push_back(dir.relative == "." ? name : dir.relative + "/" + name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

protocol::Result<Json> list_directory(const std::string& root, const std::string& requested, const ListOptions& options) {
  auto resolved = resolve_in_root(root, requested.empty() ? "." : requested);
  if (!resolved) return resolved.error();
  std::error_code ec;
  if (!fs::is_directory(resolved->absolute, ec))
    return protocol::make_error("fs.not_found", "Path is not a directory", {{"path", protocol::quote_prefix(requested)}});
  struct Entry {
    std::string key;
    Json json;
  };
  std::vector<Entry> entries;
  for (const auto& e : fs::directory_iterator(resolved->absolute, ec)) {
    std::string name = e.path().filename().string();
    if (!options.show_hidden && !name.empty() && name[0] == '.') continue;
    std::error_code e2;
    bool is_dir = e.is_directory(e2);
    if (!is_dir) {
      bool match = options.only.empty();
      for (const auto& suffix : options.only)
        if (lower(name).size() >= suffix.size() &&
            lower(name).compare(name.size() - suffix.size(), suffix.size(), lower(suffix)) == 0)
          match = true;
      if (!match) continue;
    }
    // Entries are only described: a symlink leading out of the root is listed by name
    // but refused when opened.
    Json j = {{"name", name},
              {"path", resolved->relative == "." ? name : resolved->relative + "/" + name},
              {"is_dir", is_dir},
              {"size", is_dir ? 0 : static_cast<int64_t>(e.file_size(e2))}};
    auto mtime = e.last_write_time(e2);
    j["mtime"] = e2 ? 0.0
                    : std::chrono::duration<double>(std::chrono::file_clock::to_sys(mtime).time_since_epoch()).count();
    if (is_dir) {
      bool ds = data::looks_like_zarr(e.path().string());
      Json children = Json::array();
      if (ds)
        for (const auto& c : fs::directory_iterator(e.path(), e2))
          if (c.is_directory(e2) && fs::exists(c.path() / ".zarray", e2)) children.push_back(c.path().filename().string());
      j["zarr_metadata"] = ds ? Json{{"is_dataset", true}, {"has_multiscales", has_multiscales(e.path())},
                                     {"dataset_children", children}}
                              : Json(nullptr);
    } else {
      j["zarr_metadata"] = nullptr;
    }
    entries.push_back({lower(name), std::move(j)});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
  Json list = Json::array();
  for (size_t i = 0; i < entries.size() && i < options.limit; ++i) list.push_back(std::move(entries[i].json));
  return Json{{"path", resolved->relative}, {"entries", list}, {"has_more", entries.size() > options.limit}};
}

bool remote_url_allowed(const std::vector<std::string>& prefixes, const std::string& url) {
  std::string lower = url;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("%2e") != std::string::npos || lower.find("%2f") != std::string::npos ||
      lower.find('\\') != std::string::npos)
    return false;
  for (size_t at = url.find("/."); at != std::string::npos; at = url.find("/.", at + 1)) {
    const size_t end = url.find('/', at + 1);
    const std::string segment = url.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
    if (segment == "." || segment == "..") return false;
  }
  for (const auto& p : prefixes) {
    if (p.empty() || url.compare(0, p.size(), p) != 0) continue;
    if (p.back() == '/' || url.size() == p.size() || url[p.size()] == '/') return true;
  }
  return false;
}

}  // namespace voxcast::server
