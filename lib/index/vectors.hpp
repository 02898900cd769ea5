// index/vectors: sets of dense float vectors read from and written to the files
// scientists have them in: .fvecs/.bvecs/.ivecs (the TEXMEX format of the ANN
// benchmarks), .npy (2-D; a 3-D+ array is one vector per leading entry), HDF5
// datasets ("file.h5:/path", 2-D), and JSONL records {"id": 7, "vector": [...],
// other fields are metadata} from a file or stdin ("-").
//
// Every error names the file and the record or line at fault. Element types
// other than f32 are converted to f32.
// Thread safety: plain values and free functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace sciflow::index {

struct VectorSet {
  int64_t rows = 0;
  int64_t dim = 0;
  std::vector<float> data;        // rows x dim, row-major
  std::vector<int64_t> ids;       // external ids, one per row
  std::vector<std::string> meta;  // per row: a JSON object's text ("" none); empty vector: no metadata at all
  const float* row(int64_t i) const { return data.data() + i * dim; }
};

struct ReadVectorsOptions {
  std::string format = "auto";  // auto (by name/content), fvecs, bvecs, ivecs, npy, hdf5, jsonl
  // Only rows [first, first + count) (count < 0: to the end); ids default to the
  // row numbers in the whole file, so shards of one file keep distinct ids.
  int64_t first = 0;
  int64_t count = -1;
};

// Reads the vectors of `spec` (see the file comment).
Result<VectorSet> read_vectors(std::string_view spec, const ReadVectorsOptions& options = {});

// Only the number of rows and the dimension (reads headers, or the whole file for JSONL).
struct VectorShape {
  int64_t rows = 0, dim = 0;
};
Result<VectorShape> probe_vectors(std::string_view spec, const ReadVectorsOptions& options = {});

// Rows of integers (ground-truth neighbour lists): .ivecs, integer .npy or HDF5.
Result<std::vector<std::vector<int64_t>>> read_neighbors(std::string_view spec);

// Writes `set` to `spec` by its extension: .fvecs, .npy, .h5 (dataset /vectors,
// ids in /ids), .jsonl or "-" (JSONL). Atomic.
Status write_vectors(std::string_view spec, const VectorSet& set, bool overwrite = true);

// Writes neighbour rows (`k` per row, -1 for none) as .ivecs. Atomic.
Status write_ivecs(std::string_view spec, const std::vector<int64_t>& rows, int64_t k, bool overwrite = true);

// Scales each row to unit length (rows of zeros stay zero).
void normalize_rows(float* data, int64_t rows, int64_t dim);

}  // namespace sciflow::index
