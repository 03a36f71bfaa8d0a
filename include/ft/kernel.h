/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel shims: the handful of kernel spellings the model is written in.
 *
 * They keep the kernel's names so ported code reads like the original, and
 * get no ft_ duplicates (STYLE.md §2).  Where the userspace meaning differs
 * from the kernel's it says so with FT-DEVIATION.
 */
#ifndef FT_KERNEL_H
#define FT_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ck_pr.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

/* Built with -fsanitize=thread?  gcc and clang spell it differently. */
#if defined(__SANITIZE_THREAD__)
#define FT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FT_TSAN 1
#endif
#endif
#ifndef FT_TSAN
#define FT_TSAN 0
#endif

#define IS_ENABLED(x)		(x)
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#ifndef __always_inline		/* glibc's sys/cdefs.h has the same one */
#define __always_inline		inline __attribute__((__always_inline__))
#endif
#define __noreturn		__attribute__((__noreturn__))
#define __printf(a, b)		__attribute__((__format__(printf, a, b)))
#define __maybe_unused		__attribute__((__unused__))

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BIT(nr)			(1UL << (nr))
#define BITS_PER_LONG		(8 * (int)sizeof(long))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * FT-DEVIATION: the kernel's READ_ONCE/WRITE_ONCE are volatile accesses,
 * which C11 (and so TSan) counts as data races when they meet a concurrent
 * write.  Here they are relaxed atomics: the same code generation on the
 * architectures we run on, and TSan knows they are intentional.
 */
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, val)	__atomic_store_n(&(x), (val), __ATOMIC_RELAXED)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

/*
 * Barriers come from Concurrency Kit: on x86 (TSO) smp_rmb/smp_wmb are
 * compiler barriers as in the kernel.  They are inline asm, which TSan does
 * not see; gcc also refuses atomic_thread_fence under -fsanitize=thread
 * (-Wtsan), so code whose correctness TSan must check uses acquire/release
 * atomics instead, and these only keep the real-hardware ordering.
 */
#define smp_mb()		ck_pr_fence_memory()
#define smp_rmb()		ck_pr_fence_load()
#define smp_wmb()		ck_pr_fence_store()
#define barrier()		__asm__ __volatile__("" ::: "memory")
#define cpu_relax()		ck_pr_stall()

#endif /* FT_KERNEL_H */
