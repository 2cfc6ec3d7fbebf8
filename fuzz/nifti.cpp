// NIfTI-1: the header parser, then the whole reader on the same bytes as a file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "voxcast/data/nifti.hpp"

using namespace voxcast::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)parse_nifti_header(data, size);
  // The reader takes a path: an in-memory file named through /proc.
  int fd = memfd_create("fuzz.nii", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) == static_cast<ssize_t>(size))
    (void)open_nifti("/proc/self/fd/" + std::to_string(fd));
  close(fd);
  return 0;
}
