// AdminStore: the administration of the store (DESIGN.md §7) — enrolled tokens, grants, the
// audit log and the store's integrity (keys, anchored head, pepper fingerprint). Enroll, issue,
// show, revoke, rename and log use it; verification does not (verification_store.h).
// A row that cannot be a record (a token kind neither fido2 nor yubikey: touchpassd writes no
// other) is an integrity error for every call that reads it, never a record of a guessed kind.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "store/records.h"

namespace touchpass::store {

class StoreKeys;  // integrity.h

class AdminStore {
 public:
  virtual ~AdminStore() = default;

  // Tokens. add_token fails with invalid_argument when the label is taken.
  virtual Result<std::int64_t> add_token(const TokenRecord& token, const AuditEvent& audit) = 0;
  // The user's tokens (every user's when `user` is empty), revoked ones only if asked.
  virtual Result<std::vector<TokenRecord>> list_tokens(const std::string& user,
                                                       bool include_revoked) = 0;
  virtual Result<TokenRecord> get_token(std::int64_t id) = 0;
  // Revokes a token and every active grant derived from it.
  virtual Status revoke_token(std::int64_t id, UnixTime when, const AuditEvent& audit) = 0;

  // Grants. add_grant also records the token's new state (counter or rolling challenge), in the
  // same transaction. invalid_argument when the user already has an active grant of that name;
  // the errors of update_token_state when the state is out of date.
  virtual Status add_grant(const GrantRecord& grant, const TokenState& token_state,
                           const AuditEvent& audit) = 0;
  // The user's active (unrevoked) grant of that name; not_found otherwise.
  virtual Result<GrantRecord> find_grant(const std::string& user, const std::string& name) = 0;
  virtual Result<std::vector<GrantRecord>> list_grants(const std::string& user,
                                                       bool include_revoked) = 0;
  // Records a token's new state after a successful use (e.g. for show), only over the state the
  // use was checked against (records.h TokenState): clone_suspected when the counter does not
  // move forward from the stored one, verification_failed when the YubiKey's stored rolling
  // challenge is not the answered one; nothing is written then.
  virtual Status update_token_state(std::int64_t token_id, const TokenState& state,
                                    const AuditEvent& audit) = 0;
  // Revokes one active grant; not_found if the user has none of that name.
  virtual Status revoke_grant(const std::string& user, const std::string& name, UnixTime when,
                              const AuditEvent& audit) = 0;
  // Revokes all of the user's active grants; returns how many.
  virtual Result<int> revoke_all_grants(const std::string& user, UnixTime when,
                                        const AuditEvent& audit) = 0;
  virtual Status rename_grant(const std::string& user, const std::string& old_name,
                              const std::string& new_name, const AuditEvent& audit) = 0;

  // Invitations (DESIGN.md §6). add_invitation stores one with its MAC (the store must have its
  // keys: internal otherwise); invalid_argument when its code hash is taken.
  virtual Result<std::int64_t> add_invitation(const InvitationRecord& invitation,
                                              const AuditEvent& audit) = 0;
  // The invitation whose code hashes to `code_hash`, used and expired ones included; not_found
  // when there is none; integrity when its row was changed without the store's keys.
  virtual Result<InvitationRecord> find_invitation(const Bytes& code_hash) = 0;
  // Enrolls `token` with the invitation whose code hashes to `code_hash`, in one transaction:
  // the invitation must be intact (integrity), for token.user (permission_denied), unused and
  // not expired at `now` (invalid_argument with a sentence), and is marked used at `now`; then
  // as add_token. Nothing is stored when anything fails.
  virtual Result<std::int64_t> add_invited_token(const TokenRecord& token, const Bytes& code_hash,
                                                 UnixTime now, const AuditEvent& audit) = 0;

  // Integrity (integrity.h). Installs the keys derived from the pepper; every write needs
  // them. The first time a store gets its keys, every existing grant and token is given its
  // MAC and the audit log is keyed from the next entry on (an entry "protect" at `now` records
  // it when the store holds anything). A store whose rows carry MACs but which has lost the
  // record of its keying is refused (integrity), never keyed again; so is a store not yet
  // keyed when `may_key` is false (the anchor outside says it was keyed).
  virtual Status use_keys(std::shared_ptr<const StoreKeys> keys, UnixTime now, bool may_key) = 0;
  virtual Result<AuditHead> audit_head() = 0;
  virtual void set_audit_observer(AuditObserver observer) = 0;
  // integrity unless the log holds the anchored head (same entry, same link, same keying):
  // the error says whether entries were removed from its end or rewritten.
  virtual Status check_audit_anchor(const AuditHead& anchor) = 0;

  // Audit log: append-only and hash-chained.
  virtual Status append_audit(const AuditEvent& audit) = 0;
  // Entries in order; only those concerning `user` (as actor or target) when it is not empty;
  // at most `limit` of the newest when limit > 0.
  virtual Result<std::vector<AuditEntry>> list_audit(const std::string& user, int limit) = 0;
  // Checks the whole store (integrity error naming the first problem): the chain (each link,
  // keyed from keyed_from on), the anchored head when given, every grant's and token's MAC, no
  // grant without its issue entry (those made before keying excepted), no grant revoked in the
  // log but active in the table.
  virtual Status verify_audit(const std::optional<AuditHead>& anchor) = 0;

  // The fingerprint of the pepper the store was made with (pepper.h), if recorded.
  virtual Result<std::optional<Bytes>> pepper_fingerprint() = 0;
  // Records it (once; a store keeps the first).
  virtual Status set_pepper_fingerprint(const Bytes& fingerprint) = 0;
  // True when the store holds any token, grant or audit entry.
  virtual Result<bool> holds_data() = 0;
};

}  // namespace touchpass::store
