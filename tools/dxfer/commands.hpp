// dxfer's commands: one options struct and one handler each (docs/STYLE.md).
#pragma once

#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace sciflow::dxfer {

struct KeygenOptions {
  std::string output;
};

struct TokenOptions {
  std::string action = "create";
  std::string tokens;
  std::vector<std::string> scopes;
  std::string name;
};

Status run_keygen(const KeygenOptions& o, cli::Context& ctx);
Status run_token(const TokenOptions& o, cli::Context& ctx);

}  // namespace sciflow::dxfer

namespace sciflow::dxfer {

// How to reach a remote end (https://): trust, credentials, retries.
struct RemoteFlags {
  std::string cacert, pin, token_file, encrypt;
  std::string ssh_key, known_hosts;  // sftp://
  int retries = 6;
};

struct PushOptions {
  RemoteFlags remote;
  std::vector<std::string> sources;  // SRC... DST (the last one is the destination)
  bool sync = false;
  bool checksum = false;
  std::string chunk = "8MiB";
  std::string bwlimit;
  bool zstd = false;          // https://: zstd on the wire
  std::string hash = "sha256";  // the tree of files sent: sha256 or xxh3 (--hash)
  std::string globus_source;  // globus://: the collection local sources are on
  double poll = 5;            // globus://: seconds between task status checks
};

struct PullOptions {
  RemoteFlags remote;
  std::string url, dst;
  bool sync = false;
  bool checksum = false;
  std::string chunk = "8MiB";
  std::string bwlimit;
};

struct VerifyOptions {
  RemoteFlags remote;
  std::vector<std::string> sources;  // SRC... DST
};

struct LsOptions {
  RemoteFlags remote;
  std::string dst;
};

struct ServeCliOptions {
  std::string root, listen = "127.0.0.1:8765", tls_cert, tls_key, tokens;
  std::string upload_ttl = "7d";
  bool self_signed = false;
};

Status run_push(const PushOptions& o, cli::Context& ctx);
Status run_verify(const VerifyOptions& o, cli::Context& ctx);
Status run_ls(const LsOptions& o, cli::Context& ctx);
Status run_pull(const PullOptions& o, cli::Context& ctx);
Status run_serve(const ServeCliOptions& o, cli::Context& ctx);
// Adds --cacert, --pin, --token-file and --retries to a command.
void add_remote_flags(cli::Definition& def, CLI::App* c, RemoteFlags& f, bool with_encrypt = true);

}  // namespace sciflow::dxfer
