// io/transfer: copy files into a destination directory in chunks, verified
// end to end and resumable: the engine under `dxfer push/sync/verify` for local
// (and mounted) destinations.
//
// Each file is copied in chunks of `chunk_bytes` (several at once, -j) into
// DST/.dxfer/partial/<name>, while a journal (DST/.dxfer/journal/<name>.json,
// rewritten atomically) records the SHA-256 of every chunk written. Once all
// chunks are in, the partial file is read back, its SHA-256 compared with the
// source's (computed while reading the source), fsynced and renamed into place;
// then DST/.dxfer-manifest.json records its size, mtime and SHA-256. A transfer
// killed at any point resumes: chunks whose journal hash matches what is in the
// partial file are not sent again (a chunk in flight when the process died is).
// The source changing under a resumed transfer (size or mtime) restarts that file.
// Thread safety: one call at a time per destination (callers take the lock).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"

namespace sciflow::io {

// Whether `name` (a relative path with '/' separators) stays below the directory it
// is joined to: not empty, not absolute, no ".." component.
bool stays_below(std::string_view name);

// A file to send: where it is, and its name under the destination.
struct SourceFile {
  std::string path;  // on disk
  std::string name;  // under the destination ("dir/sub/file" for a directory source "dir")
  int64_t size = 0;
  int64_t mtime_ns = 0;
};
// Each source (a file, or a directory: everything below it, sorted, keeping the
// directory's name) as the files to send.
Result<std::vector<SourceFile>> enumerate_sources(const std::vector<std::string>& sources);

struct TransferOptions {
  int64_t chunk_bytes = 8 << 20;
  int threads = 4;
  bool checksum = false;  // sync: compare SHA-256, not size and mtime
  bool sync = false;      // skip files whose destination is up to date
  double bwlimit = 0;     // bytes per second, all threads together; 0: none
  std::function<void(int64_t bytes)> progress;  // bytes done so far (any thread)
  std::function<void()> file_done;              // once per file sent or skipped (any thread)
};

struct FileReport {
  std::string name;       // relative path under the destination
  std::string action;     // "sent", "resumed", "skipped" (up to date)
  int64_t bytes = 0;      // file size
  int64_t sent = 0;       // bytes actually written this time
  std::string sha256;
};

struct TransferReport {
  std::vector<FileReport> files;
  std::vector<std::string> failures;  // files that failed while others went through (the call itself succeeds)
  int64_t bytes_sent = 0;
  bool nothing_to_do() const;
};

// Copies each source (a file, or a directory: everything below it, keeping
// its name) into directory `dst`, which is created if missing.
Result<TransferReport> transfer(const std::vector<std::string>& sources, const std::string& dst,
                                const TransferOptions& options);

// Compares each source file with the destination's copy and manifest:
// returns one line per problem ("missing", "size differs", "SHA-256 differs");
// empty when all match.
Result<std::vector<std::string>> verify_transfer(const std::vector<std::string>& sources, const std::string& dst);

// The destination's manifest (files, sizes, SHA-256), or an empty object.
Result<Json> read_manifest(const std::string& dst);

}  // namespace sciflow::io
