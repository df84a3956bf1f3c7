// The audit log's head, anchored outside the database (DESIGN.md §7): after every commit that
// appends to the log, touchpassd records the newest entry's number and link in a small file
// (replaced atomically; synced for issue, revoke and enroll, not for verification's batches)
// and in the journal (fields TOUCHPASS_AUDIT_SEQ and TOUCHPASS_AUDIT_HEAD). A store whose log
// no longer holds the anchored entry — entries removed from its end, or the log rewritten — is
// refused at start and reported by `touchpass log --verify`.
//
// Verification's batches are committed without waiting for the disk (or, with PostgreSQL, for
// the server's), so a crash may lose their last entries while the anchor names them. The file
// therefore keeps two heads: the newest synchronous commit's, which the store must hold, and
// the newest batch's after it ("unsynced"). At start, a missing or different unsynced entry is
// a warning (a crash explains it), not a refusal; `log --verify` checks the newest head.
//
// The file, text:
//   touchpass audit head v1
//   keyed_from <n>
//   seq <n>
//   hash <64 hex digits, or "-" for an empty log>
//   unsynced_seq <n>          (optional: a later head of batches)
//   unsynced_hash <64 hex digits>
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "core/status.h"
#include "store/admin_store.h"

namespace touchpass::daemon {

// The heads an anchor file holds.
struct AnchoredHeads {
  store::AuditHead synced;                   // the newest synchronous commit's
  std::optional<store::AuditHead> unsynced;  // a later batch's, which a crash may have lost
  const store::AuditHead& newest() const { return unsynced ? *unsynced : synced; }
};

class AuditAnchor {
 public:
  explicit AuditAnchor(std::filesystem::path path) : path_(std::move(path)) {}

  // The anchored heads; nullopt when there is no file. A file that is not an anchor is an error
  // (integrity) naming it; it is left alone.
  Result<std::optional<AnchoredHeads>> load() const;

  // Replaces the file (temporary file, then rename; fsync'd when `durable`) and logs `head` to
  // the journal. A durable head replaces both heads; a batch's becomes the unsynced head after
  // the last durable one recorded (itself, if none was). Errors name the file. Thread-safe.
  Status record(const store::AuditHead& head, bool durable) const;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  mutable std::mutex mu_;
  mutable std::optional<store::AuditHead> synced_;  // the last durable head recorded
};

// The daemon's start: gives `store` its keys (keying it if it never was and no anchor says it
// was), checks it against `anchor` (refusing a store that lost entries or was rewritten, with a
// sentence saying what to do), anchors the current head when there is no anchor yet, and from
// then on anchors every commit. `anchor` must outlive the store's use.
Status protect_store(store::AdminStore& store, std::shared_ptr<const store::StoreKeys> keys,
                     const AuditAnchor& anchor, store::UnixTime now);

}  // namespace touchpass::daemon
