// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_serial: the serial scheduler (include/ft/sched.h) on the lock model.
 *
 *   (default)	KTAP: the same seed gives the same schedule, another seed
 *		another; PCT at depth 1 never preempts and at depth 2 does; a
 *		thread waiting for a held lock is never chosen; locks still
 *		exclude
 *		a delayed store (ft_store_delayable_add()) is hidden from the
 *		other thread until a barrier or a switch, and seen by its own;
 *		immediate outside serial mode
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
	ft_wait_until(flag_set, &flags[!id], "the other thread's first lock",
		      FT_TIME_LOCK);
	spin_lock(theirs);
	spin_unlock(theirs);
	spin_unlock(mine);
	ft_serial_exit();
	return NULL;
}

/*
 * The delayed store: thread 0 adds to sb_x through ft_store_delayable_add()
 * and publishes how many adds it made (sb_done, a plain store); thread 1
 * reads both at its points.  sb_* are read raw (__atomic_load_n) where the
 * test wants memory, not atomic_read()'s forwarding.
 */
static atomic_t sb_x;
static int sb_done, sb_turns;
static struct {
	int hidden;		/* thread 1 read sb_x below sb_done */
	int buffered;		/* thread 0's add not in memory right after it */
	bool forwarded;		/* thread 0's atomic_read() always saw its adds */
	bool after_switch;	/* in memory when thread 0 ran again */
	bool after_mb;		/* in memory after smp_mb() */
	bool never_ahead;	/* thread 1 never read more than was published */
} sb;

static int sb_raw(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void sb_adder(void)
{
	for (int n = 1; n <= ITERS; n++) {
		int turns;

		ft_store_delayable_add(1, &sb_x);
		sb.forwarded &= atomic_read(&sb_x) == n;
		sb.buffered += sb_raw(&sb_x.counter) != n;
		__atomic_store_n(&sb_done, n, __ATOMIC_RELAXED);
		turns = sb_raw(&sb_turns);
		ft_sched_point(FT_SP_PTE);
		if (sb_raw(&sb_turns) != turns)
			sb.after_switch &= sb_raw(&sb_x.counter) == n;
		if (n % 4 == 0) {
			smp_mb();
			sb.after_mb &= sb_raw(&sb_x.counter) == n;
		}
	}
}

static void sb_reader(void)
{
	while (sb_raw(&sb_done) < ITERS) {
		int x = atomic_read(&sb_x), done = sb_raw(&sb_done);

		sb.hidden += x < done;
		sb.never_ahead &= x <= done;
		__atomic_store_n(&sb_turns, sb_raw(&sb_turns) + 1, __ATOMIC_RELAXED);
		ft_sched_point(FT_SP_PTE);
	}
}

static void *delayed_store_fn(void *arg)
{
	int id = (int)(long)arg;

	ft_serial_enter(id);
	if (id == 0)
		sb_adder();
	else
		sb_reader();
	ft_serial_exit();
	return NULL;
}

static void run(void *(*fn)(void *), const struct ft_serial_params *p,
		struct ft_serial_stats *st)
{
	pthread_t t[NR_THREADS];

	counter = 0;
	flags[0] = flags[1] = 0;
	atomic_set(&sb_x, 0);
	sb_done = sb_turns = 0;
	sb = (typeof(sb)){ .forwarded = true, .after_switch = true, .after_mb = true,
			   .never_ahead = true };
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

/*
 * The delayed store's negative control: without the buffer, thread 1
 * would never read sb_x behind sb_done (each add lands before the count
 * is published), so "hidden" fails if ft_store_delayable_add() stores at
 * once; the other checks fail if it stays buffered past a barrier or a
 * switch, or if the thread cannot see its own store.
 */
static void test_delayed_store(struct ft_ktap *k)
{
	struct ft_serial_params p = params(FT_SCHED_RANDOM, 1, 1);
	struct ft_serial_stats st, st2;

	p.nr_threads = 2;
	run(delayed_store_fn, &p, &st);
	ft_ktap_result(k, st.delayed > 0 && sb.buffered == (int)st.delayed && sb.hidden > 0 &&
		       sb.never_ahead, "delayed_store_hidden_from_others (%llu delayed, "
		       "%d reads behind)", (unsigned long long)st.delayed, sb.hidden);
	ft_ktap_result(k, sb.forwarded, "delayed_store_forwarded_to_own_thread");
	ft_ktap_result(k, sb.after_switch && sb.after_mb && atomic_read(&sb_x) == ITERS,
		       "delayed_store_lands_at_barrier_and_switch");
	run(delayed_store_fn, &p, &st2);
	ft_ktap_result(k, st.hash == st2.hash && st.delayed == st2.delayed && sb.hidden > 0,
		       "delayed_store_replays (0x%llx)", (unsigned long long)st2.hash);
	ft_store_delayable_add(1, &sb_x);	/* this thread is not enrolled */
	ft_ktap_result(k, sb_raw(&sb_x.counter) == ITERS + 1 && !ft_sb_pending,
		       "delayed_store_immediate_outside_serial");
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
	ft_ktap_start(12);
	test_same_seed(&k);
	test_pct(&k);
	test_blocked_not_chosen(&k);
	test_delayed_store(&k);
	return k.failed ? FT_EXIT_INVARIANT : FT_EXIT_SUCCESS;
}
