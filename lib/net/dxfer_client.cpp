#include "net/dxfer_client.hpp"
#include "net/tree_json.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "core/cancel.hpp"
#include "codec/zstd.hpp"
#include "core/rate_limit.hpp"
#include "crypto/hash.hpp"
#include "io/file.hpp"

namespace sciflow::net {

namespace fs = std::filesystem;

namespace {

constexpr const char* kApi = "/_dxfer/v1/";
constexpr int64_t kLeaf = static_cast<int64_t>(crypto::kTreeLeafBytes);
constexpr int64_t kBatchBytes = 8 << 20;
constexpr size_t kBatchFiles = 1000;

using Fd = io::UniqueFd;

// The server's error for a non-2xx response, as a Status.
Status http_error(const std::string& what, const HttpResponse& r) {
  std::string msg;
  auto j = parse_json(r.body, "response");
  if (j && j->is_object() && j->contains("error")) msg = (*j)["error"].get<std::string>();
  else msg = r.body.substr(0, 200);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
  Code code = Code::kIoError;
  switch (r.status) {
    case 400: code = Code::kInvalidArgument; break;
    case 401: case 403: code = Code::kPermissionDenied; break;
    case 404: code = Code::kNotFound; break;
    case 409: code = Code::kAlreadyExists; break;
    case 422: code = Code::kCorrupt; break;
    case 507: code = Code::kResourceExhausted; break;
    default: if (retryable(r.status)) code = Code::kUnavailable;
  }
  return Status(code, fmt::format("{}: HTTP {}{}{}", what, r.status, msg.empty() ? "" : ": ", msg));
}

// A request repeated on transport errors, retryable statuses, and (for chunks
// and batches) 422 "damaged on the way", with backoff between attempts.
Result<HttpResponse> call(HttpClient& c, const RemoteOptions& o, const std::string& method, const std::string& url,
                          const std::string& what, const std::vector<std::string>& headers = {},
                          std::span<const uint8_t> body = {}, bool retry_corrupt = false,
                          const std::function<bool(const char*, size_t)>& sink = nullptr,
                          const std::function<void()>& before_retry = nullptr) {
  for (int attempt = 0;; ++attempt) {
    auto r = c.request(method, url, headers, body, sink);
    Status st;
    if (!r) st = r.status();
    else if (r->status >= 200 && r->status < 300) return r;
    else st = http_error(what, *r);
    bool again = r ? (retryable(r->status) || (retry_corrupt && r->status == 422)) : retryable(st);
    if (!again || attempt >= o.retries) return st;
    RETURN_IF_ERROR(backoff(attempt + 1));
    if (before_retry) before_retry();
  }
}

// GET of bytes [off, off + n) of `path` under `base` (n < 0: the whole file),
// with call()'s retries; `what` names it in errors.
Status get_range(HttpClient& c, const RemoteOptions& o, const std::string& base, const std::string& path, int64_t off,
                 int64_t n, const std::string& what, const std::function<bool(const char*, size_t)>& sink,
                 const std::function<void()>& restart) {
  std::vector<std::string> h;
  if (n >= 0) h.push_back(fmt::format("Range: bytes={}-{}", off, off + n - 1));
  auto r = call(c, o, "GET", base + url_encode_path(path), what, h, {}, false, sink, restart);
  return r ? Status::ok() : r.status();
}

constexpr int64_t kSealBytes = static_cast<int64_t>(crypto::kNonceBytes + crypto::kTagBytes);
constexpr const char* kEncName = "aes-256-gcm/v1";

// How an encrypted file of `plain` bytes is cut: plaintext per chunk, chunks, stored size.
struct EncLayout {
  int64_t plain = 0, chunk = 0, plain_chunk = 0, nchunks = 0, stored = 0;
};
EncLayout enc_layout(int64_t plain, int64_t chunk) {
  EncLayout l;
  l.plain = plain;
  l.chunk = chunk;
  l.plain_chunk = chunk - kSealBytes;
  l.nchunks = std::max<int64_t>(1, (plain + l.plain_chunk - 1) / l.plain_chunk);
  l.stored = plain + kSealBytes * l.nchunks;
  return l;
}
std::string enc_aad(const std::string& path, int64_t k, const EncLayout& l) {
  return fmt::format("dxfer-e2e-v1\n{}\n{}\n{}\n{}", path, k, l.nchunks, l.plain);
}
std::span<const uint8_t> as_bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::string leaves_header(const std::vector<crypto::Digest256>& leaves) {
  return "X-Dxfer-Leaves: " + crypto::leaves_to_text(leaves);
}

struct PushFile {
  io::SourceFile f;
  EncLayout enc;          // when encrypting
  int64_t stored = 0;     // bytes on the server
  std::string path;  // on the server
  std::string id;
  int64_t nchunks = 0;
  std::vector<std::vector<crypto::Digest256>> leaves;
  std::atomic<int64_t> remaining{0}, sent{0};
  bool resumed = false, batched = false, skipped = false;
  std::string error;
  std::string tree;
  bool done = false;
};

struct Item {
  size_t file = 0;
  int64_t chunk = -1;            // chunk index, or -1 for a batch
  bool send = true;              // false: push: the server has it, only hash it; pull: check the local copy
  std::vector<size_t> batch;     // files of a batch
};

// Runs `work` on every queued item on `threads` threads, each with its own
// kept-alive connection from `connect`; stops taking items once a signal arrives (returned).
template <typename Conn>
Status drain(std::deque<Item>& queue, std::mutex& mu, int threads, const std::function<std::unique_ptr<Conn>()>& connect,
             const std::function<void(Conn&, std::vector<uint8_t>& buf, Item& item)>& work) {
  Status stopped;
  auto worker = [&] {
    std::unique_ptr<Conn> conn = connect();
    Conn& c = *conn;
    std::vector<uint8_t> buf;
    for (;;) {
      Item it;
      {
        std::lock_guard<std::mutex> l(mu);
        if (queue.empty() || !stopped.is_ok()) return;
        if (cancel::cancelled()) {
          stopped = cancel::check_cancelled();
          return;
        }
        it = std::move(queue.front());
        queue.pop_front();
      }
      work(c, buf, it);
    }
  };
  std::vector<std::thread> pool;
  int nt = std::max(1, std::min<int>(threads, static_cast<int>(queue.size())));
  for (int t = 0; t < nt && !queue.empty(); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return stopped;
}

}  // namespace

bool is_remote(const std::string& url) { return url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0; }

Result<RemoteUrl> parse_remote(const std::string& url) {
  if (url.rfind("http://", 0) == 0)
    return invalid_argument(fmt::format("{}: plain HTTP would carry the token and the data in the clear; dxfer "
                                        "speaks HTTPS only (https://)", url));
  size_t scheme = url.find("://");
  if (scheme == std::string::npos || !is_remote(url)) return invalid_argument(fmt::format("{}: not an https:// URL", url));
  size_t slash = url.find('/', scheme + 3);
  RemoteUrl r;
  r.base = url.substr(0, slash);
  r.prefix = slash == std::string::npos ? "/" : url.substr(slash);
  if (r.prefix.find('?') != std::string::npos || r.prefix.find('#') != std::string::npos)
    return invalid_argument(fmt::format("{}: a destination URL has no query or fragment", url));
  if (r.prefix.back() != '/') r.prefix += '/';
  if (r.base.size() <= scheme + 3) return invalid_argument(fmt::format("{}: no host", url));
  return r;
}

Result<Json> remote_manifest(const std::string& url, const RemoteOptions& o) {
  ASSIGN_OR_RETURN(RemoteUrl u, parse_remote(url));
  HttpClient c(o.client);
  ASSIGN_OR_RETURN(auto r, call(c, o, "GET", u.base + kApi + "manifest?prefix=" + url_encode(u.prefix), url));
  return parse_json(r.body, url + " manifest");
}

Result<RemoteReport> push(const std::vector<std::string>& sources, const std::string& url, const RemoteOptions& o) {
  ASSIGN_OR_RETURN(RemoteUrl u, parse_remote(url));
  if (o.chunk_bytes <= 0 || o.chunk_bytes % kLeaf != 0)
    return invalid_argument("--chunk: to a dxfer server, a multiple of 1 MiB");
  if (o.key && o.checksum)
    return invalid_argument("--checksum compares hashes of the contents, which an encrypted copy does not reveal; use size and mtime");
  if (o.key && o.chunk_bytes <= kSealBytes) return invalid_argument("--chunk too small for --encrypt");
  ASSIGN_OR_RETURN(auto sources_found, io::enumerate_sources(sources));
  Json remote = Json::object();
  if (o.sync) {
    ASSIGN_OR_RETURN(Json m, remote_manifest(url, o));
    if (m.contains("files")) remote = m["files"];
  }
  std::deque<PushFile> files;  // stable addresses
  HttpClient main_client(o.client);
  RateLimiter limiter(o.bwlimit);
  RemoteReport rep;
  std::atomic<int64_t> wire_bytes{0}, chunk_bytes_sent{0};  // chunks as sent (zstd) and before
  std::atomic<int64_t> done_bytes{0};
  auto progress = [&](int64_t n) {
    int64_t d = done_bytes += n;
    if (o.progress) o.progress(d);
  };
  std::deque<Item> queue;
  std::vector<size_t> small;
  std::vector<size_t> finish_now;  // encrypted files the server already holds whole
  for (const auto& f : sources_found) {
    RETURN_IF_ERROR(cancel::check_cancelled());
    PushFile& pf = files.emplace_back();
    pf.f = f;
    pf.path = u.prefix + f.name;
    if (o.sync && remote.contains(pf.path)) {
      const Json& e = remote[pf.path];
      const Json em = e.value("meta", Json::object());
      bool enc_remote = em.value("enc", "") == kEncName;
      bool same = o.key ? enc_remote && em.value("plain_size", int64_t{-1}) == f.size
                        : !enc_remote && e.value("size", int64_t{-1}) == f.size;
      if (same && o.checksum) {
        // The server hashes its copy again from disk: a copy damaged since it
        // arrived is sent again.
        // Compared in the hash the server's copy was stored with.
        const crypto::TreeHash th = crypto::tree_hash_of(tree_from(e));
        ASSIGN_OR_RETURN(std::string t, crypto::tree_file_text(f.path, o.threads, th));
        auto r = call(main_client, o, "GET",
                      u.base + kApi + "hash?path=" + url_encode(pf.path) + "&hash=" + std::string(crypto::tree_hash_name(th)), pf.path);
        if (!r && r.status().code() != Code::kNotFound) return r.status();
        auto j = r ? parse_json(r->body, pf.path) : Result<Json>(r.status());
        same = j && t == tree_from(*j);
      } else if (same) {
        same = e.value("mtime_ns", int64_t{-1}) == f.mtime_ns;
      }
      if (same) {
        pf.done = pf.skipped = true;
        rep.transfer.files.push_back({f.name, "skipped", f.size, 0, tree_from(e)});
        progress(f.size);
        if (o.file_done) o.file_done();
        continue;
      }
    }
    pf.stored = f.size;
    Json meta = Json::object();
    if (o.key) {
      pf.enc = enc_layout(f.size, o.chunk_bytes);
      pf.stored = pf.enc.stored;
      meta = Json{{"enc", kEncName}, {"plain_size", f.size}, {"chunk", o.chunk_bytes}};
    }
    if (pf.stored < kLeaf) {
      pf.batched = true;
      small.push_back(files.size() - 1);
      continue;
    }
    pf.nchunks = o.key ? pf.enc.nchunks : (f.size + o.chunk_bytes - 1) / o.chunk_bytes;
    pf.leaves.resize(static_cast<size_t>(pf.nchunks));
    pf.remaining = pf.nchunks;
    Json req{{"path", pf.path}, {"size", pf.stored}, {"mtime_ns", f.mtime_ns}, {"chunk", o.chunk_bytes}, {"meta", meta}};
    if (o.hash != crypto::TreeHash::kSha256) req["hash"] = crypto::tree_hash_name(o.hash);
    std::string body = req.dump();
    ASSIGN_OR_RETURN(auto r, call(main_client, o, "POST", u.base + kApi + "upload", pf.path, {"Content-Type: application/json"},
                                  std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size())));
    ASSIGN_OR_RETURN(Json j, parse_json(r.body, pf.path + " upload"));
    pf.id = j.value("id", "");
    std::vector<char> have(static_cast<size_t>(pf.nchunks), 0);
    for (const auto& k : j.value("have", Json::array()))
      if (k.is_number_integer() && k.get<int64_t>() >= 0 && k.get<int64_t>() < pf.nchunks) have[k.get<size_t>()] = 1;
    const Json held = j.value("leaves", Json::object());
    for (int64_t k = 0; k < pf.nchunks; ++k) {
      bool h = have[static_cast<size_t>(k)];
      if (h) pf.resumed = true;
      if (h && o.key) {
        // Sealed with a random nonce: the copy the server holds cannot be made
        // again, so its leaves come from the server (verified when it arrived).
        auto lv = crypto::leaves_from_text(held.value(std::to_string(k), ""));
        if (lv && !lv->empty()) {
          pf.leaves[static_cast<size_t>(k)] = std::move(*lv);
          int64_t n = std::min(o.chunk_bytes, pf.stored - k * o.chunk_bytes);
          progress(n);
          --pf.remaining;
          continue;
        }
        h = false;  // no leaves given: send it again
      }
      queue.push_back(Item{files.size() - 1, k, !h, {}});
    }
    if (pf.nchunks > 0 && pf.remaining == 0) finish_now.push_back(files.size() - 1);
  }
  // Small files, packed in batches.
  {
    Item b;
    int64_t bytes = 0;
    for (size_t i : small) {
      if (!b.batch.empty() && (bytes + files[i].f.size > kBatchBytes || b.batch.size() >= kBatchFiles)) {
        queue.push_back(std::move(b));
        b = Item{};
        bytes = 0;
      }
      b.batch.push_back(i);
      bytes += files[i].f.size;
    }
    if (!b.batch.empty()) queue.push_back(std::move(b));
  }

  std::mutex mu;
  auto fail_file = [&](PushFile& pf, const Status& st) {
    std::lock_guard<std::mutex> l(mu);
    if (pf.error.empty()) pf.error = st.message();
  };
  auto finish = [&](HttpClient& c, PushFile& pf) {
    std::vector<crypto::Digest256> all;
    for (const auto& lv : pf.leaves) all.insert(all.end(), lv.begin(), lv.end());
    auto root = crypto::tree_root(all, o.hash);
    if (!root) return fail_file(pf, root.status());
    pf.tree = crypto::tree_text(o.hash, *root);
    auto r = call(c, o, "POST", u.base + kApi + "upload/" + pf.id + "/finish", pf.path, {"X-Dxfer-Tree: " + pf.tree});
    if (!r && r.status().code() == Code::kNotFound) {
      // The upload was finished meanwhile (by the server still completing the
      // request of a client killed a moment ago): done if the file is there
      // with exactly our content.
      auto m = call(c, o, "GET", u.base + kApi + "manifest?prefix=" + url_encode(pf.path), pf.path);
      auto j = m ? parse_json(m->body, pf.path) : Result<Json>(m.status());
      if (j && j->contains("files") && (*j)["files"].contains(pf.path) &&
          tree_from((*j)["files"][pf.path]) == pf.tree && (*j)["files"][pf.path].value("size", int64_t{-1}) == pf.f.size) {
        pf.done = true;
        if (o.file_done) o.file_done();
        return;
      }
      return fail_file(pf, Status(Code::kNotFound, fmt::format("{}: the upload vanished on the server; run again", pf.path)));
    }
    if (!r) return fail_file(pf, r.status());
    pf.done = true;
    if (o.file_done) o.file_done();
  };
  auto run_chunk = [&](HttpClient& c, const Item& it, std::vector<uint8_t>& buf) {
    PushFile& pf = files[it.file];
    {
      std::lock_guard<std::mutex> l(mu);
      if (!pf.error.empty()) return;
    }
    int64_t off = it.chunk * o.chunk_bytes, n = std::min(o.chunk_bytes, pf.f.size - off);
    if (o.key) {
      off = it.chunk * pf.enc.plain_chunk;
      n = std::min(pf.enc.plain_chunk, pf.f.size - off);
    }
    // The chunk is read through a mapping (no copy out of the page cache); sealing
    // it for --encrypt writes the ciphertext into `buf`.
    Fd src(::open(pf.f.path.c_str(), O_RDONLY | O_CLOEXEC));
    io::MappedFile map;
    Status st = src.get() < 0 ? errno_status(fmt::format("open '{}'", pf.f.path), errno) : Status::ok();
    if (st.is_ok()) {
      auto m = io::MappedFile::open_range(src.get(), off, static_cast<size_t>(n), pf.f.path);
      if (m) map = std::move(*m);
      else st = m.status();
    }
    std::span<const uint8_t> data = map.data();
    if (st.is_ok() && o.key) {
      auto sealed = crypto::seal(*o.key, as_bytes(enc_aad(pf.path, it.chunk, pf.enc)), data);
      if (!sealed) st = sealed.status();
      else buf = std::move(*sealed);
      data = buf;
      n = static_cast<int64_t>(buf.size());
    }
    std::vector<crypto::Digest256> leaves;
    if (st.is_ok()) st = crypto::hash_leaves(data, &leaves, o.hash);
    if (st.is_ok() && it.send) {
      // Fault injection for the tests: damage chunk K once after hashing it, as a
      // bad NIC or memory would; the server must refuse it and the retry fix it.
      // zstd on the wire: only when it saves something (encrypted chunks never do).
      std::vector<uint8_t> packed;
      std::vector<std::string> headers = {leaves_header(leaves), "Content-Type: application/octet-stream"};
      if (o.zstd_level != 0 && !o.key) {
        auto z = codec::zstd::compress(data, o.zstd_level);
        if (z && z->size() * 20 <= data.size() * 19) {
          packed = std::move(*z);
          headers.push_back("X-Dxfer-Encoding: zstd");
        }
      }
      std::span<const uint8_t> wire = packed.empty() ? data : std::span<const uint8_t>(packed);
      st = limiter.take(static_cast<int64_t>(wire.size()));
      std::vector<uint8_t> damaged;  // sent instead of `wire` by the fault injection
      bool flipped = false;
      if (const char* k = std::getenv("DXFER_TEST_FLIP_CHUNK"); k && std::atoll(k) == it.chunk && !wire.empty()) {
        damaged.assign(wire.begin(), wire.end());
        damaged[damaged.size() / 2] ^= 0x01;
        wire = damaged;
        flipped = true;
      }
      auto r = !st.is_ok() ? Result<HttpResponse>(st) : call(c, o, "PUT", fmt::format("{}{}upload/{}/{}", u.base, kApi, pf.id, it.chunk),
                    fmt::format("{} chunk {}", pf.path, it.chunk), headers, wire, true, nullptr, [&] {
                      if (flipped) damaged[damaged.size() / 2] ^= 0x01;  // the retry sends the chunk intact
                      flipped = false;
                    });
      if (!r && r.status().code() == Code::kNotFound) {
        // The upload was completed meanwhile; finish() checks the result.
      } else if (!r) {
        st = r.status();
      } else {
        pf.sent += n;
        wire_bytes += static_cast<int64_t>(wire.size());
        chunk_bytes_sent += n;
      }
    }
    if (!st.is_ok()) return fail_file(pf, st);
    pf.leaves[static_cast<size_t>(it.chunk)] = std::move(leaves);
    progress(n);
    if (--pf.remaining == 0) finish(c, pf);
  };
  auto run_batch = [&](HttpClient& c, const Item& it) {
    std::string body;
    std::vector<size_t> members;
    for (size_t i : it.batch) {
      PushFile& pf = files[i];
      auto data = io::read_file(pf.f.path);
      if (!data) {
        fail_file(pf, data.status());
        continue;
      }
      if (static_cast<int64_t>(data->size()) != pf.f.size) {
        fail_file(pf, io_error(fmt::format("{}: changed while being sent", pf.f.path)));
        continue;
      }
      Json meta = Json::object();
      if (o.key) {
        auto sealed = crypto::seal(*o.key, as_bytes(enc_aad(pf.path, 0, pf.enc)), as_bytes(*data));
        if (!sealed) {
          fail_file(pf, sealed.status());
          continue;
        }
        data->assign(reinterpret_cast<const char*>(sealed->data()), sealed->size());
        meta = Json{{"enc", kEncName}, {"plain_size", pf.f.size}, {"chunk", o.chunk_bytes}};
      }
      std::vector<crypto::Digest256> leaves;
      Status st = crypto::hash_leaves(std::span(reinterpret_cast<const uint8_t*>(data->data()), data->size()), &leaves, o.hash);
      auto root = st.is_ok() ? crypto::tree_root(leaves, o.hash) : Result<crypto::Digest256>(st);
      if (!root) {
        fail_file(pf, root.status());
        continue;
      }
      pf.tree = crypto::tree_text(o.hash, *root);
      Json record{{"path", pf.path}, {"size", static_cast<int64_t>(data->size())}, {"mtime_ns", pf.f.mtime_ns}, {"meta", meta}};
      put_tree(record, pf.tree);
      body += to_json_line(record);
      body += '\n';
      body += *data;
      members.push_back(i);
    }
    if (members.empty()) return;
    for (int attempt = 0;; ++attempt) {
      if (!limiter.take(static_cast<int64_t>(body.size())).is_ok()) return;
      auto r = call(c, o, "POST", u.base + kApi + "batch", fmt::format("batch of {} files", members.size()),
                    {"Content-Type: application/x-dxfer-batch"}, std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
      if (!r) {
        for (size_t i : members) fail_file(files[i], r.status());
        return;
      }
      auto j = parse_json(r->body, "batch response");
      if (!j) {
        for (size_t i : members) fail_file(files[i], j.status());
        return;
      }
      bool damaged = false;
      for (const auto& fj : j->value("files", Json::array())) {
        std::string p = fj.value("path", "");
        for (size_t i : members) {
          PushFile& pf = files[i];
          if (pf.path != p || pf.done) continue;
          if (fj.value("ok", false)) {
            pf.done = true;
            pf.sent = pf.stored;
            progress(pf.f.size);
            if (o.file_done) o.file_done();
          } else if (fj.value("error", "").find("damaged") != std::string::npos && attempt < o.retries) {
            damaged = true;
          } else {
            fail_file(pf, Status(Code::kIoError, fmt::format("{}: {}", p, fj.value("error", "refused"))));
          }
        }
      }
      if (!damaged) return;
      // Send the batch again: files already in place are replaced by identical
      // copies, which costs little for small files and keeps the protocol simple.
      if (!backoff(attempt + 1).is_ok()) return;
    }
  };

  for (size_t i : finish_now) finish(main_client, files[i]);
  RETURN_IF_ERROR(drain<HttpClient>(queue, mu, o.threads, [&] { return std::make_unique<HttpClient>(o.client); },
                                    [&](HttpClient& c, std::vector<uint8_t>& buf, Item& it) {
    if (it.chunk >= 0) run_chunk(c, it, buf);
    else run_batch(c, it);
  }));
  for (auto& pf : files) {
    if (pf.skipped) continue;
    if (!pf.error.empty() || !pf.done) {
      rep.transfer.failures.push_back(pf.error.empty() ? fmt::format("{}: not finished", pf.path) : pf.error);
      continue;
    }
    rep.transfer.files.push_back({pf.f.name, pf.resumed ? "resumed" : "sent", pf.f.size, pf.sent, pf.tree});
    rep.transfer.bytes_sent += pf.sent;
  }
  if (o.zstd_level != 0) rep.wire_bytes = wire_bytes + (rep.transfer.bytes_sent - chunk_bytes_sent);
  return rep;
}

Result<std::vector<std::string>> verify(const std::vector<std::string>& sources, const std::string& url,
                                        const RemoteOptions& o) {
  ASSIGN_OR_RETURN(RemoteUrl u, parse_remote(url));
  ASSIGN_OR_RETURN(auto found, io::enumerate_sources(sources));
  ASSIGN_OR_RETURN(Json m, remote_manifest(url, o));
  const Json listed = m.contains("files") && m["files"].is_object() ? m["files"] : Json::object();
  HttpClient c(o.client);
  std::vector<std::string> problems;
  for (const auto& f : found) {
    RETURN_IF_ERROR(cancel::check_cancelled());
    std::string path = u.prefix + f.name;
    // The server hashes its copy again from disk, with the hash it was stored with.
    const Json e = listed.contains(path) ? listed[path] : Json::object();
    const crypto::TreeHash th = crypto::tree_hash_of(tree_from(e));
    auto r = call(c, o, "GET", u.base + kApi + "hash?path=" + url_encode(path) + "&hash=" + std::string(crypto::tree_hash_name(th)), path);
    if (!r) {
      if (r.status().code() != Code::kNotFound) return r.status();
      problems.push_back(fmt::format("{}: missing at the destination", f.name));
      continue;
    }
    ASSIGN_OR_RETURN(Json j, parse_json(r->body, path + " hash"));
    int64_t size = j.value("size", int64_t{-1});
    std::string theirs = tree_from(j);
    const Json em = e.value("meta", Json::object());
    if (em.value("enc", "") != kEncName) {
      if (size != f.size) {
        problems.push_back(fmt::format("{}: {} bytes here, {} at the destination", f.name, f.size, size));
        continue;
      }
      ASSIGN_OR_RETURN(std::string mine, crypto::tree_file_text(f.path, o.threads, th));
      if (mine != theirs)
        problems.push_back(fmt::format("{}: {}-tree differs (source {}, destination {})", f.name, crypto::tree_hash_name(th),
                                       mine.substr(0, 21), theirs.substr(0, 21)));
      continue;
    }
    // Encrypted: the server's disk must hold what it received, and every chunk
    // must open with our key and equal our bytes.
    if (!o.key) return invalid_argument(fmt::format("{}: encrypted end to end; give --encrypt KEYFILE to verify it", path));
    EncLayout l = enc_layout(em.value("plain_size", int64_t{-1}), em.value("chunk", int64_t{0}));
    if (l.plain != f.size) {
      problems.push_back(fmt::format("{}: {} bytes here, {} at the destination", f.name, f.size, l.plain));
      continue;
    }
    if (theirs != tree_from(e) || size != l.stored) {
      problems.push_back(fmt::format("{}: the server's copy changed on its disk since it arrived", f.name));
      continue;
    }
    Fd src(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (src.get() < 0) return errno_status(fmt::format("open '{}'", f.path), errno);
    std::vector<uint8_t> sealed, mine;
    for (int64_t k = 0; k < l.nchunks; ++k) {
      int64_t off = k * l.chunk, n = std::min(l.chunk, l.stored - off);
      sealed.clear();
      auto sink = [&](const char* d, size_t len) {
        sealed.insert(sealed.end(), reinterpret_cast<const uint8_t*>(d), reinterpret_cast<const uint8_t*>(d) + len);
        return static_cast<int64_t>(sealed.size()) <= n;
      };
      RETURN_IF_ERROR(get_range(c, o, u.base, path, off, n, path, sink, [&] { sealed.clear(); }));
      auto plain = crypto::open_sealed(*o.key, as_bytes(enc_aad(path, k, l)), sealed);
      if (!plain) {
        problems.push_back(fmt::format("{}: chunk {} does not open with this key (wrong key, or altered)", f.name, k));
        break;
      }
      mine.resize(plain->size());
      RETURN_IF_ERROR(io::pread_all(src.get(), mine, k * l.plain_chunk, f.path));
      if (mine != *plain) {
        problems.push_back(fmt::format("{}: chunk {} differs from the source", f.name, k));
        break;
      }
    }
  }
  return problems;
}

// ---- whole-file stores: WebDAV and SFTP ----

bool is_dav(const std::string& url) { return url.rfind("davs://", 0) == 0 || url.rfind("dav://", 0) == 0; }
bool is_file_store(const std::string& url) { return is_dav(url) || is_sftp(url); }

namespace {

constexpr const char* kStoreManifest = ".dxfer-manifest.json";

// One connection for reading byte ranges of remote files (pull); each thread makes its own.
class RangeSource {
 public:
  virtual ~RangeSource() = default;
  // Streams bytes [off, off + n) of `path` (n < 0: to its end) to `sink`; `restart`
  // runs before a retry from `off`. kNotFound when absent.
  virtual Status get(const std::string& path, int64_t off, int64_t n, const std::function<bool(const char*, size_t)>& sink,
                     const std::function<void()>& restart) = 0;
};

// A dxfer server: ranged GETs with the bearer token.
class ServerSource : public RangeSource {
 public:
  ServerSource(const RemoteOptions& o, std::string base) : o_(o), c_(o.client), base_(std::move(base)) {}
  Status get(const std::string& path, int64_t off, int64_t n, const std::function<bool(const char*, size_t)>& sink,
             const std::function<void()>& restart) override {
    return get_range(c_, o_, base_, path, off, n, fmt::format("{} at {}", path, off), sink, restart);
  }

 private:
  const RemoteOptions& o_;
  HttpClient c_;
  std::string base_;
};

// One connection to a destination that stores whole files and cannot hash them.
// Paths are absolute on the server. Each thread makes its own.
class Store : public RangeSource {
 public:
  // Writes `data` as `path` (parents made as needed), then checks the size there.
  // *resumed: bytes an interrupted earlier attempt had already delivered.
  virtual Status put(const std::string& path, std::span<const uint8_t> data, const io::SourceFile& f,
                     int64_t* resumed, RateLimiter* limiter) = 0;
  Result<std::string> read(const std::string& path) {
    std::string out;
    RETURN_IF_ERROR(get(path, 0, -1, [&](const char* d, size_t n) { out.append(d, n); return true; }, [&] { out.clear(); }));
    return out;
  }
};

Result<RemoteUrl> parse_dav(const std::string& url) {
  if (!is_dav(url)) return invalid_argument(fmt::format("{}: not a davs:// URL", url));
  if (url.rfind("dav://", 0) == 0)
    return invalid_argument(fmt::format("{}: plain HTTP would carry the data in the clear; dxfer speaks WebDAV over "
                                        "HTTPS only (davs://)", url));
  std::string http = (url.rfind("davs://", 0) == 0 ? "https://" : "http://") + url.substr(url.find("://") + 3);
  return parse_remote(http);
}

// Collections already made, shared by the threads of one push.
struct DavShared {
  std::mutex mu;
  std::set<std::string> made;
};

class DavStore : public Store {
 public:
  DavStore(const RemoteOptions& o, std::string base, std::shared_ptr<DavShared> shared)
      : o_(o), c_(o.client), base_(std::move(base)), shared_(std::move(shared)) {}

  Status get(const std::string& path, int64_t off, int64_t n, const std::function<bool(const char*, size_t)>& sink,
             const std::function<void()>& restart) override {
    return get_range(c_, o_, base_, path, off, n, path, sink, restart);
  }

  Status put(const std::string& path, std::span<const uint8_t> data, const io::SourceFile&, int64_t* resumed,
             RateLimiter* limiter) override {
    *resumed = 0;
    if (limiter) RETURN_IF_ERROR(limiter->take(static_cast<int64_t>(data.size())));
    RETURN_IF_ERROR(make_collections(path));
    const std::string target = base_ + url_encode_path(path);
    auto r = call(c_, o_, "PUT", target, path, {"Content-Type: application/octet-stream"}, data);
    if (!r) return r.status();
    auto h = call(c_, o_, "HEAD", target, path);
    int64_t got = h ? std::strtoll(h->header("content-length").c_str(), nullptr, 10) : -1;
    if (got != static_cast<int64_t>(data.size()))
      return Status(Code::kCorrupt, fmt::format("{}: the server reports {} bytes after the PUT of {}", path, got, data.size()));
    return Status::ok();
  }

 private:
  // MKCOL each missing parent collection of `path` (405: exists already).
  Status make_collections(const std::string& path) {
    size_t pos = 1;
    while ((pos = path.find('/', pos)) != std::string::npos) {
      std::string dir = path.substr(0, pos + 1);
      ++pos;
      {
        std::lock_guard<std::mutex> l(shared_->mu);
        if (shared_->made.count(dir)) continue;
      }
      auto made = [](long st) { return st == 201 || st == 405 || st == 301 || (st >= 200 && st < 300); };
      auto r = c_.request("MKCOL", base_ + url_encode_path(dir));
      if (!r) return r.status();
      if (!made(r->status)) {
        // Apache's mod_dav answers 403 to the loser of two MKCOLs of the same
        // collection at once (another thread of this push): ask again, which now
        // gets 405 (exists) if that was the cause.
        r = c_.request("MKCOL", base_ + url_encode_path(dir));
        if (!r) return r.status();
        if (!made(r->status)) return http_error("MKCOL " + dir, *r);
      }
      std::lock_guard<std::mutex> l(shared_->mu);
      shared_->made.insert(dir);
    }
    return Status::ok();
  }

  const RemoteOptions& o_;
  HttpClient c_;
  std::string base_;
  std::shared_ptr<DavShared> shared_;
};

class SftpStore : public Store {
 public:
  SftpStore(const RemoteOptions& o, const std::string& base) : o_(o), c_(base, o.sftp) {}

  Status get(const std::string& path, int64_t off, int64_t n, const std::function<bool(const char*, size_t)>& sink,
             const std::function<void()>& restart) override {
    return retried([&](int attempt) {
      if (attempt > 0 && restart) restart();
      return c_.get(path, sink, off, n);
    });
  }

  Status put(const std::string& path, std::span<const uint8_t> data, const io::SourceFile& f, int64_t* resumed,
             RateLimiter* limiter) override {
    const std::string tag = fmt::format("{:x}-{:x}.part", f.size, f.mtime_ns);
    std::function<Status(size_t)> pace;
    if (limiter) pace = [limiter](size_t n) { return limiter->take(static_cast<int64_t>(n)); };
    RETURN_IF_ERROR(retried([&](int) { return c_.put(path, data, tag, resumed, pace); }));
    Result<int64_t> got = Status(Code::kUnavailable, "");
    RETURN_IF_ERROR(retried([&](int) {
      got = c_.size(path);
      return got ? Status::ok() : got.status();
    }));
    if (*got != static_cast<int64_t>(data.size()))
      return Status(Code::kCorrupt, fmt::format("{}: the server reports {} bytes after writing {}", path, *got, data.size()));
    return Status::ok();
  }

 private:
  Status retried(const std::function<Status(int)>& op) { return with_retries(o_.retries, op); }

  const RemoteOptions& o_;
  SftpClient c_;
};

// Where a davs:// or sftp:// URL points, and how to connect to it.
struct StoreTarget {
  std::string prefix;  // absolute directory on the server, ends in '/'
  std::function<std::unique_ptr<Store>()> connect;
};

Result<StoreTarget> store_target(const std::string& url, const RemoteOptions& o) {
  if (is_sftp(url)) {
    ASSIGN_OR_RETURN(SftpUrl u, parse_sftp(url));
    return StoreTarget{u.prefix, [&o, base = u.base] { return std::make_unique<SftpStore>(o, base); }};
  }
  ASSIGN_OR_RETURN(RemoteUrl u, parse_dav(url));
  auto shared = std::make_shared<DavShared>();
  return StoreTarget{u.prefix, [&o, base = u.base, shared] { return std::make_unique<DavStore>(o, base, shared); }};
}

Result<Json> read_store_manifest(Store& s, const std::string& prefix) {
  auto text = s.read(prefix + kStoreManifest);
  if (!text) {
    if (text.status().code() == Code::kNotFound) return Json{{"files", Json::object()}};
    return text.status();
  }
  ASSIGN_OR_RETURN(Json j, parse_json(*text, prefix + kStoreManifest));
  if (!j.contains("files") || !j["files"].is_object()) j["files"] = Json::object();
  return j;
}

}  // namespace

Result<Json> store_manifest(const std::string& url, const RemoteOptions& o) {
  ASSIGN_OR_RETURN(StoreTarget t, store_target(url, o));
  return read_store_manifest(*t.connect(), t.prefix);
}

// Files from this size up are hashed while they are sent to a whole-file store.
constexpr int64_t kOverlapHashBytes = 4 << 20;

Result<RemoteReport> push_store(const std::vector<std::string>& sources, const std::string& url, const RemoteOptions& o) {
  ASSIGN_OR_RETURN(StoreTarget target, store_target(url, o));
  if (o.key)
    return unsupported(fmt::format("--encrypt needs a dxfer server (https://); {} would store what it is sent", url.substr(0, url.find("://"))
                                       == "sftp" ? "an SFTP server" : "a WebDAV server"));
  ASSIGN_OR_RETURN(auto found, io::enumerate_sources(sources));
  auto main_store = target.connect();
  ASSIGN_OR_RETURN(Json manifest, read_store_manifest(*main_store, target.prefix));
  RemoteReport rep;
  RateLimiter limiter(o.bwlimit);
  std::atomic<int64_t> done_bytes{0};
  std::mutex mu;
  std::vector<size_t> to_send;
  for (size_t i = 0; i < found.size(); ++i) {
    const auto& f = found[i];
    if (o.sync && manifest["files"].contains(f.name)) {
      const Json& e = manifest["files"][f.name];
      bool same = e.value("size", int64_t{-1}) == f.size;
      if (same && o.checksum) {
        const std::string theirs = tree_from(e);
        ASSIGN_OR_RETURN(std::string t, crypto::tree_file_text(f.path, o.threads, crypto::tree_hash_of(theirs)));
        same = t == theirs;
      } else if (same) {
        same = e.value("mtime_ns", int64_t{-1}) == f.mtime_ns;
      }
      if (same) {
        rep.transfer.files.push_back({f.name, "skipped", f.size, 0, tree_from(e)});
        done_bytes += f.size;
        if (o.progress) o.progress(done_bytes);
        if (o.file_done) o.file_done();
        continue;
      }
    }
    to_send.push_back(i);
  }
  std::atomic<size_t> next{0};
  Status fatal;
  auto worker = [&] {
    auto store = target.connect();
    for (size_t t; (t = next.fetch_add(1)) < to_send.size();) {
      const auto& f = found[to_send[t]];
      if (cancel::cancelled()) {
        std::lock_guard<std::mutex> l(mu);
        if (fatal.is_ok()) fatal = cancel::check_cancelled();
        return;
      }
      const std::string path = target.prefix + f.name;
      auto fail = [&](const Status& st) {
        std::lock_guard<std::mutex> l(mu);
        rep.transfer.failures.push_back(st.message());
      };
      io::MappedFile map;
      if (f.size > 0) {
        auto m = io::MappedFile::open(f.path);
        if (!m) {
          fail(m.status());
          continue;
        }
        map = std::move(*m);
      }
      // The manifest's hash is of the bytes sent (the same mapping). A large file
      // is hashed on a thread of its own while it is sent, so that the transfer
      // takes the longer of the two, not their sum (the server cannot hash it).
      Result<std::string> tree = internal_error("not hashed");
      auto hash = [&] { tree = crypto::tree_text_of(map.data(), 1, o.hash, f.path); };
      std::thread hasher;
      if (f.size >= kOverlapHashBytes) hasher = std::thread(hash);
      int64_t resumed = 0;
      Status st = store->put(path, map.data(), f, &resumed, &limiter);
      if (hasher.joinable()) hasher.join();
      else hash();
      if (st.is_ok() && !tree) st = tree.status();
      if (!st.is_ok()) {
        fail(st);
        continue;
      }
      std::lock_guard<std::mutex> l(mu);
      Json entry{{"size", f.size}, {"mtime_ns", f.mtime_ns}};
      put_tree(entry, *tree);
      manifest["files"][f.name] = std::move(entry);
      rep.transfer.files.push_back({f.name, "sent", f.size, f.size - resumed, *tree});
      rep.transfer.bytes_sent += f.size - resumed;
      done_bytes += f.size;
      if (o.progress) o.progress(done_bytes);
      if (o.file_done) o.file_done();
    }
  };
  std::vector<std::thread> pool;
  int nt = std::max(1, std::min<int>(o.threads, static_cast<int>(to_send.size())));
  for (int t = 0; t < nt && !to_send.empty(); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  // The manifest records what arrived, even when a signal stopped the rest.
  if (!to_send.empty()) {
    std::string text = manifest.dump(1) + "\n";
    io::SourceFile mf{"", kStoreManifest, static_cast<int64_t>(text.size()), 0};
    int64_t ignored = 0;
    RETURN_IF_ERROR(main_store->put(target.prefix + kStoreManifest, as_bytes(text), mf, &ignored, nullptr));
  }
  RETURN_IF_ERROR(fatal);
  return rep;
}

Result<std::vector<std::string>> verify_store(const std::vector<std::string>& sources, const std::string& url,
                                              const RemoteOptions& o) {
  ASSIGN_OR_RETURN(StoreTarget target, store_target(url, o));
  ASSIGN_OR_RETURN(auto found, io::enumerate_sources(sources));
  auto store = target.connect();
  ASSIGN_OR_RETURN(Json manifest, read_store_manifest(*store, target.prefix));
  std::vector<std::string> problems;
  for (const auto& f : found) {
    RETURN_IF_ERROR(cancel::check_cancelled());
    // Read the copy back and hash it as it streams in, with the hash its manifest
    // entry was recorded with.
    const std::string recorded = manifest["files"].contains(f.name) ? tree_from(manifest["files"][f.name]) : std::string();
    const crypto::TreeHash th = crypto::tree_hash_of(recorded);
    crypto::TreeHasher hasher(th);
    int64_t got = 0;
    auto sink = [&](const char* d, size_t n) {
      got += static_cast<int64_t>(n);
      hasher.update(std::span(reinterpret_cast<const uint8_t*>(d), n));
      return true;
    };
    Status st = store->get(target.prefix + f.name, 0, -1, sink, [&] {
      hasher = crypto::TreeHasher(th);
      got = 0;
    });
    if (!st.is_ok()) {
      if (st.code() != Code::kNotFound) return st;
      problems.push_back(fmt::format("{}: missing at the destination", f.name));
      continue;
    }
    if (got != f.size) {
      problems.push_back(fmt::format("{}: {} bytes here, {} at the destination", f.name, f.size, got));
      continue;
    }
    ASSIGN_OR_RETURN(auto root, hasher.finish());
    std::string theirs = crypto::tree_text(th, root);
    ASSIGN_OR_RETURN(std::string mine, crypto::tree_file_text(f.path, o.threads, th));
    if (mine != theirs) {
      problems.push_back(fmt::format("{}: {}-tree differs (source {}, destination {})", f.name, crypto::tree_hash_name(th),
                                     mine.substr(0, 21), theirs.substr(0, 21)));
      continue;
    }
    if (recorded != mine)
      problems.push_back(fmt::format("{}: not in the destination's manifest, or recorded with another hash", f.name));
  }
  return problems;
}

// ---- pull: from a dxfer server, a WebDAV or an SFTP server ----

namespace {

std::string flat_name(const std::string& name) {
  std::string flat;
  for (char ch : name) flat += ch == '/' ? '%' : ch;
  return flat;
}

struct PullFile {
  std::string path, name, tree, final_path, part_path, journal_path;
  crypto::TreeHash hash = crypto::TreeHash::kSha256;  // of tree (and of the journal's leaves)
  int64_t size = 0, mtime_ns = 0, nchunks = 0;
  int64_t chunk = 0;      // bytes per ranged GET (as stored on the server)
  int64_t plain = 0;      // bytes of the local copy
  bool encrypted = false;
  EncLayout enc;
  std::vector<std::vector<crypto::Digest256>> leaves;
  std::vector<char> have;
  std::atomic<int64_t> remaining{0}, got{0};
  Fd part, journal;
  std::vector<std::string> plain_digest;  // encrypted: per chunk from the journal, of the plaintext written
  bool resumed = false, skipped = false, done = false;
  std::string error;
};

// One digest of a chunk's bytes (hex): the root of its leaves.
Result<std::string> chunk_digest(std::span<const uint8_t> data, crypto::TreeHash h) {
  std::vector<crypto::Digest256> leaves;
  RETURN_IF_ERROR(crypto::hash_leaves(data, &leaves, h));
  ASSIGN_OR_RETURN(crypto::Digest256 root, crypto::tree_root(leaves, h));
  return crypto::to_hex(root);
}

// Whether chunk k of a resumed pull is in the local copy as the journal recorded
// it: its leaves (as stored), or for an encrypted file the digest of its plaintext.
// false: it must be fetched again; an error: the copy cannot be read.
Result<bool> chunk_intact(PullFile& pf, int64_t k, std::vector<uint8_t>& buf) {
  int64_t off = k * pf.chunk, n = std::min(pf.chunk, pf.size - off);
  if (pf.encrypted) {
    off = k * pf.enc.plain_chunk;
    n = std::min(pf.enc.plain_chunk, pf.plain - off);
  }
  buf.resize(static_cast<size_t>(n));
  RETURN_IF_ERROR(io::pread_all(pf.part.get(), buf, off, pf.part_path));
  if (pf.encrypted) {
    ASSIGN_OR_RETURN(std::string d, chunk_digest(buf, pf.hash));
    return d == pf.plain_digest[static_cast<size_t>(k)];
  }
  std::vector<crypto::Digest256> leaves;
  RETURN_IF_ERROR(crypto::hash_leaves(buf, &leaves, pf.hash));
  return leaves == pf.leaves[static_cast<size_t>(k)];
}

}  // namespace

Result<RemoteReport> pull(const std::string& url, const std::string& dst, const RemoteOptions& o) {
  if (o.chunk_bytes <= 0 || o.chunk_bytes % kLeaf != 0) return invalid_argument("--chunk: a multiple of 1 MiB");
  // What is there, and how to read it: a dxfer server's manifest lists full paths;
  // a WebDAV or SFTP destination's own manifest (written by dxfer push) lists names.
  std::string prefix;
  Json m;
  std::function<std::unique_ptr<RangeSource>()> connect;
  std::vector<std::pair<std::string, Json>> listing;  // (path on the server, entry)
  auto list = [&](const std::string& where) -> Status {
    listing.clear();
    if (is_file_store(where)) {
      // The manifest lies where dxfer pushed to: here, or in a directory above
      // (pulling runs/data/ of a push to runs/).
      ASSIGN_OR_RETURN(StoreTarget t, store_target(where, o));
      prefix = t.prefix;
      auto store = t.connect();
      std::string at = t.prefix;
      ASSIGN_OR_RETURN(m, read_store_manifest(*store, at));
      while (m["files"].empty() && at.size() > 1) {
        at.resize(at.find_last_of('/', at.size() - 2) + 1);
        auto up = read_store_manifest(*store, at);
        if (!up) break;  // above what the server lets us read
        m = std::move(*up);
      }
      connect = [t] { return std::unique_ptr<RangeSource>(t.connect()); };
      if (m.contains("files") && m["files"].is_object())
        for (auto it = m["files"].begin(); it != m["files"].end(); ++it) listing.emplace_back(at + it.key(), it.value());
    } else {
      ASSIGN_OR_RETURN(RemoteUrl u, parse_remote(where));
      prefix = u.prefix;
      ASSIGN_OR_RETURN(m, remote_manifest(where, o));
      connect = [&o, base = u.base] { return std::unique_ptr<RangeSource>(std::make_unique<ServerSource>(o, base)); };
      if (m.contains("files") && m["files"].is_object())
        for (auto it = m["files"].begin(); it != m["files"].end(); ++it) listing.emplace_back(it.key(), it.value());
    }
    std::erase_if(listing, [&](const auto& f) { return f.first.rfind(prefix, 0) != 0; });
    return Status::ok();
  };
  RETURN_IF_ERROR(list(url));
  // A URL without a trailing slash and nothing under it may name one file: it is
  // pulled as DST/NAME. Nothing there at all is an error, not an empty success
  // (a mistyped path must not look like a pull that worked).
  const size_t cut = url.find_last_of('/');
  if (listing.empty() && !url.ends_with('/') && cut != std::string::npos && cut > url.find("://") + 2) {
    const std::string name = url.substr(cut + 1);
    RETURN_IF_ERROR(list(url.substr(0, cut + 1)));
    std::erase_if(listing, [&](const auto& f) { return f.first != prefix + name; });
  }
  if (listing.empty()) return not_found(fmt::format("{}: no file there or under it", url));
  std::error_code ec;
  fs::create_directories(dst + "/.dxfer/partial", ec);
  if (ec) return io_error(fmt::format("create '{}': {}", dst, ec.message()));
  std::deque<PullFile> files;
  std::deque<Item> queue;
  RateLimiter limiter(o.bwlimit);
  RemoteReport rep;
  std::atomic<int64_t> done_bytes{0};
  auto progress = [&](int64_t n) {
    int64_t d = done_bytes += n;
    if (o.progress) o.progress(d);
  };
  for (const auto& [path, e] : listing) {
    std::string name = path.substr(prefix.size());
    if (!io::stays_below(name) || name.rfind(".dxfer", 0) == 0)
      return corrupt(fmt::format("{}: the server listed an unsafe name '{}'", url, path));
    PullFile& pf = files.emplace_back();
    pf.path = path;
    pf.name = name;
    pf.size = e.value("size", int64_t{0});
    pf.mtime_ns = e.value("mtime_ns", int64_t{0});
    pf.tree = tree_from(e);
    pf.hash = crypto::tree_hash_of(pf.tree);
    pf.chunk = o.chunk_bytes;
    pf.plain = pf.size;
    const Json em = e.value("meta", Json::object());
    if (em.value("enc", "") == kEncName) {
      if (!o.key) {
        rep.transfer.failures.push_back(fmt::format("{}: encrypted end to end; give --encrypt KEYFILE to pull it", path));
        files.pop_back();
        continue;
      }
      pf.encrypted = true;
      pf.enc = enc_layout(em.value("plain_size", int64_t{-1}), em.value("chunk", int64_t{0}));
      if (pf.enc.plain < 0 || pf.enc.chunk <= kSealBytes || pf.enc.chunk % kLeaf != 0 || pf.enc.stored != pf.size)
        return corrupt(fmt::format("{}: its encryption record does not match its size", path));
      pf.chunk = pf.enc.chunk;
      pf.plain = pf.enc.plain;
    } else if (em.contains("enc")) {
      return unsupported(fmt::format("{}: encrypted with '{}', which this dxfer does not know", path, em.value("enc", "")));
    }
    pf.final_path = dst + "/" + pf.name;
    pf.part_path = dst + "/.dxfer/partial/" + flat_name(pf.name);
    pf.journal_path = pf.part_path + ".leaves";
    struct stat st;
    if (o.sync && ::stat(pf.final_path.c_str(), &st) == 0 && st.st_size == pf.plain) {
      bool same;
      if (o.checksum && pf.encrypted) {
        return invalid_argument("--checksum compares hashes of the contents, which an encrypted copy does not reveal");
      } else if (o.checksum) {
        ASSIGN_OR_RETURN(std::string t, crypto::tree_file_text(pf.final_path, o.threads, pf.hash));
        same = t == pf.tree;
      } else {
        same = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec == pf.mtime_ns;
      }
      if (same) {
        pf.skipped = true;
        rep.transfer.files.push_back({pf.name, "skipped", pf.plain, 0, pf.tree});
        progress(pf.size);
        if (o.file_done) o.file_done();
        continue;
      }
    }
    pf.nchunks = (pf.size + pf.chunk - 1) / pf.chunk;
    pf.leaves.resize(static_cast<size_t>(pf.nchunks));
    pf.have.assign(static_cast<size_t>(pf.nchunks), 0);
    if (pf.encrypted) pf.plain_digest.resize(static_cast<size_t>(pf.nchunks));
    // Resume: the journal's first line names the file version it belongs to.
    std::string head = fmt::format("{} {} {}", pf.tree, pf.size, pf.chunk);
    if (::access(pf.journal_path.c_str(), F_OK) == 0 && ::stat(pf.part_path.c_str(), &st) == 0 && st.st_size == pf.plain) {
      auto text = io::read_file(pf.journal_path);
      auto lines = text ? io::split_lines(*text) : std::vector<std::string_view>{};
      if (!lines.empty() && lines[0] == head) {
        for (size_t i = 1; i < lines.size(); ++i) {
          // "K LEAVES" (LEAVES: of the bytes as stored), then for an encrypted file
          // " DIGEST" of the plaintext written; a line cut short by a crash is skipped.
          std::string_view line = lines[i];
          size_t sp = line.find(' ');
          if (sp == std::string_view::npos) continue;
          int64_t k = std::strtoll(std::string(line.substr(0, sp)).c_str(), nullptr, 10);
          std::string_view rest = line.substr(sp + 1), plain_hex;
          if (size_t sp2 = rest.find(' '); sp2 != std::string_view::npos) {
            plain_hex = rest.substr(sp2 + 1);
            rest = rest.substr(0, sp2);
          }
          auto lv = crypto::leaves_from_text(rest);
          if (!lv || k < 0 || k >= pf.nchunks || (pf.encrypted && plain_hex.size() != 64)) continue;
          pf.have[static_cast<size_t>(k)] = 1;
          pf.leaves[static_cast<size_t>(k)] = std::move(*lv);
          if (pf.encrypted) pf.plain_digest[static_cast<size_t>(k)] = plain_hex;
          pf.resumed = true;
        }
      }
    }
    if (!pf.resumed) {
      Fd p(::open(pf.part_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (p.get() < 0 || ::ftruncate(p.get(), pf.plain) != 0) return errno_status(fmt::format("create '{}'", pf.part_path), errno);
      RETURN_IF_ERROR(io::write_file_atomic(pf.journal_path, head + "\n"));
    }
    pf.part = Fd(::open(pf.part_path.c_str(), O_RDWR | O_CLOEXEC));  // read: resumed chunks are checked
    pf.journal = Fd(::open(pf.journal_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    if (pf.part.get() < 0 || pf.journal.get() < 0) return errno_status(fmt::format("open '{}'", pf.part_path), errno);
    pf.remaining = pf.nchunks;
    // Chunks the journal holds are read back and checked before they count (the
    // copy may have been damaged on disk since); the others are fetched.
    for (int64_t k = 0; k < pf.nchunks; ++k) queue.push_back(Item{files.size() - 1, k, !pf.have[static_cast<size_t>(k)], {}});
  }
  std::mutex mu;
  auto fail_file = [&](PullFile& pf, const Status& st) {
    std::lock_guard<std::mutex> l(mu);
    if (pf.error.empty()) pf.error = st.message();
  };
  auto finish = [&](PullFile& pf) {
    std::vector<crypto::Digest256> all;
    for (const auto& lv : pf.leaves) all.insert(all.end(), lv.begin(), lv.end());
    auto root = crypto::tree_root(all, pf.hash);
    if (!root) return fail_file(pf, root.status());
    if (crypto::tree_text(pf.hash, *root) != pf.tree) {
      ::unlink(pf.journal_path.c_str());  // start this file over next time
      return fail_file(pf, corrupt(fmt::format("{}: {}-tree of what arrived differs from the server's manifest", pf.path,
                                               crypto::tree_hash_name(pf.hash))));
    }
    if (::fsync(pf.part.get()) != 0) return fail_file(pf, errno_status(fmt::format("fsync '{}'", pf.part_path), errno));
    std::error_code e2;
    fs::create_directories(fs::path(pf.final_path).parent_path(), e2);
    struct timespec times[2] = {{0, UTIME_OMIT}, {pf.mtime_ns / 1000000000, pf.mtime_ns % 1000000000}};
    ::futimens(pf.part.get(), times);
    if (::rename(pf.part_path.c_str(), pf.final_path.c_str()) != 0)
      return fail_file(pf, errno_status(fmt::format("rename into '{}'", pf.final_path), errno));
    ::unlink(pf.journal_path.c_str());
    pf.done = true;
    if (o.file_done) o.file_done();
  };
  for (auto& pf : files)
    if (!pf.skipped && pf.remaining == 0) finish(pf);
  RETURN_IF_ERROR(drain<RangeSource>(queue, mu, o.threads, connect, [&](RangeSource& c, std::vector<uint8_t>& buf, Item& it) {
    PullFile& pf = files[it.file];
    {
      std::lock_guard<std::mutex> l(mu);
      if (!pf.error.empty()) return;
    }
    int64_t off = it.chunk * pf.chunk, n = std::min(pf.chunk, pf.size - off);
    if (!it.send) {  // in the journal: check what the local copy holds
      Result<bool> intact = chunk_intact(pf, it.chunk, buf);
      if (!intact) return fail_file(pf, intact.status());
      if (*intact) {
        progress(n);
        if (--pf.remaining == 0) finish(pf);
        return;
      }
    }
    buf.clear();
    buf.reserve(static_cast<size_t>(n));
    auto sink = [&](const char* d, size_t len) {
      if (static_cast<int64_t>(buf.size() + len) > n) return false;
      size_t at = buf.size();
      buf.resize(at + len);
      std::memcpy(buf.data() + at, d, len);
      return true;
    };
    Status lim = limiter.take(n);
    if (!lim.is_ok()) {
      fail_file(pf, lim);
      return;
    }
    Status st = c.get(pf.path, off, n, sink, [&] { buf.clear(); });
    if (st.is_ok() && static_cast<int64_t>(buf.size()) != n)
      st = io_error(fmt::format("{} chunk {}: {} bytes arrived, {} expected (did the file change on the server?)", pf.path,
                                it.chunk, buf.size(), n));
    std::vector<crypto::Digest256> leaves;
    if (st.is_ok()) st = crypto::hash_leaves(buf, &leaves, pf.hash);
    if (st.is_ok() && pf.encrypted) {
      // Authenticate and decrypt; the plaintext goes to its own offset.
      auto plain = crypto::open_sealed(*o.key, as_bytes(enc_aad(pf.path, it.chunk, pf.enc)), buf);
      if (!plain) {
        st = Status(plain.status().code(), fmt::format("{} chunk {}: {}", pf.path, it.chunk, plain.status().message()));
      } else {
        buf = std::move(*plain);
        off = it.chunk * pf.enc.plain_chunk;
      }
    }
    std::string line = fmt::format("{} {}", it.chunk, crypto::leaves_to_text(leaves));
    if (st.is_ok() && pf.encrypted) {
      auto d = chunk_digest(buf, pf.hash);
      if (d) line += " " + *d;
      else st = d.status();
    }
    if (st.is_ok()) st = io::pwrite_all(pf.part.get(), buf, off, pf.part_path);
    if (st.is_ok()) st = io::write_all(pf.journal.get(), line + "\n", pf.journal_path);
    if (!st.is_ok()) {
      fail_file(pf, st);
      return;
    }
    pf.leaves[static_cast<size_t>(it.chunk)] = std::move(leaves);
    pf.got += n;
    progress(n);
    if (--pf.remaining == 0) finish(pf);
  }));
  for (auto& pf : files) {
    if (pf.skipped) continue;
    if (!pf.error.empty() || !pf.done) {
      rep.transfer.failures.push_back(pf.error.empty() ? fmt::format("{}: not finished", pf.path) : pf.error);
      continue;
    }
    rep.transfer.files.push_back({pf.name, pf.resumed ? "resumed" : "sent", pf.plain, pf.got, pf.tree});
    rep.transfer.bytes_sent += pf.got;
  }
  return rep;
}

}  // namespace sciflow::net
