#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  // The HDF5 and FAISS tests load this build's modules (the test binary is not
  // beside them, where the tools find them); the environment still overrides.
  ::setenv("SCIFLOW_HDF5_MODULE", SCIFLOW_TEST_HDF5_MODULE, 0);
  ::setenv("SCIFLOW_FAISS_MODULE", SCIFLOW_TEST_FAISS_MODULE, 0);
  return doctest::Context(argc, argv).run();
}
