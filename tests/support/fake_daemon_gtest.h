// The fake touchpassd (fake_daemon.h) in GoogleTest programs: a problem of a script — a request
// that did not come, an answer the client did not take — fails the running test. Header only:
// the support library itself stays free of GoogleTest for the fuzzers.
#pragma once

#include <gtest/gtest.h>

#include "support/fake_daemon.h"

namespace touchpass::testing {

// `options` with every problem of the daemon's scripts reported as a failure of the test.
inline FakeDaemonOptions failing_on_problems(FakeDaemonOptions options = {}) {
  options.on_problem = [](const std::string& problem) {
    ADD_FAILURE() << "fake touchpassd: " << problem;
  };
  return options;
}

// A fake daemon listening on a Unix socket that runs `script` on each connection, with
// `options`; a problem of the script fails the test. Errors as FakeDaemon::listen.
inline Result<FakeDaemon> listening_daemon(Script script, FakeDaemonOptions options = {}) {
  return FakeDaemon::listen(std::move(script), failing_on_problems(std::move(options)));
}

}  // namespace touchpass::testing
