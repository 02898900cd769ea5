// libh5tezip.so: the tezip HDF5 filter as a dynamically loaded plugin. HDF5 finds
// it in HDF5_PLUGIN_PATH (default /usr/local/hdf5/lib/plugin) when a dataset
// uses filter 501, so h5dump, h5py and other HDF5 programs read tezip chunks.
#include <H5PLextern.h>

#include "codec/h5filter.hpp"

extern "C" H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }
extern "C" const void* H5PLget_plugin_info(void) { return sciflow::codec::h5filter::filter_class(); }
