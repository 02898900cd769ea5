#include "core/exit_code.hpp"

#include <csignal>

namespace sciflow {

int exit_code_for(const Status& status, int signal_number) {
  switch (status.code()) {
    case Code::kOk: return kExitOk;
    case Code::kInvalidArgument: return kExitUsage;
    case Code::kCancelled: return kExitSignalBase + (signal_number > 0 ? signal_number : SIGINT);
    default: return kExitFailure;
  }
}

}  // namespace sciflow
