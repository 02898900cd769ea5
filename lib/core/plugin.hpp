// core/plugin: finds and loads sciflow's own plugin libraries. Dependencies that
// cost every run of a tool at start-up but serve only some commands live in
// dlopen()ed modules: libtorch (~0.8 s) in libsciflow_torch.so, HDF5 and the ~35
// libraries it pulls in (libcurl, GnuTLS, Kerberos, LDAP: ~5 ms) in
// libsciflow_hdf5.so. A plugin is looked for, in order, at $ENV (a file), beside
// the executable (a build tree), and in ../lib/sciflow and ../lib/<multiarch>/sciflow
// relative to it (an installed tree).
#pragma once

#include <string>
#include <string_view>

#include "core/status.hpp"

namespace sciflow {

// dlopen()s plugin `file` (RTLD_NOW | RTLD_LOCAL) from the places above; `env` names
// the variable that overrides them and `what` the plugin in messages ("the HDF5
// module"). kUnavailable naming every place tried when none has it, or dlerror()'s
// cause when it is there but does not load. The handle is never closed.
Result<void*> load_plugin(std::string_view file, const char* env, std::string_view what);

// A module whose interface is one table: load_plugin(), then its entry point
// `symbol` (extern "C" const Api* symbol()) called once, and the table it returns.
// kUnavailable naming `file` when the symbol is missing (another version's module).
Result<void*> plugin_entry(std::string_view file, const char* env, std::string_view what, const char* symbol);
template <class Api>
Result<const Api*> load_module(std::string_view file, const char* env, std::string_view what, const char* symbol) {
  ASSIGN_OR_RETURN(void* entry, plugin_entry(file, env, what, symbol));
  return reinterpret_cast<const Api* (*)()>(entry)();
}

}  // namespace sciflow
