// SqlStore's audit log: appending (inside a write's transaction), listing and checking.
#include <cstdint>
#include <string>

#include "store/audit_chain.h"
#include "store/integrity.h"
#include "store/sql_store.h"
#include "store/sql_support.h"

namespace touchpass::store {

using namespace sql;

namespace {

AuditEntry read_audit_entry(const Query& q) {
  AuditEntry e;
  e.seq = q.integer(0);
  e.event.time = q.integer(1);
  e.event.actor_uid = q.integer(2);
  e.event.actor = q.text(3);
  e.event.action = q.text(4);
  e.event.user = q.text(5);
  e.event.object = q.text(6);
  e.event.result = q.text(7);
  e.event.detail = q.text(8);
  e.prev_hash = q.blob(9);
  e.hash = q.blob(10);
  return e;
}

}  // namespace

Status SqlStore::append_audit_locked(const AuditEvent& audit) {
  Query last(*db_, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  std::int64_t seq = 1;
  Bytes prev(kAuditHashSize, 0);
  const Step rc = last.step();
  if (rc == Step::row) {
    seq = last.integer(0) + 1;
    prev = last.blob(1);
  } else if (rc != Step::done) {
    return db_->error("read the audit log");
  }
  // Every entry from keyed_from_ on is linked under the audit key; older ones (a store made
  // before v6) keep their plain SHA-256 links.
  if (!keys_ || keyed_from_ == 0 || seq < keyed_from_) {
    return Error{Code::internal, "The audit log cannot be extended without the store's keys."};
  }
  auto link = keys_->audit_link(prev, seq, audit);
  if (!link.ok()) return link.error();
  const Bytes& hash = *link;
  Query ins(*db_,
            "INSERT INTO audit (seq, time, actor_uid, actor, action, \"user\", object, result, "
            "detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  ins.bind(1, seq)
      .bind(2, audit.time)
      .bind(3, audit.actor_uid)
      .bind(4, audit.actor)
      .bind(5, audit.action)
      .bind(6, audit.user)
      .bind(7, audit.object)
      .bind(8, audit.result)
      .bind(9, audit.detail)
      .bind(10, prev)
      .bind(11, hash);
  if (Status st = ins.run("append to the audit log"); !st.ok()) return st;
  pending_head_ = AuditHead{seq, hash, keyed_from_};
  return {};
}

Result<std::vector<AuditEntry>> SqlStore::list_audit(const std::string& user, int limit) {
  return guarded([&]() -> Result<std::vector<AuditEntry>> {
    std::lock_guard lock(mu_);
    Query q(*db_,
            "SELECT * FROM (SELECT seq, time, actor_uid, actor, action, \"user\", object, result, "
            "detail, prev_hash, hash FROM audit WHERE (?1 = '' OR \"user\" = ?1 OR actor = ?1) "
            "ORDER BY seq DESC LIMIT ?2) AS newest ORDER BY seq");
    q.bind(1, user).bind(2, limit > 0 ? std::int64_t{limit} : INT64_MAX);
    return collect(q, read_audit_entry, "read the audit log");
  });
}

Status SqlStore::verify_audit(const std::optional<AuditHead>& anchor) {
  Result<std::vector<AuditEntry>> entries = list_audit("", 0);
  if (!entries.ok()) return entries.status();
  return guarded([&]() -> Status {
    std::lock_guard lock(mu_);
    if (!keys_) return Error{Code::internal, "The store's keys are needed to check it."};
    const auto broken = [](const std::string& what) { return Error{Code::integrity, what}; };
    Bytes prev(kAuditHashSize, 0);
    std::int64_t expected_seq = 1;
    for (const AuditEntry& e : *entries) {
      const std::string where = "Audit entry " + std::to_string(e.seq);
      if (e.seq != expected_seq) {
        return broken("The audit log has a gap: entry " + std::to_string(expected_seq) +
                      " is missing (entries were deleted).");
      }
      if (e.prev_hash != prev) {
        return broken(where +
                      " does not follow the entry before it (entries were removed or "
                      "reordered).");
      }
      Bytes link;
      if (e.seq < keyed_from_) {
        link = audit_entry_hash(prev, e.seq, e.event);
      } else {
        auto keyed = keys_->audit_link(prev, e.seq, e.event);
        if (!keyed.ok()) return keyed.error();
        link = std::move(*keyed);
      }
      if (!mac_matches(e.hash, link)) {
        return broken(where +
                      " has been altered or forged: its link does not match under the "
                      "store's audit key.");
      }
      prev = e.hash;
      ++expected_seq;
    }
    if (anchor) {
      if (Status s = check_audit_anchor_locked(*anchor); !s.ok()) return s;
    }
    return check_tables_locked(*entries);
  });
}

}  // namespace touchpass::store
