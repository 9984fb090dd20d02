#include "wayland/shm_pool.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "common/errors.h"

namespace deskcast {

WaylandShmPool::~WaylandShmPool() {
  if (pool_) wl_shm_pool_destroy(pool_);
  if (map_) munmap(map_, size_);
  if (fd_ >= 0) close(fd_);
}

void WaylandShmPool::reserve(wl_shm* shm, size_t bytes) {
  if (bytes <= size_) return;
  auto fail = [](const char* what) {
    throw DeskcastError(errc::kCaptureFailed,
                        std::string("cannot allocate the capture buffer (") + what + "): " + errnoText(errno));
  };
  if (fd_ < 0) {
    // Sealed against shrinking so the compositor can trust its mapping.
    fd_ = memfd_create("deskcast-capture", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd_ < 0) fail("memfd_create");
    fcntl(fd_, F_ADD_SEALS, F_SEAL_SHRINK);
  }
  if (ftruncate(fd_, static_cast<off_t>(bytes)) != 0) fail("ftruncate");
  void* map = map_ ? mremap(map_, size_, bytes, MREMAP_MAYMOVE)
                   : mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (map == MAP_FAILED) fail(map_ ? "mremap" : "mmap");
  map_ = map;
  if (pool_) {
    wl_shm_pool_resize(pool_, static_cast<int32_t>(bytes));
  } else {
    pool_ = wl_shm_create_pool(shm, fd_, static_cast<int32_t>(bytes));
  }
  size_ = bytes;
}

}  // namespace deskcast
