// core/exit_code: the exit codes every sciflow tool uses, and how a Status maps to one.
//
//   0  success            1  the work failed          2  usage error (bad flag, bad config)
//   128+N  stopped by signal N (SIGINT -> 130, SIGTERM -> 143)
//
// A tool that needs more (dxfer's "nothing to do") defines them from 3 upward and
// documents them in its man page. Thread-safe (pure functions).
#pragma once

#include "core/status.hpp"

namespace sciflow {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitSignalBase = 128;

// Returns the exit code for `status`. For kCancelled, `signal_number` (the signal
// that caused it, 0 if unknown) gives 128+N; with 0 it gives 128+SIGINT.
int exit_code_for(const Status& status, int signal_number = 0);

}  // namespace sciflow
