#include "daemon/service.h"

#include <algorithm>
#include <map>

#include "core/bytes.h"
#include "core/grant.h"
#include "daemon/audit_anchor.h"
#include "daemon/proof_check.h"
#include "daemon/service_support.h"

namespace touchpass::daemon {

using ipc::Json;

Result<Outcome> Service::list(const Target& target) {
  const std::string user = target.all_users ? "" : target.user;
  auto grants = store_.list_grants(user, false);
  if (!grants.ok()) return grants.error();
  auto tokens = store_.list_tokens(user, true);
  if (!tokens.ok()) return tokens.error();
  std::map<std::int64_t, std::string> labels;
  for (const auto& t : *tokens) labels[t.id] = t.label;
  Json out = Json::array();
  for (const auto& g : *grants) out.push_back(grant_json(g, labels[g.token_id]));
  // Brute-force protection as it stands for this user (every user's locks for all_users).
  const store::UnixTime now = clock_();
  Json locked = Json::array();
  for (const Throttle::SourceState& s : throttle_.locked(user, now)) {
    // A user sees their own name only: who else failed from the same address is not theirs
    // to know.
    Json users = Json::array();
    for (const std::string& name : s.users) {
      if (user.empty() || name == user) users.push_back(name);
    }
    locked.push_back({{"source", s.source},
                      {"failures", s.failures},
                      {"locked_until", s.locked_until},
                      {"users", users}});
  }
  Json throttle = {{"locked_sources", locked}};
  if (!user.empty()) throttle["recent_failures"] = throttle_.user_failures(user, now);
  return Outcome{{{"grants", out}, {"throttle", throttle}}, {}};
}

Result<Outcome> Service::unlock(const Peer& peer, const ipc::Request& request) {
  const std::string what = request.all               ? std::string("--all")
                           : !request.source.empty() ? "--source " + request.source
                                                     : "--user " + request.user.value_or("");
  if (!peer.admin) {
    refusals_.refused({static_cast<std::int64_t>(peer.uid), peer.user}, "refuse",
                      request.user.value_or(""), "unlock", "uid " + std::to_string(peer.uid),
                      "not a member of the group \"" + config_.admin_group + "\"", clock_());
    return Error{Code::permission_denied, "Only root and members of the group \"" +
                                              config_.admin_group + "\" may unlock sources."};
  }
  const auto lifted = throttle_.unlock(request.source, request.user.value_or(""));
  if (!lifted.ok()) return lifted.error();
  const int unlocked = *lifted;
  recorder_.flush();  // the store forgets the locks now, not at the next batch
  store::AuditEvent e = audit(peer, "unlock", request.user.value_or(""), what);
  e.detail = std::to_string(unlocked) + (unlocked == 1 ? " source" : " sources") + " unlocked";
  if (Status s = store_.append_audit(e); !s.ok()) return s.error();
  return Outcome{{{"unlocked", unlocked}}, {}};
}

Result<Outcome> Service::revoke(const Peer& peer, const Target& target,
                                const ipc::Request& request) {
  const store::UnixTime now = clock_();
  if (!request.token.empty()) {
    // A lost or retired key: the key and every password derived from it stop working.
    auto tokens = store_.list_tokens(target.user, false);
    if (!tokens.ok()) return tokens.error();
    const auto it = std::find_if(tokens->begin(), tokens->end(), [&](const store::TokenRecord& t) {
      return t.label == request.token;
    });
    if (it == tokens->end()) {
      return audited_failure(
          peer, "revoke-token", target.user, request.token,
          Error{Code::not_found, "There is no enrolled token labelled \"" + request.token + "\"."});
    }
    const auto grants = store_.list_grants(target.user, false);
    const auto derived =
        grants.ok()
            ? std::count_if(grants->begin(), grants->end(),
                            [&](const store::GrantRecord& g) { return g.token_id == it->id; })
            : 0;
    if (Status s = store_.revoke_token(it->id, now,
                                       audit(peer, "revoke-token", target.user, request.token));
        !s.ok()) {
      return audited_failure(peer, "revoke-token", target.user, request.token, s.error());
    }
    phone_setups_.forget(target.user);  // a waiting phone gets none of its passwords
    // A web session may have been opened with the revoked key (a stolen one, say): every one of
    // the user's sessions ends, and the web user signs in again with a key they still have.
    const std::size_t signed_out = web_sessions_.close_all(target.user);
    return Outcome{{{"revoked", derived}, {"token", request.token}, {"signed_out", signed_out}},
                   {}};
  }
  if (request.all) {
    auto n =
        store_.revoke_all_grants(target.user, now, audit(peer, "revoke", target.user, "--all"));
    if (!n.ok()) return audited_failure(peer, "revoke", target.user, "--all", n.error());
    phone_setups_.forget(target.user);
    return Outcome{{{"revoked", *n}}, {}};
  }
  if (Status s = store_.revoke_grant(target.user, request.name, now,
                                     audit(peer, "revoke", target.user, request.name));
      !s.ok()) {
    return audited_failure(peer, "revoke", target.user, request.name, s.error());
  }
  phone_setups_.forget(target.user, request.name);
  return Outcome{{{"revoked", 1}}, {}};
}

Result<Outcome> Service::rename(const Peer& peer, const Target& target,
                                const ipc::Request& request) {
  // Validate the new name with the grant rules (a placeholder grant carries it).
  Grant probe;
  probe.grant_id = GrantId(std::array<std::uint8_t, GrantId::kSize>{1});
  probe.user = target.user;
  probe.name = request.new_name;
  probe.credential = Bytes{1};
  if (Status s = validate_grant(probe); !s.ok()) {
    return audited_failure(peer, "rename", target.user, request.name, s.error());
  }
  store::AuditEvent event = audit(peer, "rename", target.user, request.name);
  event.detail = "to " + request.new_name;
  if (Status s = store_.rename_grant(target.user, request.name, request.new_name, event); !s.ok()) {
    return audited_failure(peer, "rename", target.user, request.name, s.error());
  }
  return Outcome{};
}

Result<Outcome> Service::log(const Peer& peer, const Target& target, const ipc::Request& request) {
  recorder_.flush();  // refusals and lockouts of the last seconds are part of the log
  auto entries = store_.list_audit(target.all_users ? "" : target.user, request.limit);
  if (!entries.ok()) return entries.error();
  Json out = Json::array();
  for (const auto& e : *entries) {
    out.push_back({{"seq", e.seq},
                   {"time", e.event.time},
                   {"actor_uid", e.event.actor_uid},
                   {"actor", e.event.actor},
                   {"action", e.event.action},
                   {"user", e.event.user},
                   {"object", e.event.object},
                   {"result", e.event.result},
                   {"detail", e.event.detail},
                   {"hash", to_hex(e.hash)}});
  }
  Json result = {{"entries", out}};
  if (request.verify_chain) {
    // The chain is one for every user's entries: checking it reads the whole log under the
    // store's write lock, and what it finds may name anyone. Administrators only.
    result["chain_checked"] = peer.admin;
    if (peer.admin) {
      // The anchor outside the database tells entries removed from the log's end.
      auto anchored = AuditAnchor(config_.audit_anchor_path()).load();
      std::optional<store::AuditHead> newest;
      if (anchored.ok() && anchored->has_value()) newest = (*anchored)->newest();
      Status s = anchored.ok() ? store_.verify_audit(newest) : Status(anchored.error());
      result["chain_ok"] = s.ok();
      if (!s.ok()) result["chain_error"] = std::string(s.message());
    }
    const auto proofs = check_proofs(store_, target.all_users ? "" : target.user);
    if (!proofs.ok()) return proofs.error();
    result["proofs_checked"] = proofs->grants.checked;
    result["proofs_failed"] = proofs->grants.failed;
    result["proof_errors"] = proofs->grants.errors;
    result["shows_checked"] = proofs->shows.checked;
    result["shows_failed"] = proofs->shows.failed;
    result["show_errors"] = proofs->shows.errors;
    result["shows_unchecked"] = proofs->shows.unchecked;
  }
  return Outcome{std::move(result), {}};
}

}  // namespace touchpass::daemon
