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
  EXPECT_NEAR(sample(turbo, 0).r, 0x30 / 255.0, 0.06);  // #30123b (the polynomial fit is loosest at the ends)
}
