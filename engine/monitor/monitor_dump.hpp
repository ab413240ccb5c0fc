// `bulwark compile --dump`, the monitors' part: every monitor map's keys
// and values, and the rule each value reports through.
#pragma once

#include "compile/map_image.hpp"

#include <ostream>

namespace bulwark {

void dump_monitors(const MapImage& image, std::ostream& out);

}  // namespace bulwark
