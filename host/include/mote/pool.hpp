// SandboxPool: ready sandboxes of one snapshot, leased to any thread and restored when returned.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "mote/config.hpp"
#include "mote/error.hpp"
#include "mote/host_functions.hpp"
#include "mote/sandbox.hpp"
#include "mote/snapshot.hpp"

namespace mote {

namespace detail {
struct PoolCore;
}  // namespace detail

struct PoolOptions {
  // Sandboxes created by SandboxPool::create, before it returns (0..max_size).
  std::size_t initial_size = 0;
  // Upper bound on the pool's sandboxes: idle ones plus leased ones plus ones being created or
  // restored (>= 1). acquire() waits when it is reached and none is idle.
  std::size_t max_size = 8;
};

// Numbers describing a pool at one instant (each read under the pool's lock, together).
struct PoolStats {
  std::size_t live = 0;       // sandboxes that exist: idle + leased + being created or restored
  std::size_t idle = 0;       // ready for acquire()
  std::uint64_t created = 0;  // sandboxes created since the pool was
  std::uint64_t dropped = 0;  // sandboxes destroyed because restore failed or on discard()
};

class SandboxPool;

// A lease on one sandbox of a pool: use it like a Sandbox* (`lease->call<int>("f", 1)`). Move-only.
//
// When the lease ends (release(), or destruction, or move-assignment over it) the sandbox is
// restored to the pool's snapshot on the thread that ends it, outside the pool's lock, and becomes
// idle again. Restoring also clears poisoning, so a lease whose guest faulted is returned like any
// other. If restoring fails the sandbox is destroyed instead and its slot freed.
//
// A lease keeps the pool's shared state alive: it may outlive its SandboxPool (the sandbox stays
// usable; when the lease ends the sandbox is destroyed, not restored, since no pool can take it).
//
// Do not move the Sandbox out of a lease, and do not keep references to it past the lease. Calls on
// the leased sandbox follow Sandbox's rule: one thread at a time. A lease itself (like any object)
// must not be used from two threads at once.
class PooledSandbox {
 public:
  PooledSandbox() = default;  // empty
  PooledSandbox(PooledSandbox&& other) noexcept;
  // Ends this lease (as release() does, ignoring its error), then takes over `other`'s.
  PooledSandbox& operator=(PooledSandbox&& other) noexcept;
  PooledSandbox(const PooledSandbox&) = delete;
  PooledSandbox& operator=(const PooledSandbox&) = delete;
  ~PooledSandbox();

  // False for an empty lease (default-constructed, moved from, released or discarded).
  explicit operator bool() const noexcept { return sandbox_.has_value(); }
  Sandbox& operator*() noexcept { return *sandbox_; }
  Sandbox* operator->() noexcept { return &*sandbox_; }
  const Sandbox& operator*() const noexcept { return *sandbox_; }
  const Sandbox* operator->() const noexcept { return &*sandbox_; }

  // Ends the lease now: restores the sandbox and returns it to the pool. Returns restore's error if
  // it failed (the sandbox was then destroyed). The lease is empty afterwards; no-op if it was.
  Result<void> release();

  // Ends the lease by destroying the sandbox instead of returning it (its slot is freed, so the
  // pool may create a fresh one later). The lease is empty afterwards; no-op if it was.
  void discard() noexcept;

 private:
  friend class SandboxPool;
  PooledSandbox(std::shared_ptr<detail::PoolCore> core, Sandbox sandbox);

  std::shared_ptr<detail::PoolCore> core_;
  std::optional<Sandbox> sandbox_;
};

// A pool of sandboxes made from ONE snapshot, with the same host functions and configuration.
//
// Thread safety: acquire(), try_acquire(), acquire_for(), stats() and the snapshot accessor may be
// called from any number of threads at once; leases may be released on any thread. Creating a
// sandbox (acquire() when none is idle and the pool is below max_size) and restoring one (when a
// lease ends) happen on the calling thread outside the pool's lock, so they run in parallel.
// The host functions are copied into every sandbox and called on whichever thread runs a call, so a
// callable that shares state must be thread-safe.
//
// Ownership: the SandboxPool owns its idle sandboxes; destroying it destroys them at once. Leases
// still out at that time stay valid (see PooledSandbox) and their sandboxes are destroyed when they
// end. Destroying the pool while another thread is inside one of its member functions is a bug, as
// for any object; outstanding leases are not.
//
// Idle sandboxes are reused most-recently-returned first (their memory is the most likely to be
// resident). Each one keeps only the pages it wrote as private memory; see docs/performance.md.
class SandboxPool {
 public:
  // Creates the pool and options.initial_size sandboxes. If `snapshot` was taken before the guest's
  // initialisation (NextAction::Initialise), one sandbox is created and initialised and the pool
  // uses a snapshot taken right after (see snapshot()), so initialisation runs once per pool rather
  // than once per lease. Errors: InvalidSnapshot (null snapshot), InvalidConfig (max_size 0 or
  // initial_size > max_size), and any error of Sandbox::from_snapshot or Sandbox::snapshot.
  static Result<SandboxPool> create(SnapshotPtr snapshot, HostFunctions host_functions = {},
                                    SandboxConfig config = {}, PoolOptions options = {});

  // A lease on an idle sandbox; when none is idle, creates one if the pool is below max_size, and
  // otherwise waits until a lease ends. Errors are those of Sandbox::from_snapshot.
  Result<PooledSandbox> acquire();
  // The same without waiting: an empty optional when the pool is at max_size with none idle.
  Result<std::optional<PooledSandbox>> try_acquire();
  // The same, waiting at most `timeout`: an empty optional when it passed with nothing available.
  Result<std::optional<PooledSandbox>> acquire_for(std::chrono::nanoseconds timeout);

  // The snapshot every lease starts from (post-initialisation; see create).
  const SnapshotPtr& snapshot() const noexcept;
  const PoolOptions& options() const noexcept;
  PoolStats stats() const;

  SandboxPool(SandboxPool&&) noexcept;
  // Destroys this pool's idle sandboxes (as the destructor does), then takes over `other`'s pool.
  SandboxPool& operator=(SandboxPool&&) noexcept;
  ~SandboxPool();

 private:
  explicit SandboxPool(std::shared_ptr<detail::PoolCore> core);
  Result<std::optional<PooledSandbox>> acquire_until(
      std::optional<std::chrono::steady_clock::time_point> deadline, bool wait);

  std::shared_ptr<detail::PoolCore> core_;
};

}  // namespace mote
