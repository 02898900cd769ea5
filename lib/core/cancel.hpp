// core/cancel: cooperative cancellation on SIGINT, SIGTERM and SIGHUP.
//
// install_signal_handlers() makes those signals set a flag and nothing else
// (async-signal-safe). Long loops poll cancelled() or check_cancelled() and
// unwind with a kCancelled Status, so that temp files are removed and children
// are stopped; cli::run then re-raises the signal with its default action so
// the parent sees a death by signal (exit 128+N in a shell).
// Thread-safe: the flag is a lock-free atomic.
#pragma once

#include "core/status.hpp"

namespace sciflow::cancel {

// Installs the handlers (without SA_RESTART, so blocking calls return EINTR).
void install_signal_handlers();

// True once a handled signal has arrived (or request() was called).
bool cancelled();

// The signal number that cancelled us, 0 if none or if request() was used.
int signal_number();

// Returns kCancelled "interrupted by SIGINT" once cancelled, else ok.
Status check_cancelled();

// Cancels as if `sig` had arrived (0: no signal). Used by tests and by code
// that wants to stop all work after a fatal error.
void request(int sig = 0);

// Clears the flag (tests only).
void reset();

// If a signal cancelled us: restores its default action and raises it again.
// Returns only if there is nothing to re-raise.
void reraise_if_signalled();

}  // namespace sciflow::cancel
