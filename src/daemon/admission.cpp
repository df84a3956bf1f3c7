#include "daemon/admission.h"

#include <sys/resource.h>

#include <algorithm>

namespace touchpass::daemon {

bool Admission::admit(uid_t uid, bool privileged) {
  std::lock_guard lock(mu_);
  if (total_ >= limits_.max_clients) return false;
  if (!privileged) {
    if (unprivileged_ >= limits_.max_clients - limits_.reserved) return false;
    int& mine = per_uid_[uid];
    if (mine >= limits_.per_user) return false;
    ++mine;
    ++unprivileged_;
  }
  ++total_;
  return true;
}

void Admission::release(uid_t uid, bool privileged) {
  std::lock_guard lock(mu_);
  --total_;
  if (privileged) return;
  --unprivileged_;
  const auto it = per_uid_.find(uid);
  if (it != per_uid_.end() && --it->second <= 0) per_uid_.erase(it);
}

int Admission::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

AdmissionLimits fit_to_descriptors(AdmissionLimits wanted, long descriptors, long spare) {
  AdmissionLimits limits = wanted;
  const long room = std::max(2L, descriptors - spare);
  limits.max_clients = static_cast<int>(std::min<long>(std::max(limits.max_clients, 2), room));
  limits.reserved = std::clamp(limits.reserved, 1, limits.max_clients / 2);
  limits.per_user = std::clamp(limits.per_user, 1, limits.max_clients - limits.reserved);
  return limits;
}

long raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? 1L << 20 : static_cast<long>(limit.rlim_cur);
}

}  // namespace touchpass::daemon
