// The columns of the map image (enum bw_column, plus connect and tamper)
// as the engine names them: in events ("access"), dumps, explain and lint.
// One table, so that every output says the same word for the same column.
#pragma once

#include "bulwark/abi.h"

#include <cstdint>
#include <string>

namespace bulwark {

// Columns a Decision or a default can name: the path columns, connect, tamper.
inline constexpr uint32_t kDecisionColumns = BW_COL_TAMPER + 1;

// The columns [[file]] rules decide: every path column but exec and map.
inline constexpr uint32_t kFileColumnBits = BW_ACCESS_READ | BW_ACCESS_WRITE | BW_ACCESS_CREATE | BW_ACCESS_DELETE |
                                            BW_ACCESS_RENAME | BW_ACCESS_METADATA;

// The file columns that change something (everything [[file]] decides but read).
inline constexpr uint32_t kChangeColumnBits = kFileColumnBits & ~BW_ACCESS_READ;

// "read", "write", "exec", "map", "create", "delete", "rename", "metadata",
// "connect", "tamper"; "?" past the end.
const char* column_name(uint32_t column);

// The kind of rule a column belongs to: "file", "exec", "connect", "tamper".
const char* column_kind(uint32_t column);

inline bool is_file_column(uint32_t column)
{
    return column < BW_NR_COLUMNS && (kFileColumnBits & (1u << column));
}

// Access bits (bit c: column c) as names joined by ',': "read,write".
std::string access_names(uint32_t access);

}  // namespace bulwark
