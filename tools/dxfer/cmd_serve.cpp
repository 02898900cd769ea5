// dxfer serve: the receiving HTTPS endpoint (net/dxfer_server).
#include <fmt/core.h>

#include <filesystem>

#include "core/log.hpp"
#include "core/units.hpp"
#include "net/dxfer_server.hpp"
#include "tools/dxfer/commands.hpp"

namespace sciflow::dxfer {

Status run_serve(const ServeCliOptions& o, cli::Context& ctx) {
  net::ServeOptions so;
  so.root = o.root;
  size_t colon = o.listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == o.listen.size())
    return invalid_argument(fmt::format("--listen '{}': expected HOST:PORT (port 0: any free port)", o.listen));
  so.host = o.listen.substr(0, colon);
  if (so.host.size() > 2 && so.host.front() == '[' && so.host.back() == ']') so.host = so.host.substr(1, so.host.size() - 2);
  char* end = nullptr;
  long port = std::strtol(o.listen.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535) return invalid_argument(fmt::format("--listen '{}': bad port", o.listen));
  so.port = static_cast<int>(port);
  so.tls_cert = o.tls_cert;
  so.tls_key = o.tls_key;
  so.self_signed = o.self_signed;
  so.tokens = o.tokens;
  ASSIGN_OR_RETURN(so.upload_ttl_s, units::parse_duration(o.upload_ttl));
  so.threads = std::max(8, ctx.threads() * 4);
  if (o.self_signed && (!o.tls_cert.empty() || !o.tls_key.empty()))
    return invalid_argument("--self-signed makes its own certificate: drop --tls-cert/--tls-key, or --self-signed");
  Status printed;
  so.on_ready = [&](const std::string& url, const std::string& pin) {
    // stdout: the URL and pin, one line, for scripts (and the first thing a user needs).
    printed = ctx.print(fmt::format("{} {}\n", url, pin));
    std::fflush(stdout);
    log::info("serving {} at {} (pin {}); Ctrl-C stops", o.root, url, pin);
  };
  // A root that does not exist yet is made (a fresh receiving area), but said, so
  // that a mistyped --root is seen before data lands in the wrong place.
  if (std::error_code ec; !std::filesystem::exists(o.root, ec))
    log::warn("--root '{}' does not exist: creating it", o.root);
  so.on_problem = [](const Status& problem) { log::error("{} (requests get 503 until it is fixed)", problem.message()); };
  RETURN_IF_ERROR(net::serve(so));
  return printed;
}

}  // namespace sciflow::dxfer
