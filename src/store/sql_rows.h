// Reading and writing the SQLite store's rows: the column lists and their readers. Internal to
// src/store.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/grant.h"
#include "store/integrity.h"
#include "store/records.h"
#include "store/scopes.h"
#include "store/sql_support.h"

namespace touchpass::store::sql {

// Every column of a token row, in TokenRecord's order, then its MAC.
extern const std::string_view kTokenColumns;
// Every column of a grant row (in the order of the schema's versions), then whether its token
// is revoked, then its MAC.
extern const std::string_view kGrantColumns;

// The token kind in column `col`, stored as its name (token_kind_name). Any other text is an
// integrity error naming `row` (e.g. "security key \"work\" of alice"): touchpassd writes no
// other, so the row was changed outside it.
Result<TokenKind> read_kind(const Query& s, int col, const std::string& row);

// Reads a row of kTokenColumns / kGrantColumns; `intact` says whether its MAC matches under
// `keys` (false without keys). Errors: integrity when the row cannot be a record (read_kind).
Result<TokenRecord> read_token(const Query& s, const StoreKeys* keys);
Result<GrantRecord> read_grant(const Query& s, const StoreKeys* keys);

}  // namespace touchpass::store::sql
