#include "cli/proof_summary.h"

#include <algorithm>

#include "cli/format.h"

namespace touchpass::cli {

namespace {

using ipc::Json;

// The printable text of the string `key` of `item`, or "?".
std::string text(const Json& item, const char* key) {
  const auto it = item.find(key);
  return it != item.end() && it->is_string() ? printable(it->get<std::string>()) : "?";
}

// How many failed, counted or named (a daemon that names more than it counts is believed).
std::int64_t failures(std::int64_t counted, const Json& named) {
  return std::max<std::int64_t>(counted, static_cast<std::int64_t>(named.size()));
}

// "… and N more.\n" when `counted` exceeds the failures named; else empty.
std::string more_line(std::int64_t counted, const Json& named) {
  const auto more = counted - static_cast<std::int64_t>(named.size());
  return more > 0 ? "… and " + std::to_string(more) + " more.\n" : "";
}

}  // namespace

bool ProofSummary::failed() const {
  return grants_failed > 0 || !grant_errors.empty() || shows_failed > 0 || !show_errors.empty();
}

Result<ProofSummary> read_proof_summary(const Json& result) {
  const auto malformed = [](const char* field) {
    return Error{Code::protocol_error,
                 std::string("touchpassd sent a malformed answer (no ") + field + ")."};
  };
  ProofSummary s;
  const struct {
    const char* field;
    std::int64_t* count;
  } counts[] = {{"proofs_checked", &s.grants_checked},
                {"proofs_failed", &s.grants_failed},
                {"shows_checked", &s.shows_checked},
                {"shows_failed", &s.shows_failed},
                {"shows_unchecked", &s.shows_unchecked}};
  const struct {
    const char* field;
    Json* items;
  } lists[] = {{"proof_errors", &s.grant_errors}, {"show_errors", &s.show_errors}};
  for (const auto& l : lists) {
    const auto it = result.find(l.field);
    if (it == result.end() || !it->is_array()) return malformed(l.field);
    *l.items = *it;
  }
  for (const auto& c : counts) {
    const auto it = result.find(c.field);
    if (it == result.end() || !it->is_number_integer()) return malformed(c.field);
    *c.count = it->get<std::int64_t>();
  }
  return s;
}

std::string proof_failure_lines(const ProofSummary& summary) {
  std::string out;
  for (const Json& e : summary.grant_errors) {
    if (!e.is_object()) continue;
    out += "The proof of \"" + text(e, "name") + "\" (user " + text(e, "user") +
           ") does not verify: " + text(e, "error") + "\n";
  }
  out += more_line(summary.grants_failed, summary.grant_errors);
  for (const Json& e : summary.show_errors) {
    if (!e.is_object()) continue;
    const auto seq = e.find("seq");
    const std::string entry = seq != e.end() && seq->is_number_integer()
                                  ? ", audit entry " + std::to_string(seq->get<std::int64_t>())
                                  : "";
    out += "The proof of the show of \"" + text(e, "name") + "\" (user " + text(e, "user") + entry +
           ") does not verify: " + text(e, "error") + "\n";
  }
  out += more_line(summary.shows_failed, summary.show_errors);
  return out;
}

std::string proof_failure_sentence(const ProofSummary& summary) {
  const std::int64_t grants = failures(summary.grants_failed, summary.grant_errors);
  const std::int64_t shows = failures(summary.shows_failed, summary.show_errors);
  std::string who, what;
  if (grants > 0) {
    who = std::to_string(grants) + " app password(s)";
    what = "their records";
  }
  if (shows > 0) {
    who += (who.empty() ? "" : " and ") + std::to_string(shows) + " show(s) of app passwords";
    what += what.empty() ? "their audit entries" : " or audit entries";
  }
  return who + " have a proof that does not verify with their key: " + what +
         " were changed outside touchpassd.";
}

std::string proof_success_lines(const ProofSummary& summary) {
  std::string out = "The proofs of " + std::to_string(summary.grants_checked) +
                    " app password(s) and of " + std::to_string(summary.shows_checked) +
                    " show(s) verify with their security keys.\n";
  if (summary.shows_unchecked > 0) {
    out += std::to_string(summary.shows_unchecked) +
           " show(s) from before touchpass kept show proofs could not be checked.\n";
  }
  return out;
}

}  // namespace touchpass::cli
