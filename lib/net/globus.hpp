// net/globus: submit a transfer to the Globus Transfer API (v0.10) and follow it
// to the end.
//
// dxfer push SRC... globus://DEST_COLLECTION/PATH/ asks Globus to move SRC (local
// paths on the collection given as `source_collection`, e.g. this host's Globus
// Connect Personal endpoint, or globus://SRC_COLLECTION/PATH sources) to PATH on
// the destination collection: one task, checksums verified by Globus
// (verify_checksum), timestamps preserved, with sync levels for sync (mtime, or
// checksum with --checksum). The submission id is saved before the task is
// submitted (in `state_dir`), so a dxfer killed at any point and run again with
// the same request follows the task it already submitted instead of starting a
// second one (a repeated submission id is Globus's "Duplicate").
// The API base URL is `api` (default https://transfer.api.globus.org/v0.10);
// the tests point it at recorded responses, since no Globus service can run here.
// Thread safety: one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "net/http_client.hpp"

namespace sciflow::net {

bool is_globus(const std::string& url);

struct GlobusOptions {
  ClientOptions client;            // token = a Globus Auth access token for the Transfer API
  std::string api = "https://transfer.api.globus.org/v0.10";
  std::string source_collection;   // for local sources
  std::string state_dir;           // where submission ids are kept until the task ends
  bool sync = false, checksum = false;
  double poll_s = 5;
  int retries = 6;
  std::string label;
  // Each poll: the task document (status, bytes_transferred, files, ...).
  std::function<void(const Json& task)> progress;
};

struct GlobusResult {
  std::string task_id;
  std::string status;  // SUCCEEDED or FAILED
  Json task;           // the last task document
  bool resumed = false;  // followed a task submitted by an earlier run
};

// Submits (or finds the earlier submission of) the transfer and waits for it.
// A FAILED task is a result, not an error; API errors and INACTIVE tasks (they
// need the user's attention on the Globus web app) are errors that name the task.
Result<GlobusResult> globus_transfer(const std::vector<std::string>& sources, const std::string& url,
                                     const GlobusOptions& options);

}  // namespace sciflow::net
