// A map key's bytes, as the kernel hashes them: the one way the compiler
// and the reference evaluator turn a BPF key struct into a lookup key of
// their own maps. Keys are zero-initialised before they are filled, so
// padding compares equal.
#pragma once

#include "bulwark/abi.h"

#include <string>

namespace bulwark {

template <typename Key>
std::string raw(const Key& k)
{
    return std::string(reinterpret_cast<const char*>(&k), sizeof(k));
}

// The bytes of the inode key (dev, ino) of `role` (enum bw_role).
inline std::string raw_inode_key(uint32_t dev, uint64_t ino, uint32_t role)
{
    bw_inode_key key{};
    key.ino = ino;
    key.dev = dev;
    key.role = role;
    return raw(key);
}

}  // namespace bulwark
