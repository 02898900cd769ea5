#include "net/globus.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/cancel.hpp"
#include "crypto/hash.hpp"
#include "io/file.hpp"

namespace sciflow::net {

namespace fs = std::filesystem;

namespace {

struct Location {
  std::string collection, path;
};

Result<Location> parse_globus(const std::string& url) {
  if (!is_globus(url)) return invalid_argument(fmt::format("{}: not a globus:// URL", url));
  size_t slash = url.find('/', 9);
  if (slash == std::string::npos || slash == 9)
    return invalid_argument(fmt::format("{}: expected globus://COLLECTION_ID/PATH", url));
  return Location{url.substr(9, slash - 9), url.substr(slash)};
}

// A Globus error document ({"code": "...", "message": "..."}) as a Status.
Status api_error(const std::string& what, const HttpResponse& r) {
  std::string code, msg;
  if (auto j = parse_json(r.body, "response"); j && j->is_object()) {
    code = j->value("code", "");
    msg = j->value("message", "");
  }
  if (msg.empty()) msg = r.body.substr(0, 200);
  Code c = Code::kIoError;
  if (r.status == 401 || r.status == 403) c = Code::kPermissionDenied;
  else if (r.status == 404) c = Code::kNotFound;
  else if (r.status == 400 || r.status == 409) c = Code::kInvalidArgument;
  else if (retryable(r.status)) c = Code::kUnavailable;
  return Status(c, fmt::format("Globus {}: HTTP {}{}: {}", what, r.status, code.empty() ? "" : " " + code, msg));
}

class Api {
 public:
  explicit Api(const GlobusOptions& o) : o_(o), c_(o.client) {}

  Result<Json> call(const std::string& method, const std::string& path, const std::string& what, const Json* body = nullptr) {
    std::string text = body ? body->dump() : std::string();
    std::vector<std::string> headers;
    if (body) headers.push_back("Content-Type: application/json");
    Result<Json> out = Json();
    RETURN_IF_ERROR(with_retries(o_.retries, [&](int) -> Status {
      auto r = c_.request(method, o_.api + path, headers,
                          std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
      if (!r) return r.status();
      if (r->status < 200 || r->status >= 300) return api_error(what, *r);
      out = parse_json(r->body, "Globus " + what);
      return out ? Status::ok() : out.status();
    }));
    return out;
  }

 private:
  const GlobusOptions& o_;
  HttpClient c_;
};

}  // namespace

bool is_globus(const std::string& url) { return url.rfind("globus://", 0) == 0; }

Result<GlobusResult> globus_transfer(const std::vector<std::string>& sources, const std::string& url,
                                     const GlobusOptions& o) {
  ASSIGN_OR_RETURN(Location dst, parse_globus(url));
  if (o.client.token.empty())
    return invalid_argument("Globus needs an access token for the Transfer API: --token-file FILE or $DXFER_TOKEN");
  std::string dst_dir = dst.path.back() == '/' ? dst.path : dst.path + "/";
  // The transfer document: one item per source.
  std::string src_collection;
  Json items = Json::array();
  for (const auto& s : sources) {
    std::string collection, path;
    bool dir = false;
    if (is_globus(s)) {
      ASSIGN_OR_RETURN(Location l, parse_globus(s));
      collection = l.collection;
      path = l.path;
      dir = path.back() == '/';
    } else {
      if (o.source_collection.empty())
        return invalid_argument(fmt::format("{}: a local source needs --globus-source COLLECTION_ID (this host's Globus "
                                            "collection, e.g. Globus Connect Personal)", s));
      std::error_code ec;
      fs::path abs = fs::absolute(s, ec).lexically_normal();
      if (!fs::exists(abs, ec)) return not_found(fmt::format("{}: no such file or directory", s));
      collection = o.source_collection;
      dir = fs::is_directory(abs, ec);
      path = abs.string();
      if (path.size() > 1 && path.back() == '/') path.pop_back();
    }
    if (!src_collection.empty() && collection != src_collection)
      return invalid_argument("all sources of one Globus transfer must be on the same collection");
    src_collection = collection;
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    std::string name = trimmed.substr(trimmed.rfind('/') + 1);
    items.push_back({{"DATA_TYPE", "transfer_item"},
                     {"source_path", dir ? trimmed + "/" : trimmed},
                     {"destination_path", dst_dir + name + (dir ? "/" : "")},
                     {"recursive", dir}});
  }
  Json request = {{"DATA_TYPE", "transfer"},
                  {"source_endpoint", src_collection},
                  {"destination_endpoint", dst.collection},
                  {"label", o.label.empty() ? "dxfer" : o.label},
                  {"verify_checksum", true},
                  {"preserve_timestamp", true},
                  {"DATA", items}};
  if (o.sync) request["sync_level"] = o.checksum ? 3 : 2;  // 2: newer mtime, 3: checksums differ

  // The request's identity (without the submission id) names its state file.
  ASSIGN_OR_RETURN(auto digest, crypto::sha256(request.dump() + o.api));
  std::string state_path;
  Json state = Json::object();
  if (!o.state_dir.empty()) {
    std::error_code ec;
    fs::create_directories(o.state_dir, ec);
    state_path = o.state_dir + "/" + crypto::to_hex(digest).substr(0, 32) + ".json";
    if (auto text = io::read_file(state_path)) {
      if (auto j = parse_json(*text, state_path); j && j->is_object()) state = *j;
    }
  }
  auto save_state = [&]() -> Status {
    if (state_path.empty()) return Status::ok();
    io::OutputOptions oo;
    oo.overwrite = true;
    ASSIGN_OR_RETURN(auto out, io::AtomicOutput::create(state_path, oo));
    RETURN_IF_ERROR(out.write(state.dump() + "\n"));
    return out.commit();
  };

  Api api(o);
  GlobusResult res;
  res.resumed = state.contains("submission_id");
  if (!res.resumed) {
    ASSIGN_OR_RETURN(Json sid, api.call("GET", "/submission_id", "submission_id"));
    if (!sid.contains("value") || !sid["value"].is_string())
      return Status(Code::kCorrupt, "Globus submission_id: no \"value\" in the response");
    state["submission_id"] = sid["value"];
    RETURN_IF_ERROR(save_state());
  }
  if (!state.contains("task_id")) {
    request["submission_id"] = state["submission_id"];
    ASSIGN_OR_RETURN(Json r, api.call("POST", "/transfer", "transfer submission", &request));
    std::string code = r.value("code", "");
    if ((code != "Accepted" && code != "Duplicate") || !r.contains("task_id"))
      return Status(Code::kIoError, fmt::format("Globus transfer submission: {} {}", code, r.value("message", "")));
    state["task_id"] = r["task_id"];
    RETURN_IF_ERROR(save_state());
  }
  res.task_id = state["task_id"].get<std::string>();
  for (;;) {
    ASSIGN_OR_RETURN(Json task, api.call("GET", "/task/" + res.task_id, "task " + res.task_id));
    if (o.progress) o.progress(task);
    std::string status = task.value("status", "");
    if (status == "SUCCEEDED" || status == "FAILED") {
      res.status = status;
      res.task = task;
      break;
    }
    if (status == "INACTIVE") {
      // Credentials expired or consent needed: Globus holds the task for the user.
      return Status(Code::kUnavailable,
                    fmt::format("Globus task {} is INACTIVE ({}): it needs attention in the Globus web app; run the same "
                                "command again afterwards to follow it",
                                res.task_id, task.value("nice_status", "no reason given")));
    }
    if (status != "ACTIVE") return Status(Code::kCorrupt, fmt::format("Globus task {}: unknown status '{}'", res.task_id, status));
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.poll_s);
    while (std::chrono::steady_clock::now() < until) {
      RETURN_IF_ERROR(cancel::check_cancelled());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (!state_path.empty()) ::unlink(state_path.c_str());  // the task is over: the next run submits anew
  return res;
}

}  // namespace sciflow::net
