// SPDX-License-Identifier: GPL-2.0-only
/*
 * Spinning primitives: the slow paths of spinlock_t and bit_spin_lock, the
 * shared wait loop, and seqcount_t.
 */
#include "internal.h"

/* Look at the clock once per this many wait steps: the stall check is cheap. */
#define YIELDS_PER_CLOCK	64

/* Leave TSan's pre_lock state before the run ends, or it aborts the exit. */
static void spin_wait_leave_tsan(struct spin_wait *w)
{
	if (w->tsan_addr)
		tsan_post_lock(w->tsan_addr,
			       w->tsan_flags | FT_TSAN_TRY | FT_TSAN_TRY_FAILED);
}

/* Every so often: has this wait lasted longer than the stall timeout? */
void spin_wait_check_stall(struct spin_wait *w)
{
	u64 timeout, now = ft_now_coarse_ns();

	if (!w->start_ns) {
		w->start_ns = now;
		return;
	}
	timeout = lockdep_stall_timeout();
	if (!timeout || now - w->start_ns <= timeout)
		return;
	spin_wait_leave_tsan(w);
	lockdep_report_stall(w->map, w->inst, w->bit, now - w->start_ns);
}

void spin_wait_once(struct spin_wait *w)
{
	spin_wait_begin(w);
	if (ft_serial_on()) {
		if (__ft_sched_wait(w->ready, w->ready_arg, w->map->name)) {
			spin_wait_leave_tsan(w);
			ft_die(FT_EXIT_SPLAT);
		}
		return;
	}
	if (++w->spins < SPINS_BEFORE_YIELD) {
		cpu_relax();
		return;
	}
	ft_wait_step(w->spins - SPINS_BEFORE_YIELD);
	if ((w->spins - SPINS_BEFORE_YIELD) % YIELDS_PER_CLOCK == 0)
		spin_wait_check_stall(w);
}

void __spin_lock_init(spinlock_t *lock, const char *name,
		      struct lock_class_key *key)
{
	ck_spinlock_fas_init(&lock->raw);
	lock->waiters = 0;
	lock->dep_map = (struct lockdep_map){
		.key = key, .name = name, .kind = LOCK_KIND_SPIN,
	};
	tsan_create(lock, 0);
}

static bool spin_unlocked(const void *lock)
{
	return !ck_spinlock_fas_locked(&((spinlock_t *)lock)->raw);
}

void __spin_lock_slowpath(spinlock_t *lock)
{
	struct spin_wait w = SPIN_WAIT(&lock->dep_map, &lock->dep_map, -1, lock, 0,
				       spin_unlocked, lock);

	ck_pr_inc_uint(&lock->waiters);
	do {
		while (ck_spinlock_fas_locked(&lock->raw))
			spin_wait_once(&w);
	} while (!ck_spinlock_fas_trylock(&lock->raw));
	ck_pr_dec_uint(&lock->waiters);
	spin_wait_end(&w);
}

/* The catch-all class of bit_spin_lock() callers that declared none. */
DEFINE_BIT_SPIN_CLASS(bit_spin_lock_class, "bit_spin_lock");

struct bit_wait {
	unsigned long *addr;
	unsigned long mask;
};

static bool bit_clear(const void *arg)
{
	const struct bit_wait *b = arg;

	return !(__atomic_load_n(b->addr, __ATOMIC_RELAXED) & b->mask);
}

void __bit_spin_lock_wait(int bitnum, unsigned long *addr,
			  const struct lockdep_map *class)
{
	unsigned long mask = BIT(bitnum);
	struct bit_wait b = { addr, mask };
	struct spin_wait w = SPIN_WAIT(class, addr, bitnum,
				       bit_tsan_addr(addr, bitnum), 0, bit_clear, &b);

	/* test_and_set, then spin on a plain test: as bit_spin_lock() does. */
	do {
		while (READ_ONCE(*addr) & mask)
			spin_wait_once(&w);
	} while (__atomic_fetch_or(addr, mask, __ATOMIC_ACQUIRE) & mask);
	spin_wait_end(&w);
}

/* ---- seqcount_t ------------------------------------------------------------ */

void __seqcount_init(seqcount_t *s, const char *name, struct lock_class_key *key)
{
	s->sequence = 0;
	s->dep_map = (struct lockdep_map){
		.key = key, .name = name, .kind = LOCK_KIND_SEQCOUNT,
	};
}

void __write_seqcount_begin(seqcount_t *s, bool validate,
			    const struct lock_site *site)
{
	unsigned int old;

	ft_sched_point(FT_SP_LOCK);
	if (validate && lockdep_enabled()) {
		lock_acquire(&s->dep_map, &s->dep_map, -1, 0, 0, site);
		lock_acquired(&s->dep_map, -1);
	}
	old = __atomic_fetch_add(&s->sequence, 1, __ATOMIC_RELAXED);
	/* An odd count means another write section is open: the caller's
	 * serialization is broken and readers could see a torn update. */
	if (unlikely(old & 1))
		lock_bug(&s->dep_map, &s->dep_map, -1,
			 "write_seqcount_begin inside another write section "
			 "(writers not serialized)", site);
	smp_wmb();	/* Pairs with smp_rmb() in read_seqcount_retry(). */
}

void __write_seqcount_end(seqcount_t *s, bool validate,
			  const struct lock_site *site)
{
	unsigned int old;

	smp_wmb();	/* Pairs with the acquire in read_seqcount_begin(). */
	old = __atomic_fetch_add(&s->sequence, 1, __ATOMIC_RELEASE);
	if (unlikely(!(old & 1)))
		lock_bug(&s->dep_map, &s->dep_map, -1,
			 "write_seqcount_end without write_seqcount_begin", site);
	if (validate && lockdep_enabled())
		lock_release(&s->dep_map, &s->dep_map, -1, site);
	ft_sched_point(FT_SP_UNLOCK);
}

static bool seq_even(const void *s)
{
	return !(__atomic_load_n(&((seqcount_t *)s)->sequence, __ATOMIC_RELAXED) & 1);
}

unsigned int __read_seqcount_begin(seqcount_t *s, const struct lock_site *site)
{
	struct spin_wait w = SPIN_WAIT(&s->dep_map, &s->dep_map, -1, NULL, 0,
				       seq_even, s);
	unsigned int seq;

	/* A reader inside its own write section would spin forever. */
	if (lockdep_enabled() && lock_is_held(&s->dep_map, -1))
		lock_bug(&s->dep_map, &s->dep_map, -1,
			 "read_seqcount_begin inside its own write section", site);
	while ((seq = __atomic_load_n(&s->sequence, __ATOMIC_ACQUIRE)) & 1)
		spin_wait_once(&w);
	spin_wait_end(&w);
	return seq;
}
