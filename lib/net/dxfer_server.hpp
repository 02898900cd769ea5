// net/dxfer_server: the receiving end of dxfer (`dxfer serve`): an HTTPS server
// that stores files under one root directory.
//
// Protocol (man/dxfer.1, "PROTOCOL"): every request carries
// "Authorization: Bearer TOKEN", checked against a token file of hashed tokens
// with read/write scopes on path prefixes (crypto/aead.hpp). Paths are URL paths
// under the root; "..", empty components and the reserved top-level names
// "_dxfer" and ".dxfer" are refused (403), and every file is opened with
// openat2(RESOLVE_BENEATH), so a symlink cannot lead outside the root.
//
//   GET/HEAD /PATH                  the file (Range requests work)
//   PUT /PATH                       whole file in one body (curl -T); atomic
//   POST /_dxfer/v1/upload          {path,size,mtime_ns,chunk[,hash]} -> {id, have:[k...]}
//                                   hash: "sha256" (default) or "xxh3" (crypto/hash.hpp)
//   PUT  /_dxfer/v1/upload/ID/K     chunk K, header X-Dxfer-Leaves: its 1 MiB
//                                   leaf digests; verified before it is kept
//   POST /_dxfer/v1/upload/ID/finish  header X-Dxfer-Tree: the file's tree (tree_text);
//                                   fsync, rename into place, manifest
//   POST /_dxfer/v1/batch           many small files in one body, each verified
//                                   and renamed into place on its own
//   GET  /_dxfer/v1/manifest?prefix=/P   {files:{path:{size,mtime_ns,sha256tree|xxh3tree}}}
//   GET  /_dxfer/v1/hash?path=/P[&hash=xxh3]  the file hashed again from disk
//
// State lives in ROOT/.dxfer: uploads/ (partial files and their verified-leaf
// journals: a restarted server resumes them), manifest.jsonl (append-only,
// compacted at start), audit.log (one JSON line per request: time, address,
// token name, method, path, status, bytes; never the token). A file appears
// under its name only complete and verified; a full disk fails the upload with
// 507 and leaves the previous version in place.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace sciflow::net {

struct ServeOptions {
  std::string root;
  std::string host = "127.0.0.1";
  int port = 8765;              // 0: any free port (the one chosen is reported)
  std::string tls_cert, tls_key;  // PEM files; or self_signed
  bool self_signed = false;     // make (once) ROOT/.dxfer/tls/{cert,key}.pem for `host`
  std::string tokens;           // token file (dxfer token create)
  int threads = 8;              // connections served at once
  // Unfinished uploads untouched for this long are removed (their space is
  // reserved in full when they start), at start and then every ttl/4 (1 s to
  // 1 h); 0: never. A client that comes back later starts the file over.
  double upload_ttl_s = 7 * 86400;
  // Called once listening: the base URL and the certificate's public-key pin.
  std::function<void(const std::string& url, const std::string& pin)> on_ready;
  // Called (from a request's thread) with a problem only the operator can fix,
  // once per occurrence: e.g. a token file that no longer parses. Meanwhile every
  // request is refused with 503, never served with an older set of tokens.
  std::function<void(const Status& problem)> on_problem;
};

// Serves until cancelled (SIGINT/SIGTERM through core/cancel), then returns ok.
Status serve(const ServeOptions& options);

}  // namespace sciflow::net
