// index/faiss_module: the boundary between the library and libsciflow_faiss.so,
// which holds the FAISS engines (index/faiss_engine.cpp). create_engine() and
// load_engine() dlopen it for the first FAISS index of a run (core/plugin.hpp), so
// that HNSW indexes and every other command never load FAISS's BLAS and OpenMP
// (~6 ms and 14 libraries at each start). Built together: plain C++ interface.
#pragma once

#include <memory>
#include <string>

#include "index/engine.hpp"

namespace sciflow::index {

struct FaissModuleApi {
  Result<std::unique_ptr<Engine>> (*create)(EngineKind kind, Metric metric, int64_t dim, const BuildParams& params);
  Result<std::unique_ptr<Engine>> (*load)(EngineKind kind, Metric metric, int64_t dim, const BuildParams& params,
                                          const std::string& path);
  std::string (*version)();  // "FAISS 1.7.3"
};

inline constexpr const char* kFaissModuleFile = "libsciflow_faiss.so";
inline constexpr const char* kFaissModuleEnv = "SCIFLOW_FAISS_MODULE";
// extern "C" const FaissModuleApi* sciflow_faiss_module_v1(); bump with any change above.
inline constexpr const char* kFaissModuleSymbol = "sciflow_faiss_module_v1";

}  // namespace sciflow::index
