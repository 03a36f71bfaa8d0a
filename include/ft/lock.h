/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The runtime lock model: userspace twins of the kernel lock kinds the mm
 * code takes, and a lockdep-style validator that watches every one of them.
 *
 *   spinlock_t		test-and-test-and-set on ck_spinlock_fas, with a
 *			waiter count for spin_is_contended()/spin_needbreak()
 *   bit_spin_lock	one bit of an unsigned long, __atomic builtins; the
 *			other bits of the word stay usable with atomic ops
 *   rw_semaphore	a FIFO (so writer-fair) ticket rwlock on ck_pr ops;
 *			a sleeping lock for the validator
 *   seqcount_t		write begin/end, read begin/retry
 *   raw_atomic_seqcount_t  the rmap_id design's seqcount with concurrent
 *			writers and an exclusive-writer mode
 *
 * Every wait spins briefly and then yields the CPU (measured, see
 * src/lock/internal.h: without the yield, TSan runs with more threads than
 * cores crawl), and gives up with a lockup report after
 * lockdep_set_stall_timeout().
 *
 * Every lock tells ThreadSanitizer what it is with __tsan_mutex_*: CK's
 * inline asm is invisible to TSan (measured; the lock.tsan.ck_bare test
 * keeps it true), so without the annotations a correctly locked counter is
 * reported as a race.
 *
 * Validator (src/lock/lockdep.c) in brief: classes are per init site
 * (spin_lock_init() and friends hide a static lock_class_key) or, for bit
 * spinlocks, declared with DEFINE_BIT_SPIN_CLASS(); subclasses mark legal
 * nesting of one class (fork: dst PTL, then src PTL at
 * SINGLE_DEPTH_NESTING).  It reports, in lockdep's layout, and then ends the
 * process with FT_EXIT_SPLAT:
 *   - a class-order inversion the first time the reverse order is taken,
 *   - recursive locking of one class without a nesting annotation,
 *   - a sleeping lock (rw_semaphore) taken while a spinning lock is held,
 *   - unlock of a lock not held (double unlock included),
 *   - lockdep_assert_held() on a lock not held,
 *   - a thread exiting with locks held,
 *   - a seqcount read inside its own write section, unserialized writers,
 *   - an atomic seqcount's write section begun inside another of its class
 *     (a writer that waits for itself).
 * A spin or sleep that waits longer than the stall timeout reports a lockup
 * with every thread's held locks and ends with FT_EXIT_STALL.
 * Acquisition sites are file:line:function, captured by the lock macros.
 */
#ifndef FT_LOCK_H
#define FT_LOCK_H

#include <stdio.h>

#include <ck_spinlock.h>

#include "ft/core.h"
#include "ft/kernel.h"
#include "ft/sched.h"

#if FT_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* ---- Acquisition sites ---------------------------------------------------- */

struct lock_site {
	const char *file;
	const char *func;
	int line;
};

/* A static site record per call site: the validator keeps the pointer. */
#define LOCK_SITE()							\
	({								\
		static const struct lock_site __lock_site = {		\
			__FILE__, __func__, __LINE__			\
		};							\
		&__lock_site;						\
	})

/* ---- Classes and the validator's view of a lock ------------------------ */

#define MAX_LOCKDEP_SUBCLASSES	8
#define SINGLE_DEPTH_NESTING	1
#define MAX_LOCK_DEPTH		48

enum lock_kind {
	LOCK_KIND_SPIN,		/* spinlock_t: may not sleep while held */
	LOCK_KIND_BIT_SPIN,	/* bit_spin_lock: may not sleep while held */
	LOCK_KIND_RWSEM,	/* rw_semaphore: a sleeping lock */
	LOCK_KIND_SEQCOUNT,	/* seqcount_t write section */
	LOCK_KIND_ATOMIC_SEQCOUNT, /* raw_atomic_seqcount_t write section: spins */
};

/*
 * One per init site (or per declared bit-spinlock class).  As in the
 * kernel, spin_lock_init() and friends key the class on their call site:
 * call them from one function in a .c file, not from a static inline in a
 * header, or every translation unit gets a class of its own.
 */
struct lock_class_key {
	int idx[MAX_LOCKDEP_SUBCLASSES];	/* class index + 1, 0: not yet */
};

struct lockdep_map {
	struct lock_class_key *key;
	const char *name;
	enum lock_kind kind;
};

/* Held-lock flags. */
#define LOCK_F_TRYLOCK	0x1
#define LOCK_F_READ	0x2

/* The run-time switch; read on every lock operation. */
extern int debug_locks;

static inline bool lockdep_enabled(void)
{
	return READ_ONCE(debug_locks);
}

/*
 * Turn the validator on or off.  Only before the threads that take locks
 * start: a lock taken with the validator off and released with it on would
 * be a bogus "bad unlock".  Returns -EBUSY if some thread holds a lock.
 */
int lockdep_set_enabled(bool on);
/* Waits longer than this report a lockup (0: never).  Default 60 s. */
void lockdep_set_stall_timeout(u64 ns);
u64 lockdep_stall_timeout(void);

/*
 * The hooks the lock primitives call.  @inst identifies the lock instance
 * (the lockdep_map for ordinary locks, the word for bit spinlocks, with @bit
 * the bit number; -1 for ordinary locks).  lock_acquire() validates before
 * the wait (so a self-deadlock is reported, not entered); lock_acquired()
 * marks the end of the wait.  Trylocks call lock_acquire() on success only.
 */
void lock_acquire(const struct lockdep_map *map, const void *inst, int bit,
		  unsigned int subclass, unsigned int flags,
		  const struct lock_site *site);
void lock_acquired(const void *inst, int bit);
void lock_release(const struct lockdep_map *map, const void *inst, int bit,
		  const struct lock_site *site);
void lock_downgrade(const struct lockdep_map *map, const void *inst,
		    const struct lock_site *site);
bool lock_is_held(const void *inst, int bit);
__noreturn void lockdep_assert_failed(const struct lockdep_map *map,
				      const void *inst, int bit,
				      const struct lock_site *site);
/* Misuse that the lock word itself shows (unlock of an unlocked lock). */
__noreturn void lock_bug(const struct lockdep_map *map, const void *inst,
			 int bit, const char *what, const struct lock_site *site);

/*
 * Watchdog hooks.  lockdep_scan_hold_times() reports every lock held for
 * longer than @limit_ns to @out and returns how many; the caller decides
 * whether that ends the run.  debug_show_all_locks() prints every thread's
 * held locks, as the kernel's hung-task detector does.
 */
int lockdep_scan_hold_times(u64 limit_ns, FILE *out);
void debug_show_all_locks(FILE *out);
/*
 * The kernel's lockdep_sys_exit(): the calling thread is about to "return
 * to user space", the end of one operation of the model, and must hold no
 * lock.  Reports and ends the run otherwise (no-op with the validator off).
 */
void lockdep_sys_exit(void);

/* ---- ThreadSanitizer annotations ------------------------------------------ */

#if FT_TSAN
#define FT_TSAN_READ		__tsan_mutex_read_lock
#define FT_TSAN_TRY		__tsan_mutex_try_lock
#define FT_TSAN_TRY_FAILED	__tsan_mutex_try_lock_failed
static inline void tsan_create(void *a, unsigned int f) { __tsan_mutex_create(a, f); }
static inline void tsan_destroy(void *a) { __tsan_mutex_destroy(a, 0); }
static inline void tsan_pre_lock(void *a, unsigned int f) { __tsan_mutex_pre_lock(a, f); }
static inline void tsan_post_lock(void *a, unsigned int f) { __tsan_mutex_post_lock(a, f, 0); }
static inline void tsan_pre_unlock(void *a, unsigned int f) { __tsan_mutex_pre_unlock(a, f); }
static inline void tsan_post_unlock(void *a, unsigned int f) { __tsan_mutex_post_unlock(a, f); }
#else
#define FT_TSAN_READ		0u
#define FT_TSAN_TRY		0u
#define FT_TSAN_TRY_FAILED	0u
static inline void tsan_create(void *a, unsigned int f) { (void)a; (void)f; }
static inline void tsan_destroy(void *a) { (void)a; }
static inline void tsan_pre_lock(void *a, unsigned int f) { (void)a; (void)f; }
static inline void tsan_post_lock(void *a, unsigned int f) { (void)a; (void)f; }
static inline void tsan_pre_unlock(void *a, unsigned int f) { (void)a; (void)f; }
static inline void tsan_post_unlock(void *a, unsigned int f) { (void)a; (void)f; }
#endif

/* ---- spinlock_t ------------------------------------------------------------ */

/*
 * Test-and-test-and-set on CK's ck_spinlock_fas, plus a count of waiters so
 * that spin_is_contended() says what the kernel's qspinlock says when its
 * pending/queue bits are set.
 *
 * FT-DEVIATION: qspinlock is FIFO; this lock is not.  In the kernel a
 * spinning waiter has preemption disabled, here it can be descheduled, and
 * a FIFO lock then hands the lock to a thread that is not running while
 * everyone waits: measured with bench_lock (4 threads, 2 cores) a ticket
 * lock cost 0.9-1.7 us per contended acquisition, this one about 40 ns.
 * Starvation is the watchdog's business (lock-torture's Max/Min and "???").
 */
typedef struct spinlock {
	ck_spinlock_fas_t raw;
	unsigned int waiters;		/* threads in __spin_lock_slowpath */
	struct lockdep_map dep_map;
} spinlock_t;

void __spin_lock_init(spinlock_t *lock, const char *name,
		      struct lock_class_key *key);
void __spin_lock_slowpath(spinlock_t *lock);

#define spin_lock_init(lock)						\
	do {								\
		static struct lock_class_key __key;			\
		__spin_lock_init((lock), #lock, &__key);		\
	} while (0)

/*
 * The lock's memory is about to be reused for another lock (a kmem_cache
 * object): ThreadSanitizer forgets it, as it does at free(), or its
 * lock-order graph would join the two lives (a table that was a fork's
 * source in one life and its destination in the next is no inversion).
 */
static inline void spin_lock_destroy(spinlock_t *lock)
{
	tsan_destroy(lock);
}

static __always_inline void __spin_lock(spinlock_t *lock, unsigned int subclass,
					const struct lock_site *site, unsigned int tsan)
{
	bool dl = lockdep_enabled();

	ft_sched_point(FT_SP_LOCK);
	if (dl)
		lock_acquire(&lock->dep_map, &lock->dep_map, -1, subclass, 0, site);
	tsan_pre_lock(lock, tsan);
	if (unlikely(!ck_spinlock_fas_trylock(&lock->raw)))
		__spin_lock_slowpath(lock);
	tsan_post_lock(lock, tsan);
	if (dl)
		lock_acquired(&lock->dep_map, -1);
}

static __always_inline bool _spin_trylock(spinlock_t *lock,
					  const struct lock_site *site)
{
	ft_sched_point(FT_SP_LOCK);
	tsan_pre_lock(lock, FT_TSAN_TRY);
	if (!ck_spinlock_fas_trylock(&lock->raw)) {
		tsan_post_lock(lock, FT_TSAN_TRY | FT_TSAN_TRY_FAILED);
		return false;
	}
	tsan_post_lock(lock, FT_TSAN_TRY);
	if (lockdep_enabled())
		lock_acquire(&lock->dep_map, &lock->dep_map, -1, 0,
			     LOCK_F_TRYLOCK, site);
	return true;
}

static inline bool spin_is_locked(spinlock_t *lock)
{
	return ck_spinlock_fas_locked(&lock->raw);
}

static inline bool spin_is_contended(spinlock_t *lock)
{
	return ck_pr_load_uint(&lock->waiters) != 0;
}

static __always_inline void _spin_unlock(spinlock_t *lock,
					 const struct lock_site *site)
{
	if (lockdep_enabled())
		lock_release(&lock->dep_map, &lock->dep_map, -1, site);
	/* CONFIG_DEBUG_SPINLOCK's "already unlocked", even with lockdep off. */
	if (unlikely(!ck_spinlock_fas_locked(&lock->raw)))
		lock_bug(&lock->dep_map, &lock->dep_map, -1,
			 "spin_unlock of an unlocked spinlock", site);
	tsan_pre_unlock(lock, 0);
	ck_spinlock_fas_unlock(&lock->raw);
	tsan_post_unlock(lock, 0);
	ft_sched_point(FT_SP_UNLOCK);
}

#define _spin_lock(lock, sub, site)	__spin_lock((lock), (sub), (site), 0)
#define spin_lock(lock)			_spin_lock((lock), 0, LOCK_SITE())
#define spin_lock_nested(lock, sub)	_spin_lock((lock), (sub), LOCK_SITE())
/*
 * Two locks of one class taken in either order by callers that an outer
 * lock serializes (mremap's old and new PTLs under the exclusive
 * mmap_lock).  Lockdep checks it as spin_lock_nested(); ThreadSanitizer's
 * lock-order graph spans the whole run and cannot see the outer lock, so
 * this acquisition adds no edge to it (annotated as a trylock).
 */
#define spin_lock_nested_serialized(lock, sub)				\
	__spin_lock((lock), (sub), LOCK_SITE(), FT_TSAN_TRY)
#define spin_trylock(lock)		_spin_trylock((lock), LOCK_SITE())
#define spin_unlock(lock)		_spin_unlock((lock), LOCK_SITE())
/* The kernel's spin_needbreak() on a preemptible kernel. */
#define spin_needbreak(lock)		spin_is_contended(lock)

/* ---- bit_spin_lock ---------------------------------------------------------- */

/*
 * The kernel's lockdep cannot see bit spinlocks; ours must, so each bit
 * lock belongs to a class.  FT-DEVIATION: bit_spin_lock() with the kernel's
 * signature uses the catch-all class "bit_spin_lock"; code that nests bit
 * locks or wants them named (folio_lock_large_mapcount) declares a class
 * with DEFINE_BIT_SPIN_CLASS() and uses the _class variants.
 */
#define DEFINE_BIT_SPIN_CLASS(var, namestr)				\
	static struct lock_class_key var##_key;				\
	const struct lockdep_map var = {				\
		.key = &var##_key, .name = (namestr),			\
		.kind = LOCK_KIND_BIT_SPIN,				\
	}

extern const struct lockdep_map bit_spin_lock_class;

void __bit_spin_lock_wait(int bitnum, unsigned long *addr,
			  const struct lockdep_map *class);

/* TSan identifies a mutex by address: give each bit of the word its own. */
static inline void *bit_tsan_addr(unsigned long *addr, int bitnum)
{
	return (char *)addr + bitnum / 8;
}

static __always_inline void _bit_spin_lock(int bitnum, unsigned long *addr,
					   const struct lockdep_map *class,
					   const struct lock_site *site)
{
	unsigned long mask = BIT(bitnum);
	bool dl = lockdep_enabled();

	ft_sched_point(FT_SP_LOCK);
	if (dl)
		lock_acquire(class, addr, bitnum, 0, 0, site);
	tsan_pre_lock(bit_tsan_addr(addr, bitnum), 0);
	if (unlikely(__atomic_fetch_or(addr, mask, __ATOMIC_ACQUIRE) & mask))
		__bit_spin_lock_wait(bitnum, addr, class);
	tsan_post_lock(bit_tsan_addr(addr, bitnum), 0);
	if (dl)
		lock_acquired(addr, bitnum);
}

static __always_inline bool _bit_spin_trylock(int bitnum, unsigned long *addr,
					      const struct lockdep_map *class,
					      const struct lock_site *site)
{
	unsigned long mask = BIT(bitnum);

	ft_sched_point(FT_SP_LOCK);
	tsan_pre_lock(bit_tsan_addr(addr, bitnum), FT_TSAN_TRY);
	if (__atomic_fetch_or(addr, mask, __ATOMIC_ACQUIRE) & mask) {
		tsan_post_lock(bit_tsan_addr(addr, bitnum),
			       FT_TSAN_TRY | FT_TSAN_TRY_FAILED);
		return false;
	}
	tsan_post_lock(bit_tsan_addr(addr, bitnum), FT_TSAN_TRY);
	if (lockdep_enabled())
		lock_acquire(class, addr, bitnum, 0, LOCK_F_TRYLOCK, site);
	return true;
}

static __always_inline void bit_spin_release_checks(int bitnum, unsigned long *addr,
						    const struct lockdep_map *class,
						    const struct lock_site *site)
{
	if (lockdep_enabled())
		lock_release(class, addr, bitnum, site);
	/* The kernel's BUG_ON(!test_bit(bitnum, addr)), even with lockdep off. */
	if (unlikely(!(READ_ONCE(*addr) & BIT(bitnum))))
		lock_bug(class, addr, bitnum, "bit_spin_unlock of a clear bit", site);
}

/* clear_bit_unlock(): an atomic RMW, safe against other bits' writers. */
static __always_inline void _bit_spin_unlock(int bitnum, unsigned long *addr,
					     const struct lockdep_map *class,
					     const struct lock_site *site)
{
	bit_spin_release_checks(bitnum, addr, class, site);
	tsan_pre_unlock(bit_tsan_addr(addr, bitnum), 0);
	__atomic_fetch_and(addr, ~BIT(bitnum), __ATOMIC_RELEASE);
	tsan_post_unlock(bit_tsan_addr(addr, bitnum), 0);
	ft_sched_point(FT_SP_UNLOCK);
}

/*
 * __clear_bit_unlock(): a plain release store of the whole word.  Correct
 * only when every writer of the word's other bits holds this lock, which is
 * what folio_unlock_large_mapcount() relies on (include/linux/rmap.h).
 */
static __always_inline void ___bit_spin_unlock(int bitnum, unsigned long *addr,
					       const struct lockdep_map *class,
					       const struct lock_site *site)
{
	unsigned long v;

	bit_spin_release_checks(bitnum, addr, class, site);
	tsan_pre_unlock(bit_tsan_addr(addr, bitnum), 0);
	v = __atomic_load_n(addr, __ATOMIC_RELAXED);
	__atomic_store_n(addr, v & ~BIT(bitnum), __ATOMIC_RELEASE);
	tsan_post_unlock(bit_tsan_addr(addr, bitnum), 0);
	ft_sched_point(FT_SP_UNLOCK);
}

static inline bool bit_spin_is_locked(int bitnum, unsigned long *addr)
{
	return READ_ONCE(*addr) & BIT(bitnum);
}

#define bit_spin_lock(b, a)	_bit_spin_lock((b), (a), &bit_spin_lock_class, LOCK_SITE())
#define bit_spin_trylock(b, a)	_bit_spin_trylock((b), (a), &bit_spin_lock_class, LOCK_SITE())
#define bit_spin_unlock(b, a)	_bit_spin_unlock((b), (a), &bit_spin_lock_class, LOCK_SITE())
#define __bit_spin_unlock(b, a)	___bit_spin_unlock((b), (a), &bit_spin_lock_class, LOCK_SITE())
#define bit_spin_lock_class(b, a, c)	 _bit_spin_lock((b), (a), (c), LOCK_SITE())
#define bit_spin_trylock_class(b, a, c)	 _bit_spin_trylock((b), (a), (c), LOCK_SITE())
#define bit_spin_unlock_class(b, a, c)	 _bit_spin_unlock((b), (a), (c), LOCK_SITE())
#define __bit_spin_unlock_class(b, a, c) ___bit_spin_unlock((b), (a), (c), LOCK_SITE())

/* ---- rw_semaphore ----------------------------------------------------------- */

/*
 * A FIFO ticket rwlock.  Every acquirer takes a ticket; a reader, once
 * served, counts itself in @readers and passes the turn on at once, so
 * consecutive readers share the lock; a writer keeps the turn until
 * up_write() and first waits for @readers to drain.  A writer therefore
 * waits only for those who came before it, and readers that arrive after a
 * waiting writer queue behind it: writer-fair, as the kernel's rwsem with
 * its FIFO wait list and handoff.
 */
union rwsem_ticket {
	u64 word;
	struct {
		u32 next;
		u32 serving;
	};
};

struct rw_semaphore {
	union rwsem_ticket t;
	u32 readers;
	u32 sleepers;		/* waiters asleep on t.serving (futex) */
	u32 drainer;		/* the turn's writer asleep on @readers */
	struct lockdep_map dep_map;
};

void __init_rwsem(struct rw_semaphore *sem, const char *name,
		  struct lock_class_key *key);

#define init_rwsem(sem)							\
	do {								\
		static struct lock_class_key __key;			\
		__init_rwsem((sem), #sem, &__key);			\
	} while (0)

void _down_read(struct rw_semaphore *sem, unsigned int subclass,
		const struct lock_site *site);
void _down_write(struct rw_semaphore *sem, unsigned int subclass,
		 const struct lock_site *site);
bool _down_read_trylock(struct rw_semaphore *sem, const struct lock_site *site);
bool _down_write_trylock(struct rw_semaphore *sem, const struct lock_site *site);
void _up_read(struct rw_semaphore *sem, const struct lock_site *site);
void _up_write(struct rw_semaphore *sem, const struct lock_site *site);
void _downgrade_write(struct rw_semaphore *sem, const struct lock_site *site);
bool rwsem_is_locked(struct rw_semaphore *sem);
/* The waiter count behind the current holder(s): rwsem_is_contended(). */
bool rwsem_is_contended(struct rw_semaphore *sem);
/*
 * A writer holds @sem or waits for it (the model's: readers pass the turn
 * on at once, so a turn stays taken only for a writer and whoever queues
 * behind it).  A hint, stale at once.
 */
bool rwsem_has_writer(struct rw_semaphore *sem);

#define down_read(sem)			_down_read((sem), 0, LOCK_SITE())
#define down_read_nested(sem, sub)	_down_read((sem), (sub), LOCK_SITE())
#define down_write(sem)			_down_write((sem), 0, LOCK_SITE())
#define down_write_nested(sem, sub)	_down_write((sem), (sub), LOCK_SITE())
#define down_read_trylock(sem)		_down_read_trylock((sem), LOCK_SITE())
#define down_write_trylock(sem)		_down_write_trylock((sem), LOCK_SITE())
#define up_read(sem)			_up_read((sem), LOCK_SITE())
#define up_write(sem)			_up_write((sem), LOCK_SITE())
#define downgrade_write(sem)		_downgrade_write((sem), LOCK_SITE())

/* ---- seqcount_t --------------------------------------------------------------- */

/*
 * Writers must be serialized by the caller (a lock, or mmap_lock for
 * mm->write_protect_seq); the model checks it: a write section that begins
 * on an odd sequence is reported.  Data read under the seqcount must be read
 * with READ_ONCE (relaxed atomics), or C11 and TSan call it a race.
 */
typedef struct seqcount {
	unsigned int sequence;
	struct lockdep_map dep_map;
} seqcount_t;

void __seqcount_init(seqcount_t *s, const char *name, struct lock_class_key *key);
void __write_seqcount_begin(seqcount_t *s, bool validate,
			    const struct lock_site *site);
void __write_seqcount_end(seqcount_t *s, bool validate,
			  const struct lock_site *site);
unsigned int __read_seqcount_begin(seqcount_t *s, const struct lock_site *site);

#define seqcount_init(s)						\
	do {								\
		static struct lock_class_key __key;			\
		__seqcount_init((s), #s, &__key);			\
	} while (0)

#define write_seqcount_begin(s)		__write_seqcount_begin((s), true, LOCK_SITE())
#define write_seqcount_end(s)		__write_seqcount_end((s), true, LOCK_SITE())
/* raw_: no lockdep, as in the kernel; the odd-sequence check stays. */
#define raw_write_seqcount_begin(s)	__write_seqcount_begin((s), false, LOCK_SITE())
#define raw_write_seqcount_end(s)	__write_seqcount_end((s), false, LOCK_SITE())
#define read_seqcount_begin(s)		__read_seqcount_begin((s), LOCK_SITE())

/* No wait for an even value: GUP-fast tests the low bit itself. */
static inline unsigned int raw_read_seqcount(const seqcount_t *s)
{
	return __atomic_load_n(&s->sequence, __ATOMIC_ACQUIRE);
}

static inline bool read_seqcount_retry(const seqcount_t *s, unsigned int start)
{
	smp_rmb();	/* Pairs with smp_wmb() in __write_seqcount_end(). */
	return READ_ONCE(s->sequence) != start;
}

/* ---- raw_atomic_seqcount_t ------------------------------------------------------ */

/*
 * The atomic seqcount of the November 2023 rmap_id series ("atomic_seqcount:
 * new (raw) seqcount variant to support concurrent writers", and "support a
 * single exclusive writer in the absence of other writers"; it was never
 * merged).  Writers need no lock: each counts itself in the low bits and
 * updates with atomic read-modify-writes, so several may run at once.  A
 * writer that finds no other may instead set the exclusive bit with one
 * compare-and-exchange and update with plain loads and stores; a shared
 * writer that arrives meanwhile waits for it, so no writer waits for more
 * than one exclusive writer.  Readers wait while any writer is active and
 * retry if the value moved.  The 64-bit layout: shared writers in bits
 * 0-15, the exclusive bit 16, the sequence from bit 17.
 *
 * FT-DEVIATION: as for bit spinlocks, the validator knows each atomic
 * seqcount by a class declared with DEFINE_ATOMIC_SEQCOUNT_CLASS(); a write
 * section is held like a lock (shared: as a reader), innermost, and the
 * kernel's preempt_disable() is the rule that nothing sleeping is taken
 * inside it.
 */
typedef struct {
	unsigned long sequence;
} raw_atomic_seqcount_t;

#define ATOMIC_SEQCOUNT_SHARED_WRITER		0x1UL
#define ATOMIC_SEQCOUNT_SHARED_WRITERS_MAX	0x8000UL
#define ATOMIC_SEQCOUNT_SHARED_WRITERS_MASK	0xffffUL
#define ATOMIC_SEQCOUNT_EXCLUSIVE_WRITER	0x10000UL
#define ATOMIC_SEQCOUNT_WRITERS_MASK		0x1ffffUL
#define ATOMIC_SEQCOUNT_SEQUENCE_STEP		0x20000UL

#define DEFINE_ATOMIC_SEQCOUNT_CLASS(var, namestr)			\
	static struct lock_class_key var##_key;				\
	const struct lockdep_map var = {				\
		.key = &var##_key, .name = (namestr),			\
		.kind = LOCK_KIND_ATOMIC_SEQCOUNT,			\
	}

static inline void raw_seqcount_init(raw_atomic_seqcount_t *s)
{
	WRITE_ONCE(s->sequence, 0UL);
}

/* True if the writer got the section exclusively (plain updates allowed). */
bool _raw_write_atomic_seqcount_begin(raw_atomic_seqcount_t *s, bool try_exclusive,
				      const struct lockdep_map *class,
				      const struct lock_site *site);
void _raw_write_atomic_seqcount_end(raw_atomic_seqcount_t *s, bool exclusive,
				    const struct lockdep_map *class,
				    const struct lock_site *site);
/*
 * Not in the posting: wait until the section can be had exclusively, for
 * an oracle that needs the view to hold still (a shared writer that comes
 * meanwhile waits).  End it with _end(s, true).
 */
void _raw_write_atomic_seqcount_begin_exclusive(raw_atomic_seqcount_t *s,
						const struct lockdep_map *class,
						const struct lock_site *site);
/* Waits while a writer is active; the value to hand to _retry(). */
unsigned long _raw_read_atomic_seqcount_begin(raw_atomic_seqcount_t *s,
					      const struct lockdep_map *class,
					      const struct lock_site *site);

#define raw_write_atomic_seqcount_begin(s, try_exclusive, class)		\
	_raw_write_atomic_seqcount_begin((s), (try_exclusive), (class), LOCK_SITE())
#define raw_write_atomic_seqcount_begin_exclusive(s, class)			\
	_raw_write_atomic_seqcount_begin_exclusive((s), (class), LOCK_SITE())
#define raw_write_atomic_seqcount_end(s, exclusive, class)			\
	_raw_write_atomic_seqcount_end((s), (exclusive), (class), LOCK_SITE())
#define raw_read_atomic_seqcount_begin(s, class)				\
	_raw_read_atomic_seqcount_begin((s), (class), LOCK_SITE())

/* The raw value, writer bits and all: the caller decides what they mean. */
static inline unsigned long raw_read_atomic_seqcount(raw_atomic_seqcount_t *s)
{
	ft_sched_point(FT_SP_LOCK);
	return __atomic_load_n(&s->sequence, __ATOMIC_ACQUIRE);
}

static inline bool raw_read_atomic_seqcount_retry(raw_atomic_seqcount_t *s,
						  unsigned long start)
{
	smp_rmb();	/* Pairs with the full barriers in _begin() and _end(). */
	ft_sched_point(FT_SP_UNLOCK);
	return READ_ONCE(s->sequence) != start;
}

/* ---- Assertions ---------------------------------------------------------------- */

static inline void _lockdep_assert_held(const struct lockdep_map *map,
					const void *inst, int bit,
					const struct lock_site *site)
{
	if (lockdep_enabled() && unlikely(!lock_is_held(inst, bit)))
		lockdep_assert_failed(map, inst, bit, site);
}

/* For any lock with a dep_map: spinlock_t, rw_semaphore. */
#define lockdep_assert_held(l)						\
	_lockdep_assert_held(&(l)->dep_map, &(l)->dep_map, -1, LOCK_SITE())

bool lock_is_held_write(const void *inst);

/* Where the calling thread took @l (a spinlock_t or rw_semaphore), or NULL
 * if it does not hold it or the validator is off: for traces. */
const struct lock_site *lock_held_site(const void *inst);
#define lockdep_held_site(l)	lock_held_site(&(l)->dep_map)

/* An rw_semaphore held for write (not read, not downgraded). */
#define lockdep_assert_held_write(l)					\
	do {								\
		if (lockdep_enabled() &&				\
		    unlikely(!lock_is_held_write(&(l)->dep_map)))	\
			lockdep_assert_failed(&(l)->dep_map, &(l)->dep_map, \
					      -1, LOCK_SITE());		\
	} while (0)
#define lockdep_assert_bit_held(b, a, c)				\
	_lockdep_assert_held((c), (a), (b), LOCK_SITE())

/* ---- Lock kinds: the table the lock torture and validate tests share ---- */

#define FT_LK_READERS	0x1	/* has read_lock/read_unlock/read_trylock */
#define FT_LK_DOWNGRADE	0x2	/* has downgrade */
#define FT_LK_BUSTED	0x4	/* a negative control: excludes nothing */
#define FT_LK_SHARED_WORD 0x8	/* instance is an unsigned long locked on bit
				 * FT_LK_BITNUM; its other bits are free */
#define FT_LK_BITNUM	31

struct ft_lock_kind {
	const char *name;		/* --kind=NAME */
	const char *desc;
	unsigned int caps;
	size_t size;			/* bytes of one instance */
	void (*init)(void *lock);
	void (*lock)(void *lock, const struct lock_site *site);
	bool (*trylock)(void *lock, const struct lock_site *site);
	void (*unlock)(void *lock, const struct lock_site *site);
	void (*read_lock)(void *lock, const struct lock_site *site);
	bool (*read_trylock)(void *lock, const struct lock_site *site);
	void (*read_unlock)(void *lock, const struct lock_site *site);
	void (*downgrade)(void *lock, const struct lock_site *site);
	void (*assert_held)(void *lock, const struct lock_site *site);
};

/* NULL-terminated, in the order --list-lock-kinds prints them. */
extern const struct ft_lock_kind *const ft_lock_kinds[];
const struct ft_lock_kind *ft_lock_kind_find(const char *name);

#endif /* FT_LOCK_H */
