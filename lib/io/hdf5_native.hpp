// io/hdf5_native: what the HDF5 side of libsciflow_hdf5.so shares inside the
// module (io/hdf5_native.cpp and codec/h5filter.cpp); built only into the modules
// that link HDF5, never into the static library.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/dtype.hpp"
#include "core/status.hpp"

namespace sciflow::io::h5 {

// The DType of HDF5 datatype `type_id` (an hid_t); kUnsupported naming `what` otherwise.
Result<DType> dtype_of_type(int64_t type_id, std::string_view what);

}  // namespace sciflow::io::h5
