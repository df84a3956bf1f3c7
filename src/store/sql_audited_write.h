// SqlStore::audited_write, shared by the files that define SqlStore's writes
// (sqlite_store.cpp, sqlite_invitations.cpp). Internal to the store.
#pragma once

#include <string>
#include <string_view>

#include "store/sql_store.h"
#include "store/sql_support.h"

namespace touchpass::store {

inline constexpr std::string_view kNoKeys =
    "The store was opened without its keys; nothing may be written to it.";

template <class F>
auto SqlStore::audited_write(const AuditEvent& audit, F&& body)
    -> decltype(body(std::declval<AuditEvent&>())) {
  using Out = decltype(body(std::declval<AuditEvent&>()));
  auto outcome = sql::guarded([&]() -> Out {
    std::lock_guard lock(mu_);
    if (!keys_) return Error{Code::internal, std::string(kNoKeys)};
    sql::Transaction tx(*db_, sql::Durability::durable);
    if (!tx.begun().ok()) return tx.begun().error();
    AuditEvent entry = audit;
    auto result = body(entry);
    if (!result.ok()) return result;
    if (Status s = append_audit_locked(entry); !s.ok()) return s.error();
    if (Status s = tx.commit(); !s.ok()) {
      pending_head_.reset();
      return s.error();
    }
    publish_head_locked(true);
    return result;
  });
  forget_verifiers();  // after the commit: a grant or token may have changed
  return outcome;
}

}  // namespace touchpass::store
