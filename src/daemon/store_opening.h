// Opening the store touchpassd.conf names (DESIGN.md §7): the SQLite store at `store`, or the
// PostgreSQL store of `postgresql` with its password read from `postgresql_password_file`.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/secret.h"
#include "core/status.h"
#include "daemon/config.h"
#include "store/sql_store.h"

namespace touchpass::daemon {

struct OpenedStore {
  std::unique_ptr<store::SqlStore> store;
  std::string name;  // how messages name it: the SQLite file, or "PostgreSQL (host=… dbname=…)"
};

// Opens and migrates the configured store. Errors say which store and why (the password is
// never part of them).
Result<OpenedStore> open_configured_store(const Config& config);

// The first line of the password file at `path` (without its line end). A file that is not a
// regular file, that group or others may read or write, or is empty, is refused
// (invalid_argument, naming the file); io_error when it cannot be read.
Result<SecretBytes> read_password_file(const std::filesystem::path& path);

}  // namespace touchpass::daemon
