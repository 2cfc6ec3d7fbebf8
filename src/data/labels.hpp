#pragma once
// OME-Zarr labels/ groups (NGFF 0.4 and 0.5), opened as label layers beside their image
// (internal to voxcast_data).
#include <memory>
#include <variant>

#include <nlohmann/json.hpp>

#include "voxcast/data/chunk_cache.hpp"
#include "voxcast/data/store.hpp"
#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

// The image at the root of `store` with each label image of its labels/ group as one more
// channel (labels = true, image-label colours and properties kept); the image unchanged
// when it has no labels. A label that cannot be opened or does not match the image's grid
// is left out with a warning: the image still opens.
std::unique_ptr<VolumeSource> with_ome_labels(std::shared_ptr<const Store> store, bool v3,
                                              std::unique_ptr<VolumeSource> image, std::shared_ptr<ChunkCache> cache);

// "image-label" metadata: colors and properties into `ch`; an error names what is wrong.
std::optional<std::string> parse_image_label(const nlohmann::json& image_label, ChannelInfo* ch);

// The keys of `store` under `prefix`, as a store of its own.
std::shared_ptr<const Store> sub_store(std::shared_ptr<const Store> store, const std::string& prefix);

}  // namespace voxcast::data
