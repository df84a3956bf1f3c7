// SqlStore's integrity: keying a store, the audit head and its anchor, and checking the
// tables against the audit log (integrity.h).
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>

#include "store/audit_chain.h"
#include "store/integrity.h"
#include "store/sql_rows.h"
#include "store/sql_store.h"
#include "store/sql_support.h"

namespace touchpass::store {

using namespace sql;

namespace {

constexpr std::string_view kKeyedFrom = "audit_keyed_from";

Error broken(const std::string& what) {
  return Error{Code::integrity, what};
}

// The words of `text` after each `note` up to the next ';', split at ',' and ' '.
void collect_ids(const std::string& text, std::string_view note, std::set<std::string>& out) {
  for (std::size_t at = text.find(note); at != std::string::npos; at = text.find(note, at)) {
    at += note.size();
    const std::size_t end = std::min(text.find(';', at), text.size());
    std::size_t start = at;
    while (start < end) {
      std::size_t stop = text.find_first_of(", ", start);
      if (stop == std::string::npos || stop > end) stop = end;
      if (stop - start == 32) out.insert(text.substr(start, 32));  // a hex grant id
      start = stop + 1;
    }
  }
}

}  // namespace

Result<std::int64_t> SqlStore::recorded_keying_locked() {
  Query q(*db_, "SELECT value FROM meta WHERE key = ?");
  q.bind(1, kKeyedFrom);
  const Step rc = q.step();
  if (rc == Step::done) return std::int64_t{0};
  if (rc != Step::row) return db_->error("read the store's keying");
  // Decimal digits (an SQLite store of schema 8 or older holds an integer, which SQLite reads
  // as the same digits).
  const Bytes value = q.blob(0);
  std::int64_t entry = 0;
  for (const std::uint8_t c : value) {
    if (c < '0' || c > '9' || entry > (INT64_MAX - 9) / 10) {
      return broken("The store's record of its keying is damaged.");
    }
    entry = entry * 10 + (c - '0');
  }
  if (entry < 1) return broken("The store's record of its keying is damaged.");
  return entry;
}

Status SqlStore::use_keys(std::shared_ptr<const StoreKeys> keys, UnixTime now, bool may_key) {
  if (!keys) return Error{Code::internal, "No store keys were given."};
  return guarded([&]() -> Status {
    std::lock_guard lock(mu_);
    keys_ = std::move(keys);
    auto recorded = recorded_keying_locked();
    if (!recorded.ok()) return recorded.error();
    if (*recorded > 0) {
      keyed_from_ = *recorded;
      return Status();
    }
    if (!may_key) {
      return broken(
          "The audit anchor says this store's log was keyed, but the store has no record of "
          "its keying: the store was changed outside touchpassd. Restore it from a backup.");
    }
    Transaction tx(*db_, Durability::durable);
    if (!tx.begun().ok()) return tx.begun();
    // Another host on the same database may have keyed it while this one waited to write.
    recorded = recorded_keying_locked();
    if (!recorded.ok()) return recorded.error();
    if (*recorded > 0) {
      keyed_from_ = *recorded;
      return Status();
    }
    // Never keyed. A store whose rows carry MACs has been keyed before and lost the record of
    // it: keying it again would bless whatever was changed in it meanwhile.
    Query macs(*db_,
               "SELECT EXISTS (SELECT 1 FROM grants WHERE length(mac) > 0) OR "
               "EXISTS (SELECT 1 FROM tokens WHERE length(mac) > 0)");
    if (macs.step() != Step::row) return db_->error("look into the store");
    if (macs.integer(0) != 0) {
      return broken(
          "The store's rows carry MACs but its record of when its audit log was keyed is "
          "missing: the store was changed outside touchpassd. Restore it from a backup.");
    }
    if (Status s = protect_existing_rows_locked(now); !s.ok()) {
      keyed_from_ = 0;
      pending_head_.reset();
      return s;
    }
    if (Status s = tx.commit(); !s.ok()) {
      keyed_from_ = 0;
      pending_head_.reset();
      return s;
    }
    publish_head_locked(true);
    return Status();
  });
}

Status SqlStore::protect_existing_rows_locked(UnixTime now) {
  Query last(*db_, "SELECT coalesce(max(seq), 0) FROM audit");
  if (last.step() != Step::row) return db_->error("read the audit log");
  keyed_from_ = last.integer(0) + 1;
  Query record(*db_, "INSERT INTO meta (key, value) VALUES (?, ?)");
  record.bind(1, kKeyedFrom).bind(2, bytes_of(std::to_string(keyed_from_)));
  if (Status s = record.run("record the store's keying"); !s.ok()) return s;

  Query tokens(*db_, "SELECT " + std::string(kTokenColumns) + " FROM tokens");
  long token_count = 0;
  for (Step rc; (rc = tokens.step()) != Step::done;) {
    if (rc != Step::row) return db_->error("read the tokens");
    auto token = read_token(tokens, nullptr);
    if (!token.ok()) return token.error();
    if (Status s = write_token_row_mac_locked(*token); !s.ok()) return s;
    ++token_count;
  }
  Query grants(*db_, "SELECT " + std::string(kGrantColumns) + " FROM grants");
  Query set_mac(*db_, "UPDATE grants SET mac = ? WHERE grant_id = ?");
  long grant_count = 0;
  for (Step rc; (rc = grants.step()) != Step::done;) {
    if (rc != Step::row) return db_->error("read the grants");
    auto g = read_grant(grants, nullptr);
    if (!g.ok()) return g.error();
    auto mac = keys_->grant_mac(*g);
    if (!mac.ok()) return mac.error();
    set_mac.bind(1, *mac).bind(2, g->grant_id);
    if (Status s = set_mac.run("record a grant's MAC"); !s.ok()) return s;
    set_mac.reset();
    ++grant_count;
  }
  // A store that holds nothing needs no entry: its log simply starts keyed.
  if (keyed_from_ == 1 && token_count == 0 && grant_count == 0) return Status();
  AuditEvent protect;
  protect.time = now;
  protect.actor = "touchpassd";
  protect.action = "protect";
  protect.result = "ok";
  protect.detail = std::to_string(grant_count) + " app passwords and " +
                   std::to_string(token_count) +
                   " security keys made before this entry now carry a MAC; the audit log is "
                   "keyed from this entry on";
  return append_audit_locked(protect);
}

void SqlStore::publish_head_locked(bool durable) {
  if (!pending_head_) return;
  const AuditHead head = std::move(*pending_head_);
  pending_head_.reset();
  if (observer_) observer_(head, durable);
}

void SqlStore::set_audit_observer(AuditObserver observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
}

Result<AuditHead> SqlStore::audit_head() {
  return guarded([&]() -> Result<AuditHead> {
    std::lock_guard lock(mu_);
    return audit_head_locked();
  });
}

Result<AuditHead> SqlStore::audit_head_locked() {
  AuditHead head;
  head.keyed_from = keyed_from_;
  Query q(*db_, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  const Step rc = q.step();
  if (rc == Step::row) {
    head.seq = q.integer(0);
    head.hash = q.blob(1);
  } else if (rc != Step::done) {
    return db_->error("read the audit log");
  }
  return head;
}

Status SqlStore::check_audit_anchor(const AuditHead& anchor) {
  return guarded([&]() -> Status {
    std::lock_guard lock(mu_);
    return check_audit_anchor_locked(anchor);
  });
}

Status SqlStore::check_audit_anchor_locked(const AuditHead& anchor) {
  if (anchor.keyed_from != keyed_from_) {
    return broken("The audit log was keyed from entry " + std::to_string(anchor.keyed_from) +
                  " as anchored, but the store says " + std::to_string(keyed_from_) +
                  ": the store was changed outside touchpassd.");
  }
  if (anchor.seq == 0) return Status();
  Query q(*db_, "SELECT hash FROM audit WHERE seq = ?");
  q.bind(1, anchor.seq);
  const Step rc = q.step();
  if (rc == Step::done) {
    auto head = audit_head_locked();
    const std::string last = head.ok() ? std::to_string(head->seq) : "?";
    return broken("The audit log ends at entry " + last + ", but entry " +
                  std::to_string(anchor.seq) +
                  " was recorded outside the database: entries were removed from its end.");
  }
  if (rc != Step::row) return db_->error("read the audit log");
  if (!mac_matches(q.blob(0), anchor.hash)) {
    return broken("Audit entry " + std::to_string(anchor.seq) +
                  " is not the one recorded outside the database: the log was rewritten.");
  }
  return Status();
}

Status SqlStore::check_tables_locked(const std::vector<AuditEntry>& entries) {
  std::set<std::string> issued, revoked;
  UnixTime keyed_at = 0;
  for (const AuditEntry& e : entries) {
    if (e.seq == keyed_from_) keyed_at = e.event.time;
    if (e.event.result != "ok") continue;
    collect_ids(e.event.detail, kIssuedGrantNote, issued);
    collect_ids(e.event.detail, kRevokedGrantsNote, revoked);
  }
  Query tokens(*db_, "SELECT " + std::string(kTokenColumns) + " FROM tokens ORDER BY id");
  auto token_rows = collect_rows(
      tokens, [&](const Query& row) { return read_token(row, keys_.get()); }, "read tokens");
  if (!token_rows.ok()) return token_rows.error();
  for (const TokenRecord& t : *token_rows) {
    if (!t.intact) {
      return broken("Security key \"" + t.label + "\" of " + t.user + " (token " +
                    std::to_string(t.id) +
                    ") was changed outside touchpassd: its MAC does "
                    "not match.");
    }
  }
  Query grants(*db_, "SELECT " + std::string(kGrantColumns) + " FROM grants ORDER BY created");
  auto grant_rows = collect_rows(
      grants, [&](const Query& row) { return read_grant(row, keys_.get()); }, "read grants");
  if (!grant_rows.ok()) return grant_rows.error();
  for (const GrantRecord& g : *grant_rows) {
    const std::string id = to_hex(g.grant_id);
    const std::string which =
        "App password \"" + g.name + "\" of " + g.user + " (grant " + id + ")";
    if (!g.intact) {
      return broken(which + " was changed outside touchpassd: its MAC does not match.");
    }
    if (!g.revoked && revoked.count(id) != 0) {
      return broken(which + " was revoked (the audit log says so) but is active again.");
    }
    // Grants made before the store was keyed may predate the notes the store adds.
    const bool after_keying = keyed_from_ == 1 || g.created >= keyed_at;
    if (after_keying && issued.count(id) == 0) {
      return broken(which + " has no issue entry in the audit log.");
    }
  }
  return check_invitations_locked();
}

}  // namespace touchpass::store
