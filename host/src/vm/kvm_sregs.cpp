// The vCPU's special registers for mote's CPU state (ring 3, long mode, paging).
#include "vm/kvm_sregs.hpp"

namespace mote::vm {

namespace {

kvm_segment to_kvm(const x86_64::Segment& s) {
  kvm_segment k{};
  k.base = s.base;
  k.limit = s.limit;
  k.selector = s.selector;
  k.type = s.type;
  k.present = s.present;
  k.dpl = s.dpl;
  k.db = s.db;
  k.s = s.s;
  k.l = s.l;
  k.g = s.g;
  k.unusable = s.unusable;
  return k;
}

}  // namespace

kvm_sregs with_cpu_state(kvm_sregs sregs, const x86_64::CpuState& cpu) noexcept {
  sregs.cs = to_kvm(cpu.code);
  sregs.ss = sregs.ds = sregs.es = sregs.fs = sregs.gs = to_kvm(cpu.data);
  sregs.tr = to_kvm(cpu.task);
  sregs.gdt.base = cpu.gdt.base;
  sregs.gdt.limit = cpu.gdt.limit;
  sregs.idt.base = cpu.idt.base;
  sregs.idt.limit = cpu.idt.limit;
  sregs.cr0 = cpu.cr0;
  sregs.cr3 = cpu.cr3;
  sregs.cr4 = cpu.cr4;
  sregs.efer = cpu.efer;
  return sregs;
}

}  // namespace mote::vm
