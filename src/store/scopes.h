// A grant's scopes as the store keeps them (and as its MAC covers them): joined by ','.
#pragma once

#include <string>
#include <vector>

namespace touchpass::store {

// "imap,smtp" for {"imap", "smtp"}; "" for none (every service).
std::string join_scopes(const std::vector<std::string>& scopes);
// The inverse of join_scopes.
std::vector<std::string> split_scopes(const std::string& joined);

}  // namespace touchpass::store
