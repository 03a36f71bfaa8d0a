/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel shims: the handful of kernel spellings the model is written in.
 *
 * They keep the kernel's names so ported code reads like the original, and
 * get no ft_ duplicates.  Where the userspace meaning differs from the
 * kernel's it says so with FT-DEVIATION.
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
/* x86's and arm64's line: what one CPU's stores take from the others. */
#define SMP_CACHE_BYTES		64
#define ____cacheline_aligned	__attribute__((__aligned__(SMP_CACHE_BYTES)))

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BIT(nr)			(1UL << (nr))
#define BITS_PER_LONG		(8 * (int)sizeof(long))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define BITS_TO_LONGS(n)	DIV_ROUND_UP(n, BITS_PER_LONG)
#define ALIGN(x, a)		(((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))

/* The last set bit, 1-based; 0 for 0. */
static inline int fls64(unsigned long long x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

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
#define smp_store_release(p, v)	\
	do { ft_sb_drain(); __atomic_store_n((p), (v), __ATOMIC_RELEASE); } while (0)

/*
 * The serial scheduler's delayed stores (ft_store_delayable_add(),
 * include/ft/sched.h): while the calling thread holds one in its buffer,
 * its barriers and atomic RMWs drain the buffer first and atomic_read()
 * forwards from it.  ft_sb_pending is 0 in every thread of a run that
 * delays nothing, so the cost elsewhere is one thread-local test.
 */
extern _Thread_local unsigned int ft_sb_pending;
void __ft_sb_drain(void);
int __ft_sb_forward(const int *counter, int val);

static __always_inline void ft_sb_drain(void)
{
	if (unlikely(ft_sb_pending))
		__ft_sb_drain();
}

/*
 * Barriers come from Concurrency Kit: on x86 (TSO) smp_rmb/smp_wmb are
 * compiler barriers as in the kernel.  They are inline asm, which TSan does
 * not see; gcc also refuses atomic_thread_fence under -fsanitize=thread
 * (-Wtsan), so code whose correctness TSan must check uses acquire/release
 * atomics instead, and these only keep the real-hardware ordering.
 */
#define smp_mb()		do { ft_sb_drain(); ck_pr_fence_memory(); } while (0)
#define smp_rmb()		ck_pr_fence_load()
#define smp_wmb()		do { ft_sb_drain(); ck_pr_fence_store(); } while (0)
#define barrier()		__asm__ __volatile__("" ::: "memory")
#define cpu_relax()		ck_pr_stall()

/* ---- atomic_t: the kernel's ordering rules --------------------------------- */

/*
 * Value-returning RMW ops are fully ordered, the others and the _relaxed
 * forms are relaxed, atomic_read/atomic_set are relaxed accesses
 * (Documentation/atomic_t.txt).
 */
typedef struct {
	int counter;
} atomic_t;

#define ATOMIC_INIT(i)	{ (i) }

static inline int atomic_read(const atomic_t *v)
{
	int val = __atomic_load_n(&v->counter, __ATOMIC_RELAXED);

	/* Store forwarding: this thread sees its own delayed stores. */
	return unlikely(ft_sb_pending) ? __ft_sb_forward(&v->counter, val) : val;
}

/* Every write below drains first: the fully ordered ones are barriers, and
 * the relaxed ones may hit a buffered location (coherence). */
static inline void atomic_set(atomic_t *v, int i)
{
	ft_sb_drain();
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_add(int i, atomic_t *v)
{
	ft_sb_drain();
	__atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_sub(int i, atomic_t *v)
{
	ft_sb_drain();
	__atomic_fetch_sub(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_inc(atomic_t *v)
{
	atomic_add(1, v);
}

static inline void atomic_dec(atomic_t *v)
{
	atomic_sub(1, v);
}

static inline int atomic_add_return(int i, atomic_t *v)
{
	ft_sb_drain();
	return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST);
}

static inline int atomic_sub_return(int i, atomic_t *v)
{
	ft_sb_drain();
	return __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST);
}

static inline int atomic_add_return_relaxed(int i, atomic_t *v)
{
	ft_sb_drain();
	return __atomic_add_fetch(&v->counter, i, __ATOMIC_RELAXED);
}

static inline int atomic_sub_return_relaxed(int i, atomic_t *v)
{
	ft_sb_drain();
	return __atomic_sub_fetch(&v->counter, i, __ATOMIC_RELAXED);
}

static inline int atomic_inc_return(atomic_t *v)
{
	return atomic_add_return(1, v);
}

static inline int atomic_dec_return(atomic_t *v)
{
	return atomic_sub_return(1, v);
}

/* -1 -> 0, as the -1-based mapcounts use it: "was this the first?" */
static inline bool atomic_inc_and_test(atomic_t *v)
{
	return atomic_inc_return(v) == 0;
}

static inline bool atomic_add_negative(int i, atomic_t *v)
{
	return atomic_add_return(i, v) < 0;
}

static inline bool atomic_dec_and_test(atomic_t *v)
{
	return atomic_dec_return(v) == 0;
}

/* ---- Bit operations on unsigned long ----------------------------------------- */

static inline bool test_bit(int nr, const unsigned long *addr)
{
	return __atomic_load_n(addr, __ATOMIC_RELAXED) & BIT(nr);
}

static inline void set_bit(int nr, unsigned long *addr)
{
	__atomic_fetch_or(addr, BIT(nr), __ATOMIC_RELAXED);
}

static inline void clear_bit(int nr, unsigned long *addr)
{
	__atomic_fetch_and(addr, ~BIT(nr), __ATOMIC_RELAXED);
}

static inline bool test_and_set_bit(int nr, unsigned long *addr)
{
	ft_sb_drain();
	return __atomic_fetch_or(addr, BIT(nr), __ATOMIC_SEQ_CST) & BIT(nr);
}

static inline bool test_and_clear_bit(int nr, unsigned long *addr)
{
	ft_sb_drain();
	return __atomic_fetch_and(addr, ~BIT(nr), __ATOMIC_SEQ_CST) & BIT(nr);
}

/*
 * The non-atomic forms: a load and a store, so a concurrent atomic update
 * of another bit can be lost, exactly the hazard the kernel's __set_bit
 * has (bug zoo B6, doc/invariants.md).  Relaxed atomics so that TSan
 * reports only real misuse.
 */
static inline void __set_bit(int nr, unsigned long *addr)
{
	__atomic_store_n(addr, __atomic_load_n(addr, __ATOMIC_RELAXED) | BIT(nr),
			 __ATOMIC_RELAXED);
}

static inline void __clear_bit(int nr, unsigned long *addr)
{
	__atomic_store_n(addr, __atomic_load_n(addr, __ATOMIC_RELAXED) & ~BIT(nr),
			 __ATOMIC_RELAXED);
}

/* ---- Doubly linked lists (include/linux/list.h, the parts we use) ----------- */

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)	{ &(name), &(name) }

static inline void INIT_LIST_HEAD(struct list_head *list)
{
	list->next = list;
	list->prev = list;
}

static inline void list_add_tail(struct list_head *entry, struct list_head *head)
{
	entry->prev = head->prev;
	entry->next = head;
	head->prev->next = entry;
	head->prev = entry;
}

static inline void list_add(struct list_head *entry, struct list_head *head)
{
	entry->next = head->next;
	entry->prev = head;
	head->next->prev = entry;
	head->next = entry;
}

static inline void list_del_init(struct list_head *entry)
{
	entry->prev->next = entry->next;
	entry->next->prev = entry->prev;
	INIT_LIST_HEAD(entry);
}

static inline void list_move(struct list_head *entry, struct list_head *head)
{
	list_del_init(entry);
	list_add(entry, head);
}

static inline void list_move_tail(struct list_head *entry, struct list_head *head)
{
	list_del_init(entry);
	list_add_tail(entry, head);
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_first_entry(head, type, member) \
	list_entry((head)->next, type, member)
#define list_last_entry(head, type, member) \
	list_entry((head)->prev, type, member)
#define list_next_entry(pos, member) \
	list_entry((pos)->member.next, __typeof__(*(pos)), member)
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_first_entry(head, __typeof__(*pos), member);	\
	     &pos->member != (head); pos = list_next_entry(pos, member))
#define list_prev_entry(pos, member) \
	list_entry((pos)->member.prev, __typeof__(*(pos)), member)
#define list_for_each_entry_reverse(pos, head, member)			\
	for (pos = list_last_entry(head, __typeof__(*pos), member);	\
	     &pos->member != (head); pos = list_prev_entry(pos, member))
/* Safe against removal of @pos. */
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_first_entry(head, __typeof__(*pos), member),	\
	     n = list_next_entry(pos, member);				\
	     &pos->member != (head);					\
	     pos = n, n = list_next_entry(n, member))

#endif /* FT_KERNEL_H */
