// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_serial: the serial scheduler (include/ft/sched.h) on the lock model.
 *
 *   (default)	KTAP: the same seed gives the same schedule, another seed
 *		another; PCT at depth 1 never preempts and at depth 2 does; a
 *		thread waiting for a held lock is never chosen; locks still
 *		exclude
 *   --deadlock	two threads that each hold the lock the other wants: the
 *		scheduler reports the deadlock and exits 2 (lockdep off, so
 *		that its inversion report does not come first)
 */
#include <pthread.h>

#include "ft/lock.h"
#include "ft_test.h"

#define NR_THREADS	3
#define ITERS		200

static spinlock_t lock_a, lock_b;
static long counter;
static int flags[2];

struct workload {
	void *(*fn)(void *);
	struct ft_serial_params p;
};

static void *counter_fn(void *arg)
{
	ft_serial_enter((int)(long)arg);
	for (int i = 0; i < ITERS; i++) {
		spin_lock(&lock_a);
		counter++;
		ft_sched_point(FT_SP_BREAK);	/* a point inside the section */
		spin_unlock(&lock_a);
	}
	ft_serial_exit();
	return NULL;
}

/* Thread 0 holds lock_a across many points; thread 1 wants it once. */
static void *holder_fn(void *arg)
{
	int id = (int)(long)arg;

	ft_serial_enter(id);
	if (id == 0) {
		spin_lock(&lock_a);
		__atomic_store_n(&flags[0], 1, __ATOMIC_RELAXED);
		for (int i = 0; i < ITERS; i++)
			ft_sched_point(FT_SP_BREAK);
		spin_unlock(&lock_a);
	} else {
		while (!__atomic_load_n(&flags[0], __ATOMIC_RELAXED))
			ft_sched_yield();
		spin_lock(&lock_a);
		counter++;
		spin_unlock(&lock_a);
	}
	ft_serial_exit();
	return NULL;
}

static bool flag_set(const void *f)
{
	return __atomic_load_n((const int *)f, __ATOMIC_RELAXED);
}

/* Each takes its lock, waits until the other has its own, takes the other's. */
static void *abba_fn(void *arg)
{
	int id = (int)(long)arg;
	spinlock_t *mine = id ? &lock_b : &lock_a, *theirs = id ? &lock_a : &lock_b;

	ft_serial_enter(id);
	spin_lock(mine);
	__atomic_store_n(&flags[id], 1, __ATOMIC_RELAXED);
	ft_wait_until(flag_set, &flags[!id], "the other thread's first lock");
	spin_lock(theirs);
	spin_unlock(theirs);
	spin_unlock(mine);
	ft_serial_exit();
	return NULL;
}

static void run(void *(*fn)(void *), const struct ft_serial_params *p,
		struct ft_serial_stats *st)
{
	pthread_t t[NR_THREADS];

	counter = 0;
	flags[0] = flags[1] = 0;
	if (ft_serial_init(p))
		exit(FT_EXIT_USAGE);
	for (long i = 0; i < p->nr_threads; i++)
		pthread_create(&t[i], NULL, fn, (void *)i);
	for (int i = 0; i < p->nr_threads; i++)
		pthread_join(t[i], NULL);
	ft_serial_get_stats(st);
	ft_serial_destroy();
}

static struct ft_serial_params params(enum ft_sched_strategy s, u64 seed, u32 depth)
{
	return (struct ft_serial_params){
		.nr_threads = NR_THREADS, .strategy = s, .seed = seed,
		.pct_depth = depth, .pct_steps = NR_THREADS * ITERS * 3,
	};
}

static void test_same_seed(struct ft_ktap *k)
{
	struct ft_serial_params p = params(FT_SCHED_RANDOM, 1, 1);
	struct ft_serial_stats a, b, c;

	run(counter_fn, &p, &a);
	ft_ktap_result(k, counter == NR_THREADS * ITERS, "serial_counter_exact "
		       "(%ld of %d)", counter, NR_THREADS * ITERS);
	run(counter_fn, &p, &b);
	p.seed = 2;
	run(counter_fn, &p, &c);
	ft_ktap_result(k, a.hash == b.hash && a.steps == b.steps, "same_seed_same_schedule "
		       "(0x%llx, 0x%llx)", (unsigned long long)a.hash,
		       (unsigned long long)b.hash);
	ft_ktap_result(k, a.hash != c.hash, "other_seed_other_schedule");
	ft_ktap_result(k, a.switches > NR_THREADS * ITERS / 2, "random_switches_often "
		       "(%llu switches in %llu steps)", (unsigned long long)a.switches,
		       (unsigned long long)a.steps);
}

/* Depth 1: a thread runs until it ends or blocks; only exits switch here
 * (every thread's section is its own, the lock is free when it asks).
 * Depth 2: one change point preempts the running thread. */
static void test_pct(struct ft_ktap *k)
{
	struct ft_serial_params p = params(FT_SCHED_PCT, 1, 1);
	struct ft_serial_stats st;

	run(counter_fn, &p, &st);
	ft_ktap_result(k, st.switches == NR_THREADS - 1 && !st.blocked,
		       "pct_depth1_no_preemption (%llu switches)",
		       (unsigned long long)st.switches);
	p.pct_depth = 2;
	run(counter_fn, &p, &st);
	ft_ktap_result(k, st.switches > NR_THREADS - 1 && counter == NR_THREADS * ITERS,
		       "pct_depth2_preempts (%llu switches)", (unsigned long long)st.switches);
}

/* Had thread 1 been chosen while lock_a was held, it would have found it
 * held and blocked again: one block in all. */
static void test_blocked_not_chosen(struct ft_ktap *k)
{
	struct ft_serial_params p = params(FT_SCHED_RANDOM, 3, 1);
	struct ft_serial_stats st;

	p.nr_threads = 2;
	run(holder_fn, &p, &st);
	ft_ktap_result(k, st.blocked == 1 && counter == 1,
		       "blocked_thread_never_chosen (%llu blocked waits, %llu steps)",
		       (unsigned long long)st.blocked, (unsigned long long)st.steps);
}

int main(int argc, char **argv)
{
	struct ft_ktap k = { 0 };

	spin_lock_init(&lock_a);
	spin_lock_init(&lock_b);
	if (ft_test_flag(argc, argv, "--deadlock")) {
		struct ft_serial_params p = params(FT_SCHED_RANDOM, 1, 1);
		struct ft_serial_stats st;

		lockdep_set_enabled(false);
		p.nr_threads = 2;
		run(abba_fn, &p, &st);
		printf("no deadlock found\n");
		return FT_EXIT_SUCCESS;
	}
	ft_ktap_start(7);
	test_same_seed(&k);
	test_pct(&k);
	test_blocked_not_chosen(&k);
	return k.failed ? FT_EXIT_INVARIANT : FT_EXIT_SUCCESS;
}
