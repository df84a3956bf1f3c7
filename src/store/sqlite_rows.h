// Reading and writing the SQLite store's rows: the column lists and their readers. Internal to
// src/store.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/integrity.h"
#include "store/records.h"
#include "store/scopes.h"
#include "store/sqlite_support.h"

namespace touchpass::store::sqlite {

// Every column of a token row, in TokenRecord's order, then its MAC.
extern const std::string_view kTokenColumns;
// Every column of a grant row (in the order of the schema's versions), then whether its token
// is revoked, then its MAC.
extern const std::string_view kGrantColumns;

// Reads a row of kTokenColumns / kGrantColumns; `intact` says whether its MAC matches under
// `keys` (false without keys).
TokenRecord read_token(const Stmt& s, const StoreKeys* keys);
GrantRecord read_grant(const Stmt& s, const StoreKeys* keys);

}  // namespace touchpass::store::sqlite
