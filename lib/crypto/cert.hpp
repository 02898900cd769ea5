// crypto/cert: TLS certificates for `dxfer serve --self-signed` and public-key
// pins in curl's format ("sha256//" + base64 of the SHA-256 of the DER
// SubjectPublicKeyInfo), so that a client can trust exactly one server key
// without a CA. OpenSSL types stay inside cert.cpp.
// Thread safety: free functions, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/status.hpp"

namespace sciflow::crypto {

// Writes a new EC P-256 key (mode 0600) and a self-signed certificate valid for
// `days`, with `hosts` as subjectAltNames (IP addresses or DNS names), both
// atomically.
Status make_self_signed(const std::string& cert_path, const std::string& key_path,
                        const std::vector<std::string>& hosts, int days = 825);

// The pin of the public key in the PEM certificate at `cert_path`.
Result<std::string> public_key_pin(const std::string& cert_path);

}  // namespace sciflow::crypto
