// net/dxfer_client: push, pull, sync, verify and list against a `dxfer serve`
// endpoint (https://HOST:PORT/PREFIX/), the protocol in net/dxfer_server.hpp.
//
// Push: files of 1 MiB and more go in chunks (several at once, one kept-alive
// connection per thread); each chunk carries the SHA-256 of its 1 MiB leaves and
// the server keeps it only if they match; the file is renamed into place only
// when the whole-file sha256-tree matches. Smaller files travel many to a
// request (batches), each verified the same way. The server remembers verified
// chunks, so a push killed at any point sends, when run again, only the chunks
// the server does not have (those in flight when it died). Failed requests are
// retried with exponential backoff and jitter; a chunk damaged on the way is
// sent again.
// Encrypted files (--encrypt): a file of P bytes travels as N = max(1,
// ceil(P / (chunk - 28))) sealed chunks of nonce(12) || ciphertext || tag(16),
// chunk k bound by its associated data to the remote path, k, N and P, so that
// a chunk moved, dropped, reordered or taken from another file fails
// authentication. The manifest's opaque "meta" records
// {"enc":"aes-256-gcm/v1","plain_size":P,"chunk":C}.
// Pull: ranged GETs of chunks into DST/.dxfer/partial, a journal of verified
// chunks beside it (resume), the whole file checked against the server's
// sha256-tree before it is renamed into place.
// Thread safety: one call at a time per destination.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <optional>

#include "core/json.hpp"
#include "crypto/aead.hpp"
#include "crypto/hash.hpp"
#include "core/status.hpp"
#include "io/transfer.hpp"
#include "net/http_client.hpp"
#include "net/sftp.hpp"

namespace sciflow::net {

struct RemoteOptions {
  ClientOptions client;
  int threads = 4;
  int64_t chunk_bytes = 8 << 20;  // a multiple of 1 MiB
  bool sync = false;              // skip files already there (size and mtime, or --checksum)
  bool checksum = false;          // sync: compare trees (crypto/hash.hpp), not size and mtime
  // The tree of files sent (--hash): sha256-tree, or xxh3-tree (10x faster, for
  // catching damage, not tampering). Pull, verify and sync --checksum use the
  // hash each copy was stored with.
  crypto::TreeHash hash = crypto::TreeHash::kSha256;
  // zstd on the wire (to a dxfer server): chunks that shrink by 5% or more travel
  // compressed at this level (0: off); the leaves are of the uncompressed bytes.
  int zstd_level = 0;
  int retries = 6;                // attempts per request beyond the first
  double bwlimit = 0;             // bytes per second for all threads together; 0: none
  // End-to-end encryption (--encrypt KEYFILE): each chunk is sealed with
  // AES-256-GCM before it leaves (the server stores and verifies ciphertext and
  // never sees the key); pull and verify open and authenticate every chunk.
  std::optional<crypto::Key256> key;
  SftpOptions sftp;  // sftp:// destinations
  std::function<void(int64_t bytes)> progress;
  std::function<void()> file_done;  // once per file that arrived or was skipped (any thread)
};

// "https://host:port/a/b" -> base "https://host:port", prefix "/a/b/".
struct RemoteUrl {
  std::string base, prefix;
};
Result<RemoteUrl> parse_remote(const std::string& url);
bool is_remote(const std::string& url);  // https:// or http://

// Files that failed while others went through are in `transfer.failures` (the call
// itself returns ok); the report's files are those that arrived.
struct RemoteReport {
  io::TransferReport transfer;
  int64_t wire_bytes = -1;  // bytes of file data on the wire, when it differs from transfer.bytes_sent (zstd)
};

Result<RemoteReport> push(const std::vector<std::string>& sources, const std::string& url, const RemoteOptions& options);

// Whole-file stores: WebDAV servers (davs://HOST:PORT/PATH/, over HTTPS: nginx,
// Apache mod_dav) and SFTP servers (sftp://[USER@]HOST[:PORT]/PATH/, OpenSSH; see
// net/sftp.hpp for keys and host-key checks). Each file goes whole, -j files at
// once, one kept-alive connection per thread; WebDAV makes parent collections
// with MKCOL (nginx has no partial PUT); SFTP writes to a temporary name, continues
// one an interrupted push left, and renames it into place. The size is checked
// afterwards. Such servers cannot hash, so dxfer keeps its own manifest
// (sha256-tree, size, mtime per file) in PATH/.dxfer-manifest.json; sync compares
// against it and verify reads every file back and hashes it.
bool is_dav(const std::string& url);         // davs:// or dav://
bool is_file_store(const std::string& url);  // davs://, dav:// or sftp://
Result<RemoteReport> push_store(const std::vector<std::string>& sources, const std::string& url, const RemoteOptions& options);
Result<std::vector<std::string>> verify_store(const std::vector<std::string>& sources, const std::string& url,
                                              const RemoteOptions& options);
Result<Json> store_manifest(const std::string& url, const RemoteOptions& options);
Result<RemoteReport> pull(const std::string& url, const std::string& dst, const RemoteOptions& options);
// The server's manifest under the URL's prefix: {"files": {"/path": {size, mtime_ns, sha256tree}}}.
Result<Json> remote_manifest(const std::string& url, const RemoteOptions& options);
// Each source file against the server's copy, hashed again from the server's disk:
// one line per problem, empty when all match.
Result<std::vector<std::string>> verify(const std::vector<std::string>& sources, const std::string& url,
                                        const RemoteOptions& options);

}  // namespace sciflow::net
