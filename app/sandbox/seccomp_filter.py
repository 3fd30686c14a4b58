"""The seccomp filter bubblewrap loads for the process backend (`bwrap --seccomp FD`).

Docker applies its own default profile; bubblewrap applies none unless handed one. This filter
refuses (EPERM) the system calls a grader has no use for and that widen what a kernel bug or a
mistake elsewhere would let it reach: tracing and reading other processes, the kernel keyring,
mounts and namespaces, kernel modules, BPF, perf, userfaultfd and io_uring. Everything else is
allowed, so ordinary Python, subprocesses and the runner's fork server work unchanged.

The program is classic BPF as `seccomp_export_bpf` writes it: an array of `struct sock_filter`.
It is built here from the syscall numbers rather than through libseccomp, which is not a
dependency we can count on (the app also runs from a PyInstaller bundle).
"""

from __future__ import annotations

import os
import platform
import struct

# struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } in the machine's byte order.
_INSTRUCTION = struct.Struct("=HBBI")
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_IF_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000  # SECCOMP_RET_ALLOW
_REFUSE = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM
_SYSCALL_NUMBER = 0  # offsetof(struct seccomp_data, nr)
_ARCHITECTURE = 4  # offsetof(struct seccomp_data, arch)
_X32_BIT = 0x40000000  # x86_64's x32 ABI: the same calls under other numbers

REFUSED_SYSCALLS = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "syslog",
    "add_key",
    "request_key",
    "keyctl",
    "mount",
    "umount2",
    "pivot_root",
    "unshare",
    "setns",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "name_to_handle_at",
    "open_by_handle_at",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "lookup_dcookie",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
)

# Numbers from the kernel's tables (asm/unistd_64.h for x86_64, asm-generic/unistd.h for arm64).
_ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,  # AUDIT_ARCH_X86_64
        {
            "ptrace": 101,
            "syslog": 103,
            "pivot_root": 155,
            "acct": 163,
            "mount": 165,
            "umount2": 166,
            "swapon": 167,
            "swapoff": 168,
            "reboot": 169,
            "init_module": 175,
            "delete_module": 176,
            "quotactl": 179,
            "lookup_dcookie": 212,
            "kexec_load": 246,
            "add_key": 248,
            "request_key": 249,
            "keyctl": 250,
            "unshare": 272,
            "perf_event_open": 298,
            "name_to_handle_at": 303,
            "open_by_handle_at": 304,
            "setns": 308,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "finit_module": 313,
            "kexec_file_load": 320,
            "bpf": 321,
            "userfaultfd": 323,
        },
    ),
    "aarch64": (
        0xC00000B7,  # AUDIT_ARCH_AARCH64
        {
            "lookup_dcookie": 18,
            "umount2": 39,
            "mount": 40,
            "pivot_root": 41,
            "quotactl": 60,
            "acct": 89,
            "unshare": 97,
            "kexec_load": 104,
            "init_module": 105,
            "delete_module": 106,
            "syslog": 116,
            "ptrace": 117,
            "reboot": 142,
            "add_key": 217,
            "request_key": 218,
            "keyctl": 219,
            "swapon": 224,
            "swapoff": 225,
            "perf_event_open": 241,
            "name_to_handle_at": 264,
            "open_by_handle_at": 265,
            "setns": 268,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "finit_module": 273,
            "bpf": 280,
            "userfaultfd": 282,
            "kexec_file_load": 294,
        },
    ),
}
# Calls added since the tables were unified have one number on every architecture.
_UNIFIED = {
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442,
}  # fmt: skip


def filter_program(machine: str | None = None) -> bytes | None:
    """The compiled filter for this machine, or None where we have no syscall table for it."""
    machine = (machine or platform.machine()).lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if machine not in _ARCHES:
        return None
    audit_arch, numbers = _ARCHES[machine]
    numbers = {**numbers, **_UNIFIED}
    checks = [numbers[name] for name in REFUSED_SYSCALLS]
    program: list[tuple[int, int, int, int]] = [
        (_LOAD_WORD, 0, 0, _ARCHITECTURE),
        # Another architecture's calls (i386 on x86_64) have other numbers: refuse them all.
        (_JUMP_IF_EQUAL, 1, 0, audit_arch),
        (_RETURN, 0, 0, _REFUSE),
        (_LOAD_WORD, 0, 0, _SYSCALL_NUMBER),
    ]
    refuse_at = len(program) + len(checks) + (machine == "x86_64") + 1
    if machine == "x86_64":
        program.append((_JUMP_IF_AT_LEAST, refuse_at - len(program) - 1, 0, _X32_BIT))
    for number in checks:
        program.append((_JUMP_IF_EQUAL, refuse_at - len(program) - 1, 0, number))
    program += [(_RETURN, 0, 0, _ALLOW), (_RETURN, 0, 0, _REFUSE)]
    assert len(program) == refuse_at + 1 and refuse_at < 256  # jump offsets are one byte
    return b"".join(_INSTRUCTION.pack(*instruction) for instruction in program)


def filter_descriptor(machine: str | None = None) -> int | None:
    """An open, rewound descriptor holding the filter, for `bwrap --seccomp FD` (the caller
    passes it to the child and closes it); None where there is no filter for this machine."""
    program = filter_program(machine)
    if program is None or not hasattr(os, "memfd_create"):
        return None
    fd = os.memfd_create("gauntlet-seccomp", 0)  # not inheritable until passed explicitly
    try:
        os.write(fd, program)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd
