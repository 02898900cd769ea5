#include "core/status.hpp"

#include <cerrno>
#include <cstring>

namespace sciflow {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kNotFound: return "not found";
    case Code::kAlreadyExists: return "already exists";
    case Code::kPermissionDenied: return "permission denied";
    case Code::kIoError: return "i/o error";
    case Code::kCorrupt: return "corrupt data";
    case Code::kUnsupported: return "unsupported";
    case Code::kTimeout: return "timeout";
    case Code::kCancelled: return "cancelled";
    case Code::kUnavailable: return "unavailable";
    case Code::kResourceExhausted: return "resource exhausted";
    case Code::kInternal: return "internal error";
  }
  return "unknown";
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

Status errno_status(std::string_view what, int err) {
  Code code = Code::kIoError;
  switch (err) {
    case ENOENT: case ENOTDIR: code = Code::kNotFound; break;
    case EEXIST: code = Code::kAlreadyExists; break;
    case EACCES: case EPERM: case EROFS: code = Code::kPermissionDenied; break;
    case ENOSPC: case EDQUOT: case EFBIG: case ENOMEM: case EMFILE: case ENFILE: code = Code::kResourceExhausted; break;
    case EINTR: code = Code::kCancelled; break;
    case ETIMEDOUT: code = Code::kTimeout; break;
    case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: code = Code::kUnavailable; break;
    default: break;
  }
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  return Status(code, std::move(m));
}

}  // namespace sciflow
