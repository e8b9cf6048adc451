// InterruptHandle: stops a sandbox's running call from any thread; and the cancellation flag a
// long-running host function can poll.
#pragma once

#include <memory>

namespace mote {

namespace detail {
class CallControl;
}

class InterruptHandle {
 public:
  // Stops the call running in the sandbox right now, if there is one, and returns whether there
  // was. The call returns ErrorKind::Cancelled (which poisons the sandbox). If the guest is inside
  // a host function, the cancellation takes effect when that function returns (it can poll
  // call_cancelled()). Never affects a call that starts after kill() returned, nor another
  // sandbox; safe to call from any thread, at any time, also while or after the sandbox is
  // destroyed (it then returns false).
  bool kill();

  explicit InterruptHandle(std::shared_ptr<detail::CallControl> control)
      : control_(std::move(control)) {}

 private:
  std::shared_ptr<detail::CallControl> control_;
};

// True when called from a host function whose guest call has been killed (or timed out): a
// long host function may poll it and return early. False elsewhere.
bool call_cancelled() noexcept;

}  // namespace mote
