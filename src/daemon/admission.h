// Admission: who gets a connection slot. A local user must not be able to take every slot and
// so stop verification: each uid may hold only a few connections, every unprivileged uid
// together only part of the pool, and the rest is reserved for root and the service group
// (the mail server's verifications). Thread-safe.
#pragma once

#include <sys/types.h>

#include <map>
#include <mutex>

namespace touchpass::daemon {

struct AdmissionLimits {
  int max_clients = 1024;  // every connection together
  int per_user = 32;       // connections one unprivileged uid may hold
  int reserved = 256;      // slots only root and the service group may use
};

class Admission {
 public:
  explicit Admission(AdmissionLimits limits) : limits_(limits) {}

  // Takes a slot for a connection from `uid` (`privileged`: root or the service group) when
  // the limits allow it; false when it must be refused.
  bool admit(uid_t uid, bool privileged);
  // Returns the slot of a connection that was admitted with the same arguments.
  void release(uid_t uid, bool privileged);

  const AdmissionLimits& limits() const { return limits_; }
  int total() const;

 private:
  AdmissionLimits limits_;
  mutable std::mutex mu_;
  int total_ = 0;
  int unprivileged_ = 0;
  std::map<uid_t, int> per_uid_;
};

// The limits to run with: `wanted` lowered so that every connection (one descriptor each) fits
// in `descriptors` with `spare` left over for the store, logs and look-ups; the reserved share
// never more than half of the pool.
AdmissionLimits fit_to_descriptors(AdmissionLimits wanted, long descriptors, long spare);

// Raises the soft limit on open descriptors to the hard limit; returns the limit in force.
long raise_descriptor_limit();

}  // namespace touchpass::daemon
