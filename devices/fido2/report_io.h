// libfido2 custom I/O: the transports of Fido2Token. Both carry one 64-byte CTAPHID report per
// read or write (libfido2 uses 64-byte reports with custom I/O):
// - hidraw_io(): a FIDO HID device node (/dev/hidrawN), opened read-write with an exclusive
//   non-blocking flock as libfido2's own hidraw I/O does (another program's lock is EBUSY);
//   reports go out with their report id byte 0 and come in without one.
// - virtual_socket_io(): a virtual token (DESIGN.md §4.3), a Unix SOCK_SEQPACKET socket on which
//   every message in either direction is one report without report id.
//
// Usage: fido_dev_new(), fido_dev_set_io_functions(dev, &hidraw_io()) (or virtual_socket_io()),
// then fido_dev_open(dev, path). (A device made by fido_dev_new_with_info() with I/O callbacks
// only does not work; see TOKENS.md.)
//
// Owning the transport lets Fido2Token know what libfido2 does not say:
// - why a FIDO_ERR_RX / FIDO_ERR_TX happened: our read timed out (nobody touched the token in
//   time), the token went away (peer closed, device node gone), or neither (it sent something
//   bad);
// - when the token is asked for something that needs a touch: the moment a makeCredential or
//   getAssertion request is written, after libfido2 has obtained any PIN token it needed — so a
//   "Touch your security key" prompt never precedes a rejected PIN;
// - when a token answered CBOR that is not well-formed: such an answer is withheld from libfido2
//   (cbor_answer_check.h), which then fails the exchange as FIDO_ERR_RX.
#pragma once

#include <fido.h>

#include <functional>
#include <string>

namespace touchpass::devices::fido2 {

// The four callbacks of each transport. All non-NULL, valid for the life of the program.
const fido_dev_io_t& hidraw_io();
const fido_dev_io_t& virtual_socket_io();

// What happened on one handle's connection since the last reset_report_io_flags().
struct ReportIoFlags {
  bool timed_out = false;         // a read's time budget ran out before a report arrived
  bool peer_closed = false;       // EOF, ECONNRESET, EPIPE or ENODEV: the token went away
  bool malformed_answer = false;  // an answer's CBOR was not well-formed and was withheld
};

// Precondition for the functions taking `handle`: it was returned by the open callback of one
// of the transports above and is not yet closed (as fido_dev_io_handle() returns it for a device
// opened with these callbacks). The flag functions are thread-safe; arm_touch_hook is called
// by the thread that then runs the operation.
ReportIoFlags report_io_flags(const void* handle);
void reset_report_io_flags(void* handle);

// Calls `hook` once, on the writing thread, when the next CTAPHID_CBOR request whose CTAP
// command is makeCredential (0x01) or getAssertion (0x02) starts to be written; an empty hook
// disarms. The caller arms it right before an operation that needs a touch and disarms it after.
void arm_touch_hook(void* handle, std::function<void()> hook);

// The errno of the last failed open callback of either transport on the calling thread (0 if
// none): libfido2 reports every failed open as FIDO_ERR_INTERNAL.
int report_io_last_open_errno();

// Whether an answer was withheld as malformed on the calling thread since the last open callback
// of either transport started: fido_dev_open reads getInfo, and a failed open closes its handle.
bool report_io_refused_answer_since_open();

// Whether something accepts connections at the virtual token socket `path` now: a non-blocking
// connect succeeds or is in progress, or it is refused for lack of permission (a token that is
// not this user's). A socket file with nobody listening (a removed token) gives false.
bool virtual_socket_accepts(const std::string& path);

}  // namespace touchpass::devices::fido2
