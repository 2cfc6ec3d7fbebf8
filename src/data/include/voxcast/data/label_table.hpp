#pragma once
// Names (and colours) of a label image's ids from a text table beside it: mricron's
// atlas tables ("aal.nii.txt": `id name [code]` per line) and FreeSurfer-style colour
// tables (`id name R G B [A]`, 0..255).
#include <memory>
#include <string>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

// Parses a table's text; lines that are not `integer name ...` (comments, blanks) are skipped.
LabelTable parse_label_table(const std::string& text);
// The table beside `image_path` (X.nii.gz: X.nii.txt, X.txt, X.lut.txt), or null when none.
std::shared_ptr<const LabelTable> find_label_table(const std::string& image_path);

}  // namespace voxcast::data
