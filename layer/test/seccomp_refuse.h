#ifndef SHMR_TEST_SECCOMP_REFUSE_H
#define SHMR_TEST_SECCOMP_REFUSE_H

/* Seccomp filters for tests that need the kernel to refuse one kind of
   call, as a file system or a configuration would, or to kill a process at
   one exact point. */

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* From now on, in this process and its children, system call NR gets
   ACTION (a SECCOMP_RET_ value) when the low word of its argument ARG,
   masked with MASK, is VALUE.  -1 with errno ENOSYS or EINVAL where no
   filter can be had (qemu-user: a filter would bind the emulator too; a
   kernel without seccomp). */
static __attribute__((unused)) int filter_syscall(long nr, int arg, unsigned mask, unsigned value, unsigned action)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* The low word on these little-endian targets. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 8 * (unsigned)arg),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, action),
    };
    struct sock_fprog prog = { sizeof code / sizeof code[0], code };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* The call fails with ERR, as a file system or a configuration would make it. */
static __attribute__((unused)) int refuse_syscall(long nr, int arg, unsigned mask, unsigned value, int err)
{
    return filter_syscall(nr, arg, mask, value, SECCOMP_RET_ERRNO | (unsigned)err);
}

/* The process is killed (SIGSYS) as it makes the call: a SIGKILL at that
   very point. */
static __attribute__((unused)) int kill_at_syscall(long nr, int arg, unsigned mask, unsigned value)
{
    return filter_syscall(nr, arg, mask, value, SECCOMP_RET_KILL_PROCESS);
}

#endif
