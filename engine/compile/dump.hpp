// `bulwark compile --dump`: the map image, human-readable — every map,
// every key and value, and the rule each value came from.
#pragma once

#include "compile/map_image.hpp"

#include <ostream>

namespace bulwark {

void dump_image(const MapImage& image, std::ostream& out);
// The same as one JSON object (compile/dump_json.cpp): policies, rules, the
// policy set's masks, and every map's keys and values with what decided them.
void dump_image_json(const MapImage& image, std::ostream& out);

}  // namespace bulwark
