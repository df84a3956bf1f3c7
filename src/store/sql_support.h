// What the SQL store's files share: reading rows into records and the guard that keeps
// exceptions inside the store. Internal to src/store.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/status.h"
#include "store/sql_connection.h"

namespace touchpass::store::sql {

// Steps `q` through all its rows, reading each with `read`.
template <class Read>
auto collect(Query& q, Read read, std::string_view what) -> Result<std::vector<decltype(read(q))>> {
  std::vector<decltype(read(q))> out;
  Step step;
  while ((step = q.step()) == Step::row) out.push_back(read(q));
  if (step != Step::done) return q.error(what);
  return out;
}

// Steps `q` through all its rows, reading each with `read`, which returns a Result: the first
// row it refuses ends the reading with its error.
template <class Read>
auto collect_rows(Query& q, Read read, std::string_view what)
    -> Result<std::vector<std::remove_cvref_t<decltype(*read(q))>>> {
  std::vector<std::remove_cvref_t<decltype(*read(q))>> out;
  Step step;
  while ((step = q.step()) == Step::row) {
    auto row = read(q);
    if (!row.ok()) return row.error();
    out.push_back(std::move(*row));
  }
  if (step != Step::done) return q.error(what);
  return out;
}

// Runs `body` and turns any exception (allocation failure, a broken OpenSSL) into an error, so
// nothing throws out of the store.
template <class F>
auto guarded(F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return Error{Code::internal, std::string("The store failed unexpectedly: ") + e.what()};
  }
}

}  // namespace touchpass::store::sql
