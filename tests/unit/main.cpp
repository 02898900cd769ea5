#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  // The HDF5 tests load this build's libsciflow_hdf5.so (the test binary is not
  // beside it, where the tools find it); $SCIFLOW_HDF5_MODULE still overrides.
  ::setenv("SCIFLOW_HDF5_MODULE", SCIFLOW_TEST_HDF5_MODULE, 0);
  return doctest::Context(argc, argv).run();
}
