#include "compile/columns.hpp"

#include "policy/model.hpp"

namespace bulwark {

// The policy model's AccessBits are these column bits.
static_assert(access_read == BW_ACCESS_READ && access_write == BW_ACCESS_WRITE && access_create == BW_ACCESS_CREATE &&
              access_delete == BW_ACCESS_DELETE && access_rename == BW_ACCESS_RENAME &&
              access_metadata == BW_ACCESS_METADATA);
static_assert(access_any == kFileColumnBits);

const char* column_name(uint32_t column)
{
    static const char* names[] = {"read",   "write",  "exec",     "map",     "create",
                                  "delete", "rename", "metadata", "connect", "tamper"};
    static_assert(sizeof(names) / sizeof(names[0]) == kDecisionColumns);
    return column < kDecisionColumns ? names[column] : "?";
}

const char* column_kind(uint32_t column)
{
    if (column == BW_COL_CONNECT) return "connect";
    if (column == BW_COL_TAMPER) return "tamper";
    if (column == BW_COL_EXEC || column == BW_COL_MAP) return "exec";
    return "file";
}

std::string access_names(uint32_t access)
{
    std::string out;
    for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
        if (!(access & (1u << c))) continue;
        if (!out.empty()) out += ',';
        out += column_name(c);
    }
    return out;
}

}  // namespace bulwark
