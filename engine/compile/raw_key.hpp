// A map key's bytes, as the kernel hashes them: the one way the compiler
// and the reference evaluator turn a BPF key struct into a lookup key of
// their own maps. Keys are zero-initialised before they are filled, so
// padding compares equal.
#pragma once

#include <string>

namespace bulwark {

template <typename Key>
std::string raw(const Key& k)
{
    return std::string(reinterpret_cast<const char*>(&k), sizeof(k));
}

}  // namespace bulwark
