#include "voxcast/server/http_routes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "voxcast/server/server.hpp"

using namespace voxcast::server;
namespace fs = std::filesystem;

TEST(HttpRoutes, RouteByMethodPathAndUpgrade) {
  EXPECT_EQ(route_request("GET", "/", true), Route::control_ws);
  EXPECT_EQ(route_request("GET", "/?token=x", true), Route::control_ws);
  EXPECT_EQ(route_request("GET", "/pixel?token=x", true), Route::pixel_ws);
  EXPECT_EQ(route_request("GET", "/pixelx", true), Route::control_ws);
  EXPECT_EQ(route_request("GET", "/", false), Route::static_file);
  EXPECT_EQ(route_request("HEAD", "/app.js", false), Route::static_file);
  EXPECT_EQ(route_request("GET", "/healthz", false), Route::healthz);
  EXPECT_EQ(route_request("GET", "/metrics?token=a", false), Route::metrics);
  EXPECT_EQ(route_request("POST", "/", false), Route::bad_method);
  EXPECT_EQ(route_request("DELETE", "/metrics", false), Route::bad_method);
}

TEST(HttpRoutes, TokenFromQueryOrBearer) {
  EXPECT_EQ(request_token("/pixel?token=abc", ""), "abc");
  EXPECT_EQ(request_token("/pixel?x=1&token=abc&y=2", ""), "abc");
  EXPECT_EQ(request_token("/pixel", "Bearer zz"), "zz");
  EXPECT_EQ(request_token("/pixel", "Basic zz"), "");
  EXPECT_EQ(request_token("/pixel?tokenx=1", ""), "");
}

TEST(HttpRoutes, WebFilesStayInsideTheRoot) {
  fs::path root = fs::temp_directory_path() / ("voxcast-routes-" + std::to_string(::getpid()));
  fs::create_directories(root / "sub");
  std::ofstream(root / "index.html") << "x";
  std::ofstream(root / "sub" / "a b.js") << "x";
  std::ofstream(root.string() + "-outside") << "x";
  fs::create_symlink(root.string() + "-outside", root / "out");
  auto canon = fs::canonical(root);
  EXPECT_EQ(resolve_web_file(root, "/"), canon / "index.html");
  EXPECT_EQ(resolve_web_file(root, "/index.html"), canon / "index.html");
  EXPECT_EQ(resolve_web_file(root, "/sub/a%20b.js"), canon / "sub" / "a b.js");
  EXPECT_FALSE(resolve_web_file(root, "/sub/"));  // no index.html there
  for (const char* bad : {"", "index.html", "/../x", "/sub/../index.html", "/%2e%2e/x", "/%2E%2E/x", "/./index.html",
                          "//index.html", "/index.html%00", "/%zz", "/%4", "/out", "/sub\\..\\index.html", "/sub"})
    EXPECT_FALSE(resolve_web_file(root, bad)) << bad;
  EXPECT_FALSE(resolve_web_file(root / "missing", "/"));
  EXPECT_TRUE(web_client_built(root));
  EXPECT_FALSE(web_client_built(root / "sub"));
  EXPECT_FALSE(web_client_built(""));
  fs::remove_all(root);
  fs::remove(root.string() + "-outside");
}

TEST(HttpRoutes, ContentTypes) {
  EXPECT_EQ(content_type_for("a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("app.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("x.wasm"), "application/wasm");
  EXPECT_EQ(content_type_for("x.bin"), "application/octet-stream");
}

TEST(HttpRoutes, MissingPageRevealsNoPath) {
  std::string page = web_client_missing_page("/root/secret/place/web");
  EXPECT_EQ(page.find("/root/secret"), std::string::npos);
  EXPECT_NE(page.find("scripts/build-web.sh"), std::string::npos);
}

TEST(HttpRoutes, MetricsAreValidPrometheusText) {
  ServerStats s;
  s.frames_sent = 42;
  s.pixel_clients = 2;
  s.render.renderer_3d = "cpu";
  s.render.encoder = "libx264";
  std::string text = metrics_text(s);
  EXPECT_NE(text.find("# TYPE voxcast_frames_sent_total counter\nvoxcast_frames_sent_total 42\n"), std::string::npos);
  EXPECT_NE(text.find("voxcast_pixel_clients 2\n"), std::string::npos);
  EXPECT_NE(text.find("voxcast_build_info{renderer_3d=\"cpu\",encoder=\"libx264\"} 1\n"), std::string::npos);
  // Every sample line is "name[{labels}] value".
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    ASSERT_NE(end, std::string::npos);
    std::string line = text.substr(pos, end - pos);
    if (line[0] != '#') {
      EXPECT_EQ(std::count(line.begin(), line.end(), ' '), 1) << line;
    }
    pos = end + 1;
  }
}

TEST(HttpRoutes, BrowserUrl) {
  EXPECT_EQ(browser_url(false, "127.0.0.1", 8081, "tok"), "http://127.0.0.1:8081/?token=tok");
  EXPECT_EQ(browser_url(true, "0.0.0.0", 9000, ""), "https://127.0.0.1:9000/");
  EXPECT_EQ(browser_url(false, "::1", 1, "t"), "http://[::1]:1/?token=t");
}
