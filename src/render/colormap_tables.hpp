#pragma once
// matplotlib's published 256-entry tables (generated: scripts/gen_colormap_tables.py).
namespace voxcast::render {
extern const float kViridisTable[256][3];
extern const float kMagmaTable[256][3];
extern const float kInfernoTable[256][3];
extern const float kTurboTable[256][3];
// napari's default label colours, 8-bit; entry 0 is the background.
extern const unsigned char kNapariLabelColors[50][3];
}  // namespace voxcast::render
