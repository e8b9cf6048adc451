// HostFunctions: registration and lookup.
#include "mote/host_functions.hpp"

namespace mote {

HostFunctions& HostFunctions::add_dynamic(FunctionSignature signature, Handler handler) {
  std::string name = signature.name;
  entries_.insert_or_assign(std::move(name), Entry{std::move(signature), std::move(handler)});
  return *this;
}

const HostFunctions::Entry* HostFunctions::find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace mote
