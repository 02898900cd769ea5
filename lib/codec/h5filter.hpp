// codec/h5filter: tezip as an HDF5 filter, so that h5dump, h5py and any HDF5
// program read tezip-compressed datasets transparently (the plugin library
// libh5tezip.so is found through HDF5_PLUGIN_PATH).
//
// Each chunk (frames x height x width [x channels]) is stored as a complete .tez
// stream (man tezip(5)). Filter parameters (cd_values), of which users give the
// first three and set_local fills in the rest:
//   [0] version (1)   [1] mode: 0 lossless, 1 absolute bound   [2] bound, IEEE float32 bits
//   [3] dtype code    [4..7] chunk frames, height, width, channels
// The filter id is in the range HDF5 reserves for unregistered filters (256-511)
// until The HDF Group assigns one.
// Thread safety: as HDF5 itself (serial build: one thread at a time).
#pragma once

#include <cstdint>

#include "core/status.hpp"

namespace sciflow::codec::h5filter {

inline constexpr int kFilterId = 501;
inline constexpr unsigned kCdValues = 8;

// The H5Z_class2_t describing the filter (as `const void*`, to keep HDF5 headers out).
const void* filter_class();

// Registers the filter in this process. Only the modules that link HDF5 have it:
// libsciflow_hdf5.so calls it when it loads (io/hdf5_module.hpp).
Status register_filter();

}  // namespace sciflow::codec::h5filter
