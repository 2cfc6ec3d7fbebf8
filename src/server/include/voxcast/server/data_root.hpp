#pragma once
// What clients may browse and open: paths relative to --data-root, never outside it.
#include <filesystem>
#include <string>
#include <vector>

#include "voxcast/protocol/messages.hpp"

namespace voxcast::server {

struct ResolvedPath {
  std::filesystem::path absolute;  // canonical, inside the root (for the server only)
  std::string relative;            // what clients see ("." for the root)
  std::filesystem::path root;      // the canonical data root (what the dataset's reads stay inside)
};

inline constexpr size_t kMaxPathBytes = 4096;  // PATH_MAX

// Refuses (fs.invalid) a NUL byte or more than kMaxPathBytes; refuses (fs.forbidden) a missing root, absolute paths, ".." components and anything
// that resolves outside the root through symlinks; fs.not_found when it does not exist.
protocol::Result<ResolvedPath> resolve_in_root(const std::string& root, const std::string& requested);
// True when `url` lies under one of `prefixes` (a whole path segment: "https://h/a" allows
// "https://h/a/b", not "https://h/ab") and has no "." or ".." segment, plain or
// percent-encoded, that a store would resolve to somewhere else.
bool remote_url_allowed(const std::vector<std::string>& prefixes, const std::string& url);

struct ListOptions {
  bool show_hidden = false;
  std::vector<std::string> only;  // file suffixes; directories are always listed
  size_t limit = 1000;
};
// The fs.listdir result: {"path", "entries": [{name, path, is_dir, size, mtime, zarr_metadata}], "has_more"},
// paths relative to the root, sorted case-insensitively.
protocol::Result<protocol::Json> list_directory(const std::string& root, const std::string& requested,
                                                const ListOptions& options);
// Datasets directly under a directory that is not one itself (for zarr.disambiguate).
std::vector<std::string> dataset_children(const ResolvedPath& dir);
// How a server path reads in a message: relative to the data root when inside it, else
// only its file name (clients never learn the server's directories). "A+B" stacks are
// shown part by part.
std::string shown_server_path(const std::string& root, const std::string& path);
// A message for clients with every absolute path in it shown so (libraries put file
// names in their errors: libtiff's "/srv/data/x.tif: Not a TIFF file").
std::string shown_server_text(const std::string& root, const std::string& text);

// Default suffixes: what voxcast opens.
std::vector<std::string> dataset_suffixes();

}  // namespace voxcast::server
