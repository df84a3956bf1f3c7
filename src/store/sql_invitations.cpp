// SqlStore's invitations (admin_store.h): stored with their MAC, found by their code's hash.
#include <string>

#include "store/integrity.h"
#include "store/sql_audited_write.h"
#include "store/sql_store.h"
#include "store/sql_support.h"

namespace touchpass::store {

using namespace sql;

namespace {

constexpr std::string_view kInvitationColumns =
    "id, \"user\", code_hash, created, expires, created_by, used, mac";

std::string tampered_invitation(const InvitationRecord& i) {
  return "The invitation for " + i.user + " (invitation " + std::to_string(i.id) +
         ") was changed or added outside touchpassd: its MAC does not match.";
}

InvitationRecord read_invitation(const Query& q) {
  InvitationRecord i;
  i.id = q.integer(0);
  i.user = q.text(1);
  i.code_hash = q.blob(2);
  i.created = q.integer(3);
  i.expires = q.integer(4);
  i.created_by = q.text(5);
  i.used = q.optional_integer(6);
  return i;
}

}  // namespace

Result<std::int64_t> SqlStore::add_invitation(const InvitationRecord& invitation,
                                              const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent&) -> Result<std::int64_t> {
    Query ins(
        *db_,
        "INSERT INTO invitations (\"user\", code_hash, created, expires, created_by, used, mac) "
        "VALUES (?,?,?,?,?,NULL,?) RETURNING id");
    ins.bind(1, invitation.user)
        .bind(2, invitation.code_hash)
        .bind(3, invitation.created)
        .bind(4, invitation.expires)
        .bind(5, invitation.created_by)
        .bind(6, Bytes());  // its MAC needs its id: set below
    const Step rc = ins.step();
    if (rc == Step::unique_violation) {
      return Error{Code::invalid_argument, "An invitation with that code exists already."};
    }
    if (rc != Step::row) return db_->error("store the invitation");
    InvitationRecord stored = invitation;
    stored.id = ins.integer(0);
    if (ins.step() != Step::done) return db_->error("store the invitation");
    stored.used.reset();
    auto mac = keys_->invitation_mac(stored);
    if (!mac.ok()) return mac.error();
    Query set(*db_, "UPDATE invitations SET mac = ? WHERE id = ?");
    set.bind(1, *mac).bind(2, stored.id);
    if (Status s = set.run("protect the invitation"); !s.ok()) return s.error();
    return stored.id;
  });
}

Result<InvitationRecord> SqlStore::find_invitation(const Bytes& code_hash) {
  return guarded([&]() -> Result<InvitationRecord> {
    std::lock_guard lock(mu_);
    if (!keys_) return Error{Code::internal, std::string(kNoKeys)};
    auto invitation = invitation_locked(code_hash);
    if (!invitation.ok() && invitation.code() == Code::integrity) {
      return Error{Code::integrity,
                   invitation.error().message + " Restore the store from a backup."};
    }
    return invitation;
  });
}

Result<InvitationRecord> SqlStore::invitation_locked(const Bytes& code_hash) {
  Query q(*db_,
          "SELECT " + std::string(kInvitationColumns) + " FROM invitations WHERE code_hash = ?");
  q.bind(1, code_hash);
  const Step rc = q.step();
  if (rc == Step::done) return Error{Code::not_found, "No such invitation."};
  if (rc != Step::row) return db_->error("read an invitation");
  InvitationRecord invitation = read_invitation(q);
  if (Status s = check_invitation_mac_locked(invitation, q.blob(7)); !s.ok()) return s.error();
  return invitation;
}

Result<std::int64_t> SqlStore::add_invited_token(const TokenRecord& token, const Bytes& code_hash,
                                                 UnixTime now, const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent&) -> Result<std::int64_t> {
    auto found = invitation_locked(code_hash);
    if (!found.ok()) return found.error();
    InvitationRecord invitation = std::move(*found);
    if (invitation.user != token.user) {
      return Error{Code::permission_denied, "This invitation is for another user."};
    }
    if (invitation.used) {
      return Error{Code::invalid_argument,
                   "This invitation has been used already; ask for a new one."};
    }
    if (now >= invitation.expires) {
      return Error{Code::invalid_argument, "This invitation has expired; ask for a new one."};
    }
    invitation.used = now;
    auto mac = keys_->invitation_mac(invitation);
    if (!mac.ok()) return mac.error();
    Query use(*db_,
              "UPDATE invitations SET used = ?, mac = ? WHERE id = ? AND used IS NULL "
              "RETURNING id");
    use.bind(1, now).bind(2, *mac).bind(3, invitation.id);
    const Step used = use.step();
    if (used != Step::row && used != Step::done) return db_->error("use the invitation");
    if (used == Step::done) {
      return Error{Code::invalid_argument,
                   "This invitation has been used already; ask for a new one."};
    }
    return insert_token_locked(token);
  });
}

Status SqlStore::check_invitation_mac_locked(const InvitationRecord& invitation, const Bytes& mac) {
  auto expected = keys_->invitation_mac(invitation);
  if (!expected.ok()) return expected.error();
  if (!mac_matches(mac, *expected)) return Error{Code::integrity, tampered_invitation(invitation)};
  return Status();
}

Status SqlStore::check_invitations_locked() {
  Query q(*db_, "SELECT " + std::string(kInvitationColumns) + " FROM invitations ORDER BY id");
  for (;;) {
    const Step rc = q.step();
    if (rc == Step::done) return Status();
    if (rc != Step::row) return db_->error("read invitations");
    if (Status s = check_invitation_mac_locked(read_invitation(q), q.blob(7)); !s.ok()) return s;
  }
}

}  // namespace touchpass::store
