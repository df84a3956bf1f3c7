#include "daemon/audit_anchor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/bytes.h"
#include "core/fd.h"
#include "daemon/log.h"

namespace touchpass::daemon {

namespace {

constexpr std::string_view kMagic = "touchpass audit head v1";

Error io_error(const std::filesystem::path& path, const std::string& what) {
  return Error{Code::io_error, "The audit anchor " + path.string() + " " + what + ": " +
                                   std::strerror(errno) + "."};
}

Status write_file(const std::filesystem::path& path, const std::string& text, bool durable) {
  const std::filesystem::path temporary = path.string() + ".new";
  UniqueFd fd(
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return io_error(temporary, "cannot be created");
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error(temporary, "cannot be written");
    done += static_cast<std::size_t>(n);
  }
  if (durable && ::fdatasync(fd.get()) != 0) return io_error(temporary, "cannot be synced");
  fd.reset();
  if (::rename(temporary.c_str(), path.c_str()) != 0) return io_error(path, "cannot be replaced");
  if (durable) {
    const UniqueFd dir(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.valid()) ::fsync(dir.get());
  }
  return {};
}

}  // namespace

Result<std::optional<AnchoredHeads>> AuditAnchor::load() const {
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<AnchoredHeads>();
    return io_error(path_, "cannot be opened");
  }
  std::string text;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(path_, "cannot be read");
    if (n == 0 || text.size() > 4096) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  fd.reset();
  const Error bad{Code::integrity, "The audit anchor " + path_.string() +
                                       " is damaged (not a touchpass audit head); restore it "
                                       "from a backup, or move it aside to anchor the store's "
                                       "current head."};
  std::istringstream in(text);
  std::string magic, k1, k2, k3, hash;
  AnchoredHeads heads;
  store::AuditHead& head = heads.synced;
  if (!std::getline(in, magic) || magic != kMagic || !(in >> k1 >> head.keyed_from) ||
      k1 != "keyed_from" || !(in >> k2 >> head.seq) || k2 != "seq" || !(in >> k3 >> hash) ||
      k3 != "hash" || head.seq < 0 || head.keyed_from < 0) {
    return bad;
  }
  if (head.seq > 0) {
    auto bytes = from_hex(hash);
    if (!bytes || bytes->size() != 32) return bad;
    head.hash = std::move(*bytes);
  } else if (hash != "-") {
    return bad;
  }
  std::string k4, k5, later_hash;
  if (in >> k4) {
    store::AuditHead later;
    later.keyed_from = head.keyed_from;
    if (k4 != "unsynced_seq" || !(in >> later.seq) || !(in >> k5 >> later_hash) ||
        k5 != "unsynced_hash" || later.seq <= head.seq) {
      return bad;
    }
    auto bytes = from_hex(later_hash);
    if (!bytes || bytes->size() != 32) return bad;
    later.hash = std::move(*bytes);
    heads.unsynced = std::move(later);
  }
  return std::optional<AnchoredHeads>(std::move(heads));
}

Status AuditAnchor::record(const store::AuditHead& head, bool durable) const {
  const std::string hash = head.seq > 0 ? to_hex(head.hash) : "-";
  const std::string seq = std::to_string(head.seq);
  log(LogLevel::info, "audit log head: entry " + seq + " " + hash,
      {{"TOUCHPASS_AUDIT_SEQ", seq},
       {"TOUCHPASS_AUDIT_HEAD", hash},
       {"TOUCHPASS_AUDIT_KEYED_FROM", std::to_string(head.keyed_from)}});
  std::lock_guard lock(mu_);
  if (durable || !synced_ || synced_->seq >= head.seq || synced_->keyed_from != head.keyed_from) {
    synced_ = head;
  }
  const store::AuditHead& synced = *synced_;
  std::ostringstream text;
  text << kMagic << "\nkeyed_from " << synced.keyed_from << "\nseq " << synced.seq << "\nhash "
       << (synced.seq > 0 ? to_hex(synced.hash) : "-") << "\n";
  if (head.seq > synced.seq) {
    text << "unsynced_seq " << seq << "\nunsynced_hash " << hash << "\n";
  }
  return write_file(path_, text.str(), durable);
}

Status protect_store(store::AdminStore& store, std::shared_ptr<const store::StoreKeys> keys,
                     const AuditAnchor& anchor, store::UnixTime now) {
  auto anchored = anchor.load();
  if (!anchored.ok()) return anchored.error();
  const bool anchored_keyed = anchored->has_value() && (*anchored)->synced.keyed_from > 0;
  if (Status s = store.use_keys(std::move(keys), now, !anchored_keyed); !s.ok()) return s;
  if (anchored->has_value()) {
    const AnchoredHeads& heads = **anchored;
    if (Status s = store.check_audit_anchor(heads.synced); !s.ok()) {
      return Error{s.code(), std::string(s.message()) +
                                 " Restore the store from a backup. If you "
                                 "restored an older backup on purpose, "
                                 "move " +
                                 anchor.path().string() + " aside and start touchpassd again."};
    }
    if (heads.unsynced) {
      if (Status s = store.check_audit_anchor(*heads.unsynced); !s.ok()) {
        log_warning("the newest audit entries, written without waiting for the disk (entries " +
                    std::to_string(heads.synced.seq + 1) + " to " +
                    std::to_string(heads.unsynced->seq) +
                    ": aggregated refusals and usage), are not in the store as anchored: a "
                    "crash of this machine or of the database server loses those; if there "
                    "was none, they were removed (" +
                    std::string(s.message()) + ")");
      }
    }
  }
  auto head = store.audit_head();
  if (!head.ok()) return head.error();
  if (!anchored->has_value()) {
    // A new store's first start is expected; an existing log without its anchor is worth a
    // warning (the anchor was lost, or moved aside after a restore).
    const std::string what = "the audit log is anchored at " + anchor.path().string();
    if (head->seq == 0) {
      log_info(what);
    } else {
      log_warning("no audit anchor was found; from entry " + std::to_string(head->seq) + " on, " +
                  what);
    }
  }
  if (Status s = anchor.record(*head, true); !s.ok()) return s;
  store.set_audit_observer([&anchor](const store::AuditHead& h, bool durable) {
    if (Status s = anchor.record(h, durable); !s.ok()) {
      log_error("the audit head could not be anchored: " + std::string(s.message()));
    }
  });
  return {};
}

}  // namespace touchpass::daemon
