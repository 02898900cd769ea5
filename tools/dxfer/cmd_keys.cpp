// dxfer keygen / token: the secrets of end-to-end encryption and of the server.
#include <fmt/core.h>
#include <unistd.h>

#include "core/log.hpp"
#include "crypto/aead.hpp"
#include "tools/dxfer/commands.hpp"

namespace sciflow::dxfer {

Status run_keygen(const KeygenOptions& o, cli::Context& /*ctx*/) {
  if (::access(o.output.c_str(), F_OK) == 0)
    return Status(Code::kAlreadyExists, fmt::format("{}: exists; keygen never replaces a key (what it encrypted would be lost)", o.output));
  ASSIGN_OR_RETURN(auto key, crypto::generate_key());
  RETURN_IF_ERROR(crypto::write_key_file(o.output, key));
  log::info("{}: new AES-256 key (mode 600); keep a copy: data encrypted with it cannot be read without it", o.output);
  return Status::ok();
}

Status run_token(const TokenOptions& o, cli::Context& ctx) {
  std::string name = o.name;
  if (name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    name = fmt::format("{}@{}", getlogin() ? getlogin() : "token", host);
  }
  ASSIGN_OR_RETURN(std::string token, crypto::create_token(o.tokens, name, o.scopes));
  if (ctx.json()) return ctx.print_json(Json{{"name", name}, {"token", token}, {"scopes", o.scopes}, {"tokens_file", o.tokens}});
  log::info("token '{}' stored (hashed) in {}; it is shown only now: give it to the client as DXFER_TOKEN or --token-file",
            name, o.tokens);
  return ctx.print(token + "\n");
}

}  // namespace sciflow::dxfer
