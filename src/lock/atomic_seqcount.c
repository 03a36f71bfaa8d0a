// SPDX-License-Identifier: GPL-2.0-only
/*
 * raw_atomic_seqcount_t (lock.h): write sections, shared or exclusive, and
 * the reader's wait.  Every wait is a spin_wait, so it yields, reports a
 * lockup, blocks in the serial scheduler and counts its time under the
 * class's name like any other lock.
 */
#include "ft/zoo.h"
#include "internal.h"

struct seq_wait {
	raw_atomic_seqcount_t *s;
	unsigned long mask;
};

static bool seq_bits_clear(const void *arg)
{
	const struct seq_wait *q = arg;

	return !(__atomic_load_n(&q->s->sequence, __ATOMIC_RELAXED) & q->mask);
}

/* Spin until none of @mask's bits is set; the value then seen. */
static unsigned long seq_wait_clear(raw_atomic_seqcount_t *s, unsigned long mask,
				    const struct lockdep_map *class)
{
	struct seq_wait q = { s, mask };
	struct spin_wait w = SPIN_WAIT(class, s, -1, NULL, 0, seq_bits_clear, &q);
	unsigned long seq;

	while ((seq = __atomic_load_n(&s->sequence, __ATOMIC_ACQUIRE)) & mask)
		spin_wait_once(&w);
	spin_wait_end(&w);
	return seq;
}

/*
 * The exclusive writer's test: no writer at all may be active.  H4
 * (doc/invariants.md) tests the exclusive bit alone, so it takes the
 * section beside shared writers and its plain updates lose theirs.
 */
static unsigned long exclusive_blockers(void)
{
	if (ft_injected(FT_INJ_SEQCOUNT_EXCLUSIVE_IGNORES_SHARED))
		return ATOMIC_SEQCOUNT_EXCLUSIVE_WRITER;
	return ATOMIC_SEQCOUNT_WRITERS_MASK;
}

/* A fully ordered compare-and-exchange, as atomic_long_try_cmpxchg(). */
static bool try_begin_exclusive(raw_atomic_seqcount_t *s)
{
	unsigned long seq = __atomic_load_n(&s->sequence, __ATOMIC_RELAXED);

	if (seq & exclusive_blockers())
		return false;
	return __atomic_compare_exchange_n(&s->sequence, &seq,
					   seq + ATOMIC_SEQCOUNT_EXCLUSIVE_WRITER, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

bool _raw_write_atomic_seqcount_begin(raw_atomic_seqcount_t *s, bool try_exclusive,
				      const struct lockdep_map *class,
				      const struct lock_site *site)
{
	bool exclusive = false;
	unsigned long seq;

	ft_sched_point(FT_SP_LOCK);
	if (lockdep_enabled())
		lock_acquire(class, s, -1, 0, LOCK_F_READ, site);
	ft_sb_drain();
	if (try_exclusive && try_begin_exclusive(s)) {
		exclusive = true;
	} else {
		seq = __atomic_add_fetch(&s->sequence, ATOMIC_SEQCOUNT_SHARED_WRITER,
					 __ATOMIC_SEQ_CST);
		if ((seq & ATOMIC_SEQCOUNT_SHARED_WRITERS_MASK) > ATOMIC_SEQCOUNT_SHARED_WRITERS_MAX)
			lock_bug(class, s, -1, "atomic seqcount: too many shared writers",
				 site);
		/* At most one exclusive writer to wait for: it began before us. */
		if (seq & ATOMIC_SEQCOUNT_EXCLUSIVE_WRITER)
			seq_wait_clear(s, ATOMIC_SEQCOUNT_EXCLUSIVE_WRITER, class);
	}
	/* smp_mb__after_atomic(): the section's stores after the count, so
	 * a reader that sees them sees the writer too. */
	smp_mb();
	if (lockdep_enabled())
		lock_acquired(s, -1);
	return exclusive;
}

void _raw_write_atomic_seqcount_begin_exclusive(raw_atomic_seqcount_t *s,
						const struct lockdep_map *class,
						const struct lock_site *site)
{
	ft_sched_point(FT_SP_LOCK);
	if (lockdep_enabled())
		lock_acquire(class, s, -1, 0, LOCK_F_READ, site);
	ft_sb_drain();
	do
		seq_wait_clear(s, ATOMIC_SEQCOUNT_WRITERS_MASK, class);
	while (!try_begin_exclusive(s));
	smp_mb();
	if (lockdep_enabled())
		lock_acquired(s, -1);
}

void _raw_write_atomic_seqcount_end(raw_atomic_seqcount_t *s, bool exclusive,
				    const struct lockdep_map *class,
				    const struct lock_site *site)
{
	unsigned long mine = exclusive ? ATOMIC_SEQCOUNT_EXCLUSIVE_WRITER :
					 ATOMIC_SEQCOUNT_SHARED_WRITER;
	unsigned long old;

	/* smp_mb__before_atomic(): the updates before the step, for readers
	 * and for the refcount changes that follow (rmap_id.c). */
	smp_mb();
	old = __atomic_fetch_add(&s->sequence, ATOMIC_SEQCOUNT_SEQUENCE_STEP - mine,
				 __ATOMIC_SEQ_CST);
	if (unlikely(exclusive ? !(old & ATOMIC_SEQCOUNT_EXCLUSIVE_WRITER) :
			       !(old & ATOMIC_SEQCOUNT_SHARED_WRITERS_MASK)))
		lock_bug(class, s, -1, "atomic seqcount: write end without its begin",
			 site);
	if (lockdep_enabled())
		lock_release(class, s, -1, site);
	ft_sched_point(FT_SP_UNLOCK);
}

unsigned long _raw_read_atomic_seqcount_begin(raw_atomic_seqcount_t *s,
					      const struct lockdep_map *class,
					      const struct lock_site *site)
{
	/* A reader inside its own write section would wait for ever. */
	if (lockdep_enabled() && lock_is_held(s, -1))
		lock_bug(class, s, -1, "atomic seqcount read inside its own write section",
			 site);
	ft_sched_point(FT_SP_LOCK);
	return seq_wait_clear(s, ATOMIC_SEQCOUNT_WRITERS_MASK, class);
}
