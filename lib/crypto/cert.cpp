#include "crypto/cert.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <fmt/core.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "crypto/hash.hpp"
#include "io/file.hpp"

namespace sciflow::crypto {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Status tls_error(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown OpenSSL error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return internal_error(fmt::format("{}: {}", what, buf));
}

Result<std::string> bio_text(BIO* b) {
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  if (n < 0 || !p) return internal_error("PEM encoding failed");
  return std::string(p, static_cast<size_t>(n));
}

}  // namespace

Status make_self_signed(const std::string& cert_path, const std::string& key_path,
                        const std::vector<std::string>& hosts, int days) {
  PKey key(EVP_EC_gen("P-256"));
  if (!key) return tls_error("generate EC key");
  Cert x(X509_new());
  if (!x) return tls_error("new certificate");
  X509_set_version(x.get(), 2);
  uint8_t serial[16];
  RETURN_IF_ERROR(random_bytes(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  std::string cn = hosts.empty() ? "dxfer" : hosts.front();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("dxfer serve"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  std::string san;
  for (const auto& h : hosts) {
    unsigned char buf[16];
    bool ip = inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
    san += (san.empty() ? "" : ",") + std::string(ip ? "IP:" : "DNS:") + h;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                            std::pair{NID_ext_key_usage, std::string("serverAuth")}}) {
    if (value.empty()) continue;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) return tls_error(fmt::format("certificate extension '{}'", value));
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x.get(), key.get(), EVP_sha256()) == 0) return tls_error("sign certificate");
  Bio kb(BIO_new(BIO_s_mem())), cb(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ||
      !PEM_write_bio_X509(cb.get(), x.get()))
    return tls_error("PEM encoding");
  ASSIGN_OR_RETURN(std::string key_pem, bio_text(kb.get()));
  ASSIGN_OR_RETURN(std::string cert_pem, bio_text(cb.get()));
  io::OutputOptions private_file;
  private_file.mode = 0600;
  RETURN_IF_ERROR(io::write_file_atomic(key_path, key_pem, private_file));
  return io::write_file_atomic(cert_path, cert_pem);
}

Result<std::string> public_key_pin(const std::string& cert_path) {
  ASSIGN_OR_RETURN(std::string pem, io::read_file(cert_path));
  Bio b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert x(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!x) return corrupt(fmt::format("{}: not a PEM certificate", cert_path));
  unsigned char* der = nullptr;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x.get()), &der);
  if (n <= 0) return tls_error(fmt::format("{}: public key", cert_path));
  auto d = sha256(std::span<const uint8_t>(der, static_cast<size_t>(n)));
  OPENSSL_free(der);
  if (!d) return d.status();
  unsigned char b64[64];
  int m = EVP_EncodeBlock(b64, d->data(), static_cast<int>(d->size()));
  return "sha256//" + std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(m));
}

}  // namespace sciflow::crypto
