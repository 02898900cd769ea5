#include "core/plugin.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cstdlib>
#include <vector>

namespace sciflow {
namespace {

// The directory of the running executable ("." if /proc/self/exe is unreadable).
std::string exe_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.rfind('/'));
}

}  // namespace

Result<void*> load_plugin(std::string_view file, const char* env, std::string_view what) {
  std::vector<std::string> candidates;
  if (const char* e = std::getenv(env); e && *e) candidates.emplace_back(e);
  const std::string dir = exe_dir();
  candidates.push_back(fmt::format("{}/{}", dir, file));
  for (const char* sub : {"lib", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu"})
    candidates.push_back(fmt::format("{}/../{}/sciflow/{}", dir, sub, file));
  std::string tried;
  for (const auto& c : candidates) {
    if (::access(c.c_str(), R_OK) != 0) {
      tried += " " + c;
      continue;
    }
    void* handle = ::dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) return Status(Code::kUnavailable, fmt::format("{}: cannot load {}: {}", c, what, ::dlerror()));
    return handle;
  }
  return Status(Code::kUnavailable,
                fmt::format("{} {} is not installed (looked for:{}); set {}", what, file, tried, env));
}

Result<void*> plugin_entry(std::string_view file, const char* env, std::string_view what, const char* symbol) {
  ASSIGN_OR_RETURN(void* handle, load_plugin(file, env, what));
  void* p = ::dlsym(handle, symbol);
  if (!p) return Status(Code::kUnavailable, fmt::format("{}: not a sciflow plugin of this version (no {})", file, symbol));
  return p;
}

}  // namespace sciflow
