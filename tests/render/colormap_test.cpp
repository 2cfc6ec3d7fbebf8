#include <gtest/gtest.h>

#include "voxcast/render/colormap.hpp"

using namespace voxcast::render;

TEST(Colormap, EveryNamedMapExistsAndSpansDarkToBright) {
  for (const auto& name : colormap_names()) {
    auto c = find_colormap(name);
    ASSERT_TRUE(c) << name;
    Rgb lo = sample(*c, 0.0f), hi = sample(*c, 1.0f);
    EXPECT_LT(lo.r + lo.g + lo.b, hi.r + hi.g + hi.b + 0.5f) << name;
  }
  EXPECT_FALSE(find_colormap("nope"));
  EXPECT_TRUE(find_colormap("GrEeN"));
}

TEST(Colormap, KnownEndpoints) {
  auto green = *find_colormap("green");
  EXPECT_FLOAT_EQ(sample(green, 1.0f).g, 1.0f);
  EXPECT_FLOAT_EQ(sample(green, 1.0f).r, 0.0f);
  EXPECT_NEAR(sample(green, 0.5f).g, 0.5f, 0.01f);
  auto viridis = *find_colormap("viridis");
  // matplotlib viridis: #440154 at 0, #fde725 at 1.
  EXPECT_NEAR(sample(viridis, 0).r, 0x44 / 255.0, 0.02);
  EXPECT_NEAR(sample(viridis, 0).b, 0x54 / 255.0, 0.02);
  EXPECT_NEAR(sample(viridis, 1).r, 0xfd / 255.0, 0.02);
  EXPECT_NEAR(sample(viridis, 1).g, 0xe7 / 255.0, 0.02);
  auto magma = *find_colormap("magma");
  EXPECT_NEAR(sample(magma, 1).r, 0xfc / 255.0, 0.02);  // #fcfdbf
  auto inferno = *find_colormap("inferno");
  EXPECT_NEAR(sample(inferno, 1).b, 0xa4 / 255.0, 0.03);  // #fcffa4
  auto turbo = *find_colormap("turbo");
  EXPECT_NEAR(sample(turbo, 0).r, 0x30 / 255.0, 0.06);  // #30123b
}

// matplotlib's published tables (_cm_listed.py), entries 0, 128 and 255, exactly.
TEST(Colormap, PerceptualMapsAreThePublishedTables) {
  struct Entry {
    const char* name;
    size_t i;
    float r, g, b;
  };
  const Entry want[] = {{"viridis", 0, 0.267004f, 0.004874f, 0.329415f}, {"viridis", 128, 0.127568f, 0.566949f, 0.550556f},
                        {"viridis", 255, 0.993248f, 0.906157f, 0.143936f}, {"magma", 0, 0.001462f, 0.000466f, 0.013866f},
                        {"magma", 128, 0.716387f, 0.214982f, 0.47529f},    {"magma", 255, 0.987053f, 0.991438f, 0.749504f},
                        {"inferno", 128, 0.735683f, 0.215906f, 0.330245f}, {"inferno", 255, 0.988362f, 0.998364f, 0.644924f},
                        {"turbo", 0, 0.18995f, 0.07176f, 0.23217f},        {"turbo", 128, 0.64362f, 0.98999f, 0.23356f},
                        {"turbo", 255, 0.4796f, 0.01583f, 0.01055f}};
  for (const Entry& e : want) {
    auto c = find_colormap(e.name);
    ASSERT_TRUE(c) << e.name;
    EXPECT_FLOAT_EQ(c->table[e.i].r, e.r) << e.name << "[" << e.i << "]";
    EXPECT_FLOAT_EQ(c->table[e.i].g, e.g) << e.name << "[" << e.i << "]";
    EXPECT_FLOAT_EQ(c->table[e.i].b, e.b) << e.name << "[" << e.i << "]";
  }
}

// An OME channel colour is its own map: black to exactly that colour (orange is orange).
TEST(Colormap, HexColoursAreExactSingleHueMaps) {
  auto orange = find_colormap("#FF8000");
  ASSERT_TRUE(orange);
  EXPECT_EQ(orange->name, "#ff8000");
  EXPECT_FLOAT_EQ(orange->table[255].r, 1.0f);
  EXPECT_FLOAT_EQ(orange->table[255].g, 128 / 255.0f);
  EXPECT_FLOAT_EQ(orange->table[255].b, 0.0f);
  EXPECT_FLOAT_EQ(orange->table[0].r, 0.0f);
  EXPECT_NEAR(sample(*orange, 0.5f).g, 64 / 255.0f, 1e-3);
  EXPECT_TRUE(find_colormap("00ff80"));
  EXPECT_FALSE(find_colormap("#ff80"));
  EXPECT_FALSE(find_colormap("#gg8000"));
}

// napari's cyclic label colours: 0 is background, every id has a colour, the cycle is 49.
TEST(Colormap, LabelColoursCycleOverIdsOfAnySize) {
  Rgb bg = label_color(0);
  EXPECT_EQ(bg.r + bg.g + bg.b, 0.0f);
  auto same = [](Rgb a, Rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; };
  for (int64_t id = 1; id < kLabelCycle; ++id) EXPECT_FALSE(same(label_color(id), label_color(id + 1))) << id;
  EXPECT_TRUE(same(label_color(1), label_color(1 + kLabelCycle)));
  EXPECT_TRUE(same(label_color(70000), label_color((70000 - 1) % kLabelCycle + 1)));
  EXPECT_TRUE(same(label_color(int64_t{1} << 40), label_color(((int64_t{1} << 40) - 1) % kLabelCycle + 1)));
  EXPECT_TRUE(same(label_color(-1), label_color(kLabelCycle - 1)));  // Python's modulo: (-2) % 49 + 1
}
