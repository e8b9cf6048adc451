#!/bin/sh
# Checks that guest binaries have the shape the mote loader requires (readelf/objdump; no KVM needed).
# Usage: check_guest_elf.sh <abi_version> <guest>...
set -u
version=$1
shift
status=0
bad() { echo "$guest: $*" >&2; status=1; }

for guest in "$@"; do
  header=$(readelf -h "$guest") || { bad "not an ELF file"; continue; }
  echo "$header" | grep -q 'Type:.*DYN' || bad "not ET_DYN (static-pie)"
  echo "$header" | grep -q 'Machine:.*X86-64' || bad "not x86-64"
  phdrs=$(readelf -lW "$guest")
  first_load=$(echo "$phdrs" | awk '$1 == "LOAD" { print $3; exit }')
  [ "$first_load" = 0x0000000000000000 ] || bad "first PT_LOAD at $first_load, not 0"
  echo "$phdrs" | grep -Eq '^ *(INTERP|TLS) ' && bad "has PT_INTERP or PT_TLS"
  echo "$phdrs" | awk '$1 == "LOAD" && $7 ~ /W/ && $7 ~ /E/ { found = 1 } END { exit !found }' &&
    bad "a PT_LOAD is both writable and executable"
  echo "$phdrs" | grep -q '^ *NOTE ' || bad "no PT_NOTE"
  others=$(readelf -rW "$guest" | awk '/^[0-9a-f]+ +[0-9a-f]+ +R_X86_64/ && $3 != "R_X86_64_RELATIVE"')
  [ -z "$others" ] || bad "relocations other than R_X86_64_RELATIVE: $(echo "$others" | head -3)"
  note=$(readelf -nW "$guest" | grep '^ *mote  *0x00000004')  # owner, size, type, desc on one line
  [ -n "$note" ] || bad "no mote ABI note"
  desc=$(echo "$note" | sed -n 's/.*description data: *\([0-9a-f ]*\).*/\1/p' | tr -d ' ')
  [ "$desc" = "$(printf '%08x' "$version" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/')" ] ||
    bad "ABI note says $desc, expected version $version"
  entry=$(echo "$header" | awk '/Entry point/ { print $4 }')
  start=$(nm "$guest" | awk '$3 == "_mote_start" { print "0x" $1 }')
  [ -n "$start" ] && [ $((entry)) -eq $((start)) ] || bad "entry $entry is not _mote_start ($start)"
  privileged=$(objdump -d --no-show-raw-insn "$guest" |
    grep -Ew '(cli|sti|hlt|lgdt|lidt|ltr|lldt|syscall|sysenter|sysret|iretq|wrmsr|rdmsr|invlpg|swapgs)' ||
    true)
  [ -z "$privileged" ] || bad "privileged instructions: $privileged"
done
exit $status
