// dxfer: move data sets between hosts: parallel, secure, verified, resumable.
// main() is one call into the cli module; each command lives in cmd_<name>.cpp.
#include "tools/dxfer/commands.hpp"

namespace sciflow::dxfer {

// globus:// destinations (push and sync).
void add_globus_flags(cli::Definition& def, CLI::App* c, PushOptions& o) {
  def.value_kind(c->add_option("--globus-source", o.globus_source,
                               "globus://: the Globus collection (endpoint) ID that local sources are on")
                     ->type_name("ID"),
                 cli::ValueKind::kNone);
  def.value_kind(c->add_option("--poll", o.poll, "globus://: seconds between task status checks")
                     ->capture_default_str()
                     ->check(cli::number(0.01, 3600)),
                 cli::ValueKind::kNone);
}

// Binds the commands of dxfer to their options and handlers.
void define_cli(cli::Definition& def) {
  def.exit_code(3, "dxfer sync: nothing to do (every file was already up to date)");
  def.exit_code(4, "partial failure: some files failed (listed on stderr), the others arrived; run again to retry");
  {
    auto& o = def.make<PushOptions>();
    auto* c = def.command("push", "Copy files and directories to a destination, chunked, verified and resumable",
                          [&o](cli::Context& ctx) { return run_push(o, ctx); });
    c->add_option("paths", o.sources,
                  "SRC... DST: files or directories, then the destination (a path, file://path, https://HOST:PORT/PREFIX/, "
                  "davs://HOST:PORT/PATH/, sftp://[USER@]HOST[:PORT]/PATH/ or globus://COLLECTION/PATH/)")
        ->type_name("SRC... DST")
        ->required()
        ->expected(2, -1);
    def.value_kind(c->add_option("--chunk", o.chunk, "Chunk size, 4 KiB to 1 GiB (each chunk hashed and journalled)")->capture_default_str(),
                   cli::ValueKind::kNone);
    add_remote_flags(def, c, o.remote);
    def.value_kind(c->add_option("--bwlimit", o.bwlimit, "Bandwidth limit for all streams together, e.g. 200MB/s or 1Gbit/s")
                       ->type_name("RATE"),
                   cli::ValueKind::kNone);
    add_globus_flags(def, c, o);
    c->add_flag("--zstd", o.zstd, "https://: compress chunks with zstd on the wire when that saves 5% or more");
    def.choices(c->add_option("--hash", o.hash,
                              "Tree hash of what is sent: sha256, or xxh3 (10x faster; catches damage, not tampering); "
                              "https://, davs://, sftp://")
                    ->capture_default_str(),
                {"sha256", "xxh3"});
  }
  {
    auto& o = def.make<PushOptions>();
    o.sync = true;
    auto* c = def.command("sync", "Like push, but only files that are new or changed (size and mtime, or --checksum)",
                          [&o](cli::Context& ctx) { return run_push(o, ctx); });
    c->add_option("paths", o.sources, "SRC... DST")->type_name("SRC... DST")->required()->expected(2, -1);
    c->add_flag("--checksum", o.checksum, "Compare hashes of the contents (in the hash each copy was stored with) instead of size and mtime");
    def.value_kind(c->add_option("--chunk", o.chunk, "Chunk size")->capture_default_str(), cli::ValueKind::kNone);
    add_remote_flags(def, c, o.remote);
    def.value_kind(c->add_option("--bwlimit", o.bwlimit, "Bandwidth limit for all streams together, e.g. 200MB/s or 1Gbit/s")
                       ->type_name("RATE"),
                   cli::ValueKind::kNone);
    add_globus_flags(def, c, o);
    c->add_flag("--zstd", o.zstd, "https://: compress chunks with zstd on the wire when that saves 5% or more");
    def.choices(c->add_option("--hash", o.hash,
                              "Tree hash of what is sent: sha256, or xxh3 (10x faster; catches damage, not tampering); "
                              "https://, davs://, sftp://")
                    ->capture_default_str(),
                {"sha256", "xxh3"});
  }
  {
    auto& o = def.make<PullOptions>();
    auto* c = def.command("pull", "Copy files from a dxfer server, WebDAV or SFTP: chunked ranged reads, verified, resumable",
                          [&o](cli::Context& ctx) { return run_pull(o, ctx); });
    c->add_option("url", o.url, "https://HOST:PORT/PREFIX/, davs://... or sftp://...: everything under it (on WebDAV and SFTP: what dxfer pushed there)")->type_name("URL")->required();
    def.value_kind(c->add_option("dst", o.dst, "Local directory (created if missing)")->type_name("DST")->required(),
                   cli::ValueKind::kDirectory);
    c->add_flag("--sync", o.sync, "Only files that are new or changed (size and mtime, or --checksum)");
    c->add_flag("--checksum", o.checksum, "With --sync: compare the file's tree hash instead of size and mtime");
    def.value_kind(c->add_option("--chunk", o.chunk, "Chunk size (a multiple of 1 MiB)")->capture_default_str(),
                   cli::ValueKind::kNone);
    add_remote_flags(def, c, o.remote);
    def.value_kind(c->add_option("--bwlimit", o.bwlimit, "Bandwidth limit for all streams together, e.g. 200MB/s or 1Gbit/s")
                       ->type_name("RATE"),
                   cli::ValueKind::kNone);
  }
  {
    auto& o = def.make<ServeCliOptions>();
    auto* c = def.command("serve", "Receive and serve files over HTTPS: tokens, verified chunked uploads, resume, audit log",
                          [&o](cli::Context& ctx) { return run_serve(o, ctx); });
    def.value_kind(c->add_option("--root", o.root, "Directory to serve (created if missing); nothing outside it is reachable")
                       ->type_name("DIR")
                       ->required(),
                   cli::ValueKind::kDirectory);
    def.value_kind(c->add_option("--listen", o.listen, "Address and port (port 0: any free one; printed on stdout)")
                       ->type_name("HOST:PORT")
                       ->capture_default_str(),
                   cli::ValueKind::kNone);
    def.value_kind(c->add_option("--tls-cert", o.tls_cert, "Certificate chain (PEM)")->type_name("FILE"), cli::ValueKind::kFile);
    def.value_kind(c->add_option("--tls-key", o.tls_key, "Private key (PEM)")->type_name("FILE"), cli::ValueKind::kFile);
    c->add_flag("--self-signed", o.self_signed,
                "Make (once) a self-signed certificate in ROOT/.dxfer/tls; clients trust it by the printed --pin");
    def.value_kind(c->add_option("--tokens", o.tokens, "Token file (dxfer token create)")->type_name("FILE")->required(),
                   cli::ValueKind::kFile);
    def.value_kind(c->add_option("--upload-ttl", o.upload_ttl,
                                 "Remove unfinished uploads idle this long (their space is reserved); 0: never")
                       ->type_name("DURATION")
                       ->capture_default_str(),
                   cli::ValueKind::kNone);
  }
  {
    auto& o = def.make<VerifyOptions>();
    auto* c = def.command("verify", "Compare sources with the destination: presence, size, SHA-256, manifest",
                          [&o](cli::Context& ctx) { return run_verify(o, ctx); });
    c->add_option("paths", o.sources, "SRC... DST")->type_name("SRC... DST")->required()->expected(2, -1);
    add_remote_flags(def, c, o.remote);
  }
  {
    auto& o = def.make<LsOptions>();
    auto* c = def.command("ls", "List what a destination's manifest holds (size, SHA-256, name)",
                          [&o](cli::Context& ctx) { return run_ls(o, ctx); });
    c->add_option("dst", o.dst, "Destination")->type_name("DST")->required();
    add_remote_flags(def, c, o.remote, false);
  }
  {
    auto& o = def.make<KeygenOptions>();
    auto* c = def.command("keygen", "Make a key file for --encrypt (AES-256, mode 600; never sent anywhere)",
                          [&o](cli::Context& ctx) { return run_keygen(o, ctx); });
    c->add_option("-o,--output", o.output, "Key file to create (refuses to overwrite)")->type_name("KEYFILE")->required();
  }
  {
    auto& o = def.make<TokenOptions>();
    auto* c = def.command("token", "Create a bearer token for dxfer serve; only its hash is stored",
                          [&o](cli::Context& ctx) { return run_token(o, ctx); });
    def.choices(c->add_option("action", o.action, "What to do")->required(), {"create"});
    c->add_option("--tokens", o.tokens, "Token file of the server (created with mode 600)")->type_name("FILE")->required();
    def.value_kind(c->add_option("--scope", o.scopes, "Access: r:/PREFIX, w:/PREFIX or rw:/PREFIX (repeatable)")
                       ->type_name("SCOPE")
                       ->required(),
                   cli::ValueKind::kNone);
    def.value_kind(c->add_option("--name", o.name, "Who the token is for (default: user@host)")->type_name("NAME"),
                   cli::ValueKind::kNone);
  }
}

}  // namespace sciflow::dxfer

int main(int argc, char** argv) {
  return sciflow::cli::run({"dxfer", "move data sets between hosts: parallel, secure, verified, resumable"}, argc, argv,
                           sciflow::dxfer::define_cli);
}
