// The audit log's head, anchored outside the database (DESIGN.md §7): after every commit that
// appends to the log, touchpassd records the newest entry's number and link in a small file
// (replaced atomically; synced for issue, revoke and enroll, not for verification's batches)
// and in the journal (fields TOUCHPASS_AUDIT_SEQ and TOUCHPASS_AUDIT_HEAD). A store whose log
// no longer holds the anchored entry — entries removed from its end, or the log rewritten — is
// refused at start and reported by `touchpass log --verify`.
//
// The file, text:
//   touchpass audit head v1
//   keyed_from <n>
//   seq <n>
//   hash <64 hex digits, or "-" for an empty log>
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "core/status.h"
#include "store/admin_store.h"

namespace touchpass::daemon {

class AuditAnchor {
 public:
  explicit AuditAnchor(std::filesystem::path path) : path_(std::move(path)) {}

  // The anchored head; nullopt when there is no file. A file that is not an anchor is an error
  // (integrity) naming it; it is left alone.
  Result<std::optional<store::AuditHead>> load() const;

  // Replaces the file with `head` (temporary file, then rename; fsync'd when `durable`) and
  // logs it to the journal. Errors name the file.
  Status record(const store::AuditHead& head, bool durable) const;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The daemon's start: gives `store` its keys (keying it if it never was and no anchor says it
// was), checks it against `anchor` (refusing a store that lost entries or was rewritten, with a
// sentence saying what to do), anchors the current head when there is no anchor yet, and from
// then on anchors every commit. `anchor` must outlive the store's use.
Status protect_store(store::AdminStore& store, std::shared_ptr<const store::StoreKeys> keys,
                     const AuditAnchor& anchor, store::UnixTime now);

}  // namespace touchpass::daemon
