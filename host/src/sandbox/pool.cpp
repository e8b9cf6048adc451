// SandboxPool: the shared pool state, leases, creation on demand and restore when a lease ends.
#include "mote/pool.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace mote {

namespace detail {

// What the pool and its leases share. The lock guards only the idle list and the counters:
// creating, restoring and destroying sandboxes happen outside it.
struct PoolCore {
  PoolCore(SnapshotPtr s, HostFunctions h, SandboxConfig c, PoolOptions o)
      : snapshot(std::move(s)), host_functions(std::move(h)), config(std::move(c)), options(o) {}

  const SnapshotPtr snapshot;
  const HostFunctions host_functions;
  const SandboxConfig config;
  const PoolOptions options;

  mutable std::mutex mutex;
  std::condition_variable available;  // an idle sandbox or a free slot appeared
  std::vector<Sandbox> idle;          // most recently returned last
  std::size_t live = 0;               // slots taken: idle + leased + being created or restored
  std::uint64_t created = 0;
  std::uint64_t dropped = 0;
  std::atomic<bool> closed{false};    // the SandboxPool is gone: returned sandboxes are destroyed

  Result<Sandbox> make() const { return Sandbox::from_snapshot(snapshot, host_functions, config); }

  // Takes back a restored sandbox: it becomes idle, or is destroyed when the pool is closed.
  void give_back(Sandbox&& sandbox) {
    {
      std::lock_guard lock(mutex);
      if (!closed.load(std::memory_order_relaxed)) {
        idle.push_back(std::move(sandbox));
        available.notify_one();
        return;
      }
    }
    { Sandbox gone = std::move(sandbox); }  // destroyed outside the lock, before its slot is freed
    free_slot(false);
  }

  // Frees the slot of a sandbox that no longer exists (or was never created).
  void free_slot(bool count_as_dropped) {
    {
      std::lock_guard lock(mutex);
      --live;
      if (count_as_dropped) ++dropped;
    }
    available.notify_one();
  }

  // The pool is being destroyed: idle sandboxes go now, leased ones when their leases end.
  void close() {
    std::vector<Sandbox> doomed;
    {
      std::lock_guard lock(mutex);
      closed.store(true, std::memory_order_relaxed);
      doomed.swap(idle);
    }
    const std::size_t n = doomed.size();
    doomed.clear();
    {
      std::lock_guard lock(mutex);
      live -= n;
    }
    available.notify_all();
  }
};

}  // namespace detail

// ---- leases -----------------------------------------------------------------------------------

PooledSandbox::PooledSandbox(std::shared_ptr<detail::PoolCore> core, Sandbox sandbox)
    : core_(std::move(core)), sandbox_(std::move(sandbox)) {}

PooledSandbox::PooledSandbox(PooledSandbox&& other) noexcept
    : core_(std::move(other.core_)), sandbox_(std::move(other.sandbox_)) {
  other.sandbox_.reset();  // a moved-from optional still holds a (moved-from) Sandbox
}

PooledSandbox& PooledSandbox::operator=(PooledSandbox&& other) noexcept {
  if (this != &other) {
    (void)release();
    core_ = std::move(other.core_);
    sandbox_ = std::move(other.sandbox_);
    other.sandbox_.reset();
  }
  return *this;
}

PooledSandbox::~PooledSandbox() { (void)release(); }

Result<void> PooledSandbox::release() {
  if (!sandbox_) return {};
  std::shared_ptr<detail::PoolCore> core = std::move(core_);
  Sandbox sandbox = std::move(*sandbox_);
  sandbox_.reset();
  if (core->closed.load(std::memory_order_relaxed)) {
    { Sandbox gone = std::move(sandbox); }
    core->free_slot(false);
    return {};
  }
  if (auto restored = sandbox.restore(core->snapshot); !restored) {
    { Sandbox gone = std::move(sandbox); }
    core->free_slot(true);
    return restored;
  }
  core->give_back(std::move(sandbox));
  return {};
}

void PooledSandbox::discard() noexcept {
  if (!sandbox_) return;
  std::shared_ptr<detail::PoolCore> core = std::move(core_);
  sandbox_.reset();
  core->free_slot(true);
}

// ---- the pool ---------------------------------------------------------------------------------

Result<SandboxPool> SandboxPool::create(SnapshotPtr snapshot, HostFunctions host_functions,
                                        SandboxConfig config, PoolOptions options) {
  if (!snapshot) return fail(ErrorKind::InvalidSnapshot, "no snapshot given for the pool");
  if (options.max_size == 0) {
    return fail(ErrorKind::InvalidConfig, "pool max_size must be at least 1");
  }
  if (options.initial_size > options.max_size) {
    return fail(ErrorKind::InvalidConfig,
                fmt::format("pool initial_size {} exceeds max_size {}", options.initial_size,
                            options.max_size));
  }
  std::vector<Sandbox> first;
  if (snapshot->next_action() == NextAction::Initialise) {
    // Initialise once, and pool the initialised state: leases then start ready for calls.
    Sandbox initialised = MOTE_TRY(Sandbox::from_snapshot(snapshot, host_functions, config));
    snapshot = MOTE_TRY(initialised.snapshot());
    first.push_back(std::move(initialised));
  }
  auto core = std::make_shared<detail::PoolCore>(std::move(snapshot), std::move(host_functions),
                                                 std::move(config), options);
  while (first.size() < options.initial_size) first.push_back(MOTE_TRY(core->make()));
  core->live = first.size();
  core->created = first.size();
  core->idle = std::move(first);
  return SandboxPool(std::move(core));
}

Result<PooledSandbox> SandboxPool::acquire() {
  auto lease = MOTE_TRY(acquire_until(std::nullopt, true));
  return std::move(*lease);  // waiting without a deadline always yields a lease
}

Result<std::optional<PooledSandbox>> SandboxPool::try_acquire() {
  return acquire_until(std::nullopt, false);
}

Result<std::optional<PooledSandbox>> SandboxPool::acquire_for(std::chrono::nanoseconds timeout) {
  return acquire_until(std::chrono::steady_clock::now() + timeout, true);
}

Result<std::optional<PooledSandbox>> SandboxPool::acquire_until(
    std::optional<std::chrono::steady_clock::time_point> deadline, bool wait) {
  detail::PoolCore& c = *core_;
  std::unique_lock lock(c.mutex);
  for (;;) {
    if (!c.idle.empty()) {
      Sandbox sandbox = std::move(c.idle.back());
      c.idle.pop_back();
      lock.unlock();
      return std::optional<PooledSandbox>(PooledSandbox(core_, std::move(sandbox)));
    }
    if (c.live < c.options.max_size) {
      ++c.live;  // the slot is ours while the sandbox is created outside the lock
      lock.unlock();
      auto made = c.make();
      if (!made) {
        c.free_slot(false);
        return std::unexpected(std::move(made).error());
      }
      lock.lock();
      ++c.created;
      lock.unlock();
      return std::optional<PooledSandbox>(PooledSandbox(core_, std::move(made).value()));
    }
    if (!wait) return std::optional<PooledSandbox>();
    if (!deadline) {
      c.available.wait(lock);
    } else {
      if (std::chrono::steady_clock::now() >= *deadline) return std::optional<PooledSandbox>();
      c.available.wait_until(lock, *deadline);
    }
  }
}

const SnapshotPtr& SandboxPool::snapshot() const noexcept { return core_->snapshot; }
const PoolOptions& SandboxPool::options() const noexcept { return core_->options; }

PoolStats SandboxPool::stats() const {
  std::lock_guard lock(core_->mutex);
  return PoolStats{core_->live, core_->idle.size(), core_->created, core_->dropped};
}

SandboxPool::SandboxPool(std::shared_ptr<detail::PoolCore> core) : core_(std::move(core)) {}
SandboxPool::SandboxPool(SandboxPool&&) noexcept = default;

SandboxPool& SandboxPool::operator=(SandboxPool&& other) noexcept {
  if (this != &other) {
    if (core_) core_->close();
    core_ = std::move(other.core_);
  }
  return *this;
}

SandboxPool::~SandboxPool() {
  if (core_) core_->close();
}

}  // namespace mote
