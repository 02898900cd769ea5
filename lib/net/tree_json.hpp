// net/tree_json: a file's tree digest (crypto::tree_text) in dxfer's JSON
// manifests and records: "sha256tree": hex for sha256-tree, "xxh3tree": hex for
// xxh3-tree (a manifest written before xxh3-tree existed reads as before).
#pragma once

#include <string>
#include <string_view>

#include "core/json.hpp"
#include "crypto/hash.hpp"

namespace sciflow::net {

inline void put_tree(Json& j, std::string_view tree) {
  if (crypto::tree_hash_of(tree) == crypto::TreeHash::kXxh3) j["xxh3tree"] = std::string(tree.substr(5));
  else j["sha256tree"] = std::string(tree);
}

inline std::string tree_from(const Json& j) {
  if (j.contains("xxh3tree") && j["xxh3tree"].is_string()) return "xxh3:" + j["xxh3tree"].get<std::string>();
  return j.value("sha256tree", "");
}

}  // namespace sciflow::net
