// One wl_shm_pool over one memfd, grown in place (ftruncate + wl_shm_pool_resize + mremap) and
// never shrunk: a capture that changes size reuses it, so a resize costs no new fd, no new pool
// and, once the largest size was seen, no new memory.
#pragma once

#include <wayland-client.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace deskcast {

class WaylandShmPool {
 public:
  WaylandShmPool() = default;
  ~WaylandShmPool();
  WaylandShmPool(const WaylandShmPool&) = delete;
  WaylandShmPool& operator=(const WaylandShmPool&) = delete;

  // Makes the pool at least `bytes` long (creating it on first use). Every pointer from data()
  // is invalid afterwards (the mapping may move). Throws DeskcastError(ERR_CAPTURE_FAILED).
  void reserve(wl_shm* shm, size_t bytes);
  wl_shm_pool* pool() const noexcept { return pool_; }
  uint8_t* data() const noexcept { return static_cast<uint8_t*>(map_); }
  size_t size() const noexcept { return size_; }

 private:
  int fd_ = -1;
  void* map_ = nullptr;
  size_t size_ = 0;
  wl_shm_pool* pool_ = nullptr;
};

}  // namespace deskcast
