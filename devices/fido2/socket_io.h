// libfido2 custom I/O for virtual tokens (DESIGN.md §4.3): a Unix SOCK_SEQPACKET socket on
// which every message in either direction is one 64-byte CTAPHID report without report id.
//
// Usage: fido_dev_new(), fido_dev_set_io_functions(dev, &virtual_socket_io()), then
// fido_dev_open(dev, socket_path). (A device made by fido_dev_new_with_info() with I/O callbacks
// only does not work; see TOKENS.md.)
//
// Each open handle records what went wrong on its connection, so that a libfido2 FIDO_ERR_RX /
// FIDO_ERR_TX can be told apart: our read timed out (nobody touched the token in time), the peer
// closed the connection (the token was removed), or neither (the token sent something bad).
#pragma once

#include <fido.h>

#include <string>

namespace touchpass::devices::fido2 {

// The four callbacks. All non-NULL, valid for the life of the program.
const fido_dev_io_t& virtual_socket_io();

// What happened on one handle's connection since the last reset_socket_io_flags().
struct SocketIoFlags {
  bool timed_out = false;    // a read's time budget ran out before a report arrived
  bool peer_closed = false;  // EOF, ECONNRESET or EPIPE: the token went away
};

// Precondition: `handle` was returned by virtual_socket_io().open and is not yet closed (as
// returned by fido_dev_io_handle() for a device opened with these callbacks). Thread-safe.
SocketIoFlags socket_io_flags(const void* handle);
void reset_socket_io_flags(void* handle);

// The errno of the last failed virtual_socket_io().open on the calling thread (0 if none).
int socket_io_last_open_errno();

// Whether something accepts connections at `path` now: a non-blocking connect succeeds or is in
// progress, or it is refused for lack of permission (a token that is not this user's). A socket
// file with nobody listening (a removed token) refuses and gives false.
bool virtual_socket_accepts(const std::string& path);

}  // namespace touchpass::devices::fido2
