// What clients may learn of server paths (issue 16, item 4).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "voxcast/server/data_root.hpp"

using namespace voxcast::server;
namespace fs = std::filesystem;

TEST(Paths, ServerPathsAreShownRelativeToTheRootOrByNameOnly) {
  char tmpl[] = "/tmp/voxcast-paths-XXXXXX";
  const std::string root = fs::canonical(mkdtemp(tmpl)).string();
  fs::create_directories(root + "/sub/a.zarr");
  EXPECT_EQ(shown_server_path(root, root + "/sub/a.zarr/0/1.2"), "sub/a.zarr/0/1.2");
  EXPECT_EQ(shown_server_path(root, root), ".");
  EXPECT_EQ(shown_server_path(root, "/root/private/x.tif"), "x.tif");
  EXPECT_EQ(shown_server_path("", "/root/private/x.zarr/"), "x.zarr");
  EXPECT_EQ(shown_server_path("", "synthetic"), "synthetic");
  EXPECT_EQ(shown_server_path(root, "s3://bucket/a.zarr/0/c/1/2"), "s3://bucket/a.zarr/0/c/1/2");
  EXPECT_EQ(shown_server_path("", "https://h/a.zarr/0/1.2"), "https://h/a.zarr/0/1.2");
  EXPECT_EQ(shown_server_path(root, "/usr/share/a.nii.gz+" + root + "/sub/a.zarr"), "a.nii.gz+sub/a.zarr");
  fs::remove_all(root);
}

TEST(Paths, AbsolutePathsInsideMessagesAreShownThatWayToo) {
  EXPECT_EQ(shown_server_text("/srv/data", "/srv/data/a/x.tif: Not a TIFF file, bad magic number"),
            "a/x.tif: Not a TIFF file, bad magic number");
  EXPECT_EQ(shown_server_text("/srv/data", "cannot open '/root/secret/y.nii' (mode 1/2)"),
            "cannot open 'y.nii' (mode 1/2)");
  EXPECT_EQ(shown_server_text("", "TIFFReadDirectory: /home/u/z.tif: bad"), "TIFFReadDirectory: z.tif: bad");
}

TEST(Paths, NulAndOversizedPathsAreRefused) {
  char tmpl[] = "/tmp/voxcast-paths-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  auto nul = resolve_in_root(root, std::string("a\0b", 3));
  ASSERT_FALSE(nul);
  EXPECT_EQ(nul.error().code, "fs.invalid");
  auto big = resolve_in_root(root, std::string(1 << 20, 'a'));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, "fs.invalid");
  EXPECT_LT(big.error().details.dump().size(), 200u);  // quotes a short prefix only
  fs::remove_all(root);
}

TEST(RemoteAllow, ClientsOpenUrlsOnlyUnderTheServersPrefixes) {
  const std::vector<std::string> allow = {"https://data.example.org/public", "s3://lab-bucket/"};
  EXPECT_TRUE(remote_url_allowed(allow, "https://data.example.org/public"));
  EXPECT_TRUE(remote_url_allowed(allow, "https://data.example.org/public/a/b.ome.zarr"));
  EXPECT_TRUE(remote_url_allowed(allow, "s3://lab-bucket/scan.zarr"));
  EXPECT_FALSE(remote_url_allowed(allow, "https://data.example.org/publicity/x.zarr")) << "a whole segment only";
  EXPECT_FALSE(remote_url_allowed(allow, "https://data.example.org/public/../private/x.zarr"));
  EXPECT_FALSE(remote_url_allowed(allow, "https://data.example.org/public/./x/../../y"));
  EXPECT_FALSE(remote_url_allowed(allow, "https://data.example.org/public/%2e%2e/private"));
  EXPECT_FALSE(remote_url_allowed(allow, "https://data.example.org/public/%2E%2E/private"));
  EXPECT_FALSE(remote_url_allowed(allow, "https://data.example.org/public%2f..%2fprivate"));
  EXPECT_FALSE(remote_url_allowed(allow, "http://169.254.169.254/latest/meta-data"));
  EXPECT_FALSE(remote_url_allowed(allow, "s3://lab-bucket-2/x"));
  EXPECT_FALSE(remote_url_allowed({}, "https://data.example.org/public/x"));
  EXPECT_TRUE(remote_url_allowed(allow, "https://data.example.org/public/.hidden.zarr")) << "a dot file is a name";
}
