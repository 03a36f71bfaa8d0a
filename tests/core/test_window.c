// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_window: the windows aimed interference aims at (include/ft/sched.h).
 *
 *   publish     an open window is read back whole, a closed one not at
 *               all; one opened inside another is not published; the
 *               opened counts move
 *   aim         an aimer commits once per window: not twice, not after
 *               the close; its operation arrived only if it ended before
 *               the close
 *   torn        one thread opens and closes windows whose fields agree
 *               with each other, another reads them: no read ever mixes
 *               two windows (the seqcount's recheck; relaxed atomics, so
 *               TSan has nothing to say either way)
 *   hold        serial mode: an aimer whose operation takes two
 *               scheduling points, against an owner that closes right
 *               after one: a close with the aimer still busy waits for
 *               it (held), and some of those operations arrive; the same
 *               scheduler seeds, the same outcome
 *   meet        an aimer that opens a conversion's window in the mm of a
 *               lockless read it aimed at releases that read's close (no
 *               hold); its access's window, one in another mm, or one at
 *               a fork break, does not; a
 *               migration's restore is released by COW reuse's window in
 *               its mm, not by a mapcount update
 *   exposed     an interrupt window names its range only when exposed,
 *               and then lingers for an aimer; one that is not exposed
 *               names nothing and never lingers; one told not to linger
 *               names its range and does not linger
 *   sample      ft_window_sample(n) is true about once in n calls, from
 *               the seed (the same seed, the same draws), and never with
 *               lingering off or without a scheduler
 */
#include <pthread.h>
#include <sched.h>

#include "ft/sched.h"
#include "ft_test.h"

#define TORN_ITERS	200000
#define HOLD_SEEDS	32

static struct ft_sched owner, aimer;

static void sched_init(struct ft_sched *s, u64 seed)
{
	*s = (struct ft_sched){ .policy = FT_BREAK_POLICY_NEVER, .no_yield = true };
	ft_random_init(&s->rs, seed, 7, 0, 0);
}

static void test_publish(struct ft_ktap *k)
{
	struct ft_window_view v;
	bool open, closed, nested;
	int mm, folio;

	sched_init(&owner, 1);
	ft_sched_set_current(&owner);
	ft_window_open(FT_WIN_FORK_BREAK, &mm, 0x10000, 0x10000, NULL);
	open = ft_window_read(&owner.window, &v) && v.kind == FT_WIN_FORK_BREAK &&
	       v.mm == &mm && v.addr == 0x10000 && v.len == 0x10000 && !v.folio;
	ft_irq_window(FT_WIN_MAPCOUNT, &mm, 0, 0, &folio);
	nested = ft_window_read(&owner.window, &v) && v.kind == FT_WIN_FORK_BREAK;
	ft_window_close();
	closed = !ft_window_read(&owner.window, &v);
	ft_sched_set_current(NULL);
	ft_ktap_result(k, open && nested && closed && owner.n_windows[FT_WIN_FORK_BREAK] == 1 &&
		       owner.n_windows[FT_WIN_MAPCOUNT] == 0,
		       "publish: open %d, the inner window hidden %d, closed %d, opened %llu",
		       open, nested, closed,
		       (unsigned long long)owner.n_windows[FT_WIN_FORK_BREAK]);
}

static void test_aim(struct ft_ktap *k)
{
	struct ft_window_view v, late;
	bool first, again, arrived, other, after;

	sched_init(&owner, 1);
	ft_sched_set_current(&owner);
	ft_window_open(FT_WIN_ZAP_BREAK, NULL, 0x20000, 0x1000, NULL);
	ft_window_read(&owner.window, &v);
	first = ft_window_aim(&v);
	again = ft_window_aim(&v);		/* one aimed operation per window */
	arrived = ft_window_aim_done(&v);
	other = ft_window_aim(&v);		/* still the same window */
	ft_window_close();
	ft_window_open(FT_WIN_ZAP_BREAK, NULL, 0x20000, 0x1000, NULL);
	ft_window_read(&owner.window, &late);
	ft_window_close();
	after = ft_window_aim(&late);		/* closed: no */
	ft_sched_set_current(NULL);
	ft_ktap_result(k, first && !again && arrived && !other && !after,
		       "aim: first %d, again %d, arrived %d, same window again %d, "
		       "after the close %d", first, again, arrived, other, after);
}

/* ---- torn: the writer's windows have addr == len == mm == folio / 2 ---- */

static int torn_done;

static void *torn_writer(void *arg)
{
	(void)arg;
	ft_sched_set_current(&owner);
	for (unsigned long i = 1; i <= TORN_ITERS; i++) {
		ft_window_open(FT_WIN_HW_ACCESS, (void *)i, i, i, (void *)(2 * i));
		if (!(i % 64))
			sched_yield();	/* open long enough to be read */
		ft_window_close();
	}
	ft_sched_set_current(NULL);
	__atomic_store_n(&torn_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_torn(struct ft_ktap *k)
{
	unsigned long reads = 0, torn = 0;
	struct ft_window_view v;
	pthread_t t;

	torn_done = 0;
	/* Before the writer starts: the reader below reads it from then on. */
	sched_init(&owner, 2);
	pthread_create(&t, NULL, torn_writer, NULL);
	while (!__atomic_load_n(&torn_done, __ATOMIC_ACQUIRE)) {
		if (!ft_window_read(&owner.window, &v))
			continue;
		reads++;
		torn += v.addr != v.len || v.mm != (void *)v.addr ||
			v.folio != (void *)(2 * v.addr);
	}
	pthread_join(t, NULL);
	ft_ktap_result(k, reads && !torn, "torn: %lu of %lu reads mixed two windows", torn, reads);
}

/* ---- hold: serial mode ---- */

static struct {
	unsigned int committed, arrived;
} hold;

static void *hold_fn(void *arg)
{
	int id = (int)(long)arg;
	struct ft_window_view v;

	ft_serial_enter(id);
	if (id == 0) {
		ft_sched_set_current(&owner);
		ft_window_open(FT_WIN_MIGRATION, NULL, 0, 0, NULL);
		ft_window_linger();		/* one scheduling point */
		ft_window_close();
		ft_sched_set_current(NULL);
	} else {
		ft_sched_set_current(&aimer);
		/* Until the owner's window opens, unless it already closed. */
		while (!ft_window_read(&owner.window, &v) &&
		       __atomic_load_n(&owner.window.seq, __ATOMIC_ACQUIRE) < 4)
			ft_sched_yield();
		if (ft_window_read(&owner.window, &v) && ft_window_aim(&v)) {
			hold.committed++;
			ft_sched_point(FT_SP_BREAK);	/* the operation */
			ft_sched_point(FT_SP_BREAK);
			hold.arrived += ft_window_aim_done(&v);
		}
		ft_sched_set_current(NULL);
	}
	ft_serial_exit();
	return NULL;
}

static void hold_run(u64 seed)
{
	struct ft_serial_params p = {
		.nr_threads = 2, .strategy = FT_SCHED_RANDOM, .seed = seed, .pct_depth = 1,
		.pct_steps = 100,
	};
	pthread_t t[2];

	sched_init(&owner, seed);
	sched_init(&aimer, seed);
	if (ft_serial_init(&p))
		exit(FT_EXIT_USAGE);
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, hold_fn, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ft_serial_destroy();
}

/*
 * Whether the aimer gets in depends on the schedule.  An aimer that is
 * done before the owner closes needs no hold; one that is not makes the
 * close wait (held), and then arrives unless the owner ran out of yields
 * first: more arrive than finished unheld.  The same seeds give the same
 * outcome.
 */
static void test_hold(struct ft_ktap *k)
{
	unsigned int committed, arrived;
	u64 held = 0;
	bool same;

	ft_window_set_linger(true);
	hold.committed = hold.arrived = 0;
	for (u64 seed = 1; seed <= HOLD_SEEDS; seed++) {
		hold_run(seed);
		held += owner.n_window_holds;
	}
	committed = hold.committed;
	arrived = hold.arrived;
	hold.committed = hold.arrived = 0;
	for (u64 seed = 1; seed <= HOLD_SEEDS; seed++)
		hold_run(seed);
	same = hold.committed == committed && hold.arrived == arrived;
	ft_window_set_linger(false);
	ft_ktap_result(k, held && held <= committed && arrived > committed - held && same,
		       "hold: of %d schedules, %u aimed in time, %llu closes held, %u "
		       "arrived; the same again: %d", HOLD_SEEDS, committed,
		       (unsigned long long)held, arrived, same);
}

/* ---- meet: one thread plays both sides, switching current ---- */

/*
 * The owner opens @kind in mm @a, the aimer aims at it and opens a window
 * of @at in mm @b; then the owner closes.  Whether the owner was told to go
 * on, and whether its close was held.
 */
static void meet_at(enum ft_window_kind kind, const void *a, enum ft_window_kind at,
		    const void *b, bool *met, bool *held)
{
	struct ft_window_view v;

	sched_init(&owner, 3);
	sched_init(&aimer, 4);
	ft_sched_set_current(&owner);
	ft_window_open(kind, a, 0x30000, 0x10000, NULL);
	ft_sched_set_current(&aimer);
	if (!ft_window_read(&owner.window, &v) || !ft_window_aim(&v)) {
		*met = *held = false;
		return;
	}
	ft_window_open(at, b, 0x30000, 0x10000, NULL);
	*met = __atomic_load_n(&owner.window.met_seq, __ATOMIC_RELAXED) == v.seq;
	ft_window_close();
	ft_sched_set_current(&owner);
	ft_window_close();		/* the aimer is still "under way" */
	*held = owner.n_window_holds != 0;
	ft_sched_set_current(&aimer);
	ft_window_aim_done(&v);
	ft_sched_set_current(NULL);
}

static void meet_once(enum ft_window_kind kind, const void *a, const void *b,
		      bool *met, bool *held)
{
	meet_at(kind, a, FT_WIN_CONVERT, b, met, held);
}

static void test_meet(struct ft_ktap *k)
{
	bool met, held, other_met, other_held, fork_met, fork_held;
	bool reuse_met, reuse_held, mc_met, mc_held;
	bool copy_met, copy_held, fault_met, fault_held;
	int mm_a = 0, mm_b = 0;

	bool hw_met, hw_held;

	meet_once(FT_WIN_LOCKLESS_READ, &mm_a, &mm_a, &met, &held);
	/* A lockless read meets a conversion, not the partner's access. */
	meet_at(FT_WIN_LOCKLESS_READ, &mm_a, FT_WIN_HW_ACCESS, &mm_a, &hw_met, &hw_held);
	meet_once(FT_WIN_LOCKLESS_READ, &mm_a, &mm_b, &other_met, &other_held);
	meet_once(FT_WIN_FORK_BREAK, &mm_a, &mm_a, &fork_met, &fork_held);
	/* A restore meets COW reuse's checks only, not a mapcount update. */
	meet_at(FT_WIN_MIGRATION_RESTORE, &mm_a, FT_WIN_REUSE, &mm_a, &reuse_met, &reuse_held);
	meet_at(FT_WIN_MIGRATION_RESTORE, &mm_a, FT_WIN_MAPCOUNT, &mm_a, &mc_met, &mc_held);
	/* A stale store meets the COW copy, not the fault's reuse check. */
	meet_at(FT_WIN_STALE_STORE, &mm_a, FT_WIN_WP_COPY, &mm_a, &copy_met, &copy_held);
	meet_at(FT_WIN_STALE_STORE, &mm_a, FT_WIN_REUSE, &mm_a, &fault_met, &fault_held);
	ft_ktap_result(k, met && !held && !hw_met && hw_held && !other_met && other_held &&
		       !fork_met && fork_held && reuse_met && !reuse_held && !mc_met &&
		       mc_held && copy_met && !copy_held && !fault_met && fault_held,
		       "meet: lockless read met %d held %d, at an access met %d held %d; "
		       "another mm met %d held %d; fork break met %d held %d; restore at "
		       "reuse met %d held %d, at a mapcount update met %d held %d; stale "
		       "store at a COW copy met %d held %d, at reuse met %d held %d", met,
		       held, hw_met, hw_held, other_met, other_held, fork_met, fork_held,
		       reuse_met, reuse_held, mc_met, mc_held, copy_met, copy_held,
		       fault_met, fault_held);
}

/* ---- exposed: conversions exposed, PTE updates not, read by another thread ---- */

static int exposed_done;

static void *exposed_writer(void *arg)
{
	int mm = 0;

	(void)arg;
	ft_sched_set_current(&owner);
	for (int i = 0; i < TORN_ITERS / 64; i++) {
		ft_irq_window_exposed(FT_WIN_CONVERT, &mm, 0x40000, 0x10000, NULL, true);
		ft_irq_window_exposed(FT_WIN_PTE_RMW, &mm, 0x40000, 0x1000, NULL, false);
		ft_irq_window_linger(FT_WIN_WP_COPY, &mm, 0x40000, 0x1000, NULL, false);
	}
	ft_sched_set_current(NULL);
	__atomic_store_n(&exposed_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_exposed(struct ft_ktap *k)
{
	unsigned long named = 0, lingering = 0, plain = 0, bad = 0;
	struct ft_window_view v;
	pthread_t t;

	exposed_done = 0;
	sched_init(&owner, 5);
	owner.no_yield = false;		/* the linger yields */
	ft_window_set_linger(true);
	pthread_create(&t, NULL, exposed_writer, NULL);
	while (!__atomic_load_n(&exposed_done, __ATOMIC_ACQUIRE)) {
		if (!ft_window_read(&owner.window, &v))
			continue;
		if (v.kind == FT_WIN_CONVERT) {
			named += v.len == 0x10000;
			lingering += v.lingering;
			bad += v.len != 0x10000;
		} else if (v.kind == FT_WIN_WP_COPY) {
			plain += v.len == 0x1000;
			bad += v.len != 0x1000 || v.lingering;
		} else {
			bad += v.kind != FT_WIN_PTE_RMW || v.len || v.lingering;
		}
	}
	pthread_join(t, NULL);
	ft_window_set_linger(false);
	ft_ktap_result(k, named && lingering && plain && !bad,
		       "exposed: %lu reads of an exposed window (%lu lingering), %lu of a "
		       "named one not lingering, %lu wrong", named, lingering, plain, bad);
}

/* ---- sample: once in n, from the seed, only when windows linger ---- */

#define SAMPLE_CALLS	8000

static unsigned int sample_count(u64 seed, u64 n, bool linger)
{
	unsigned int hits = 0;

	sched_init(&owner, seed);
	ft_sched_set_current(&owner);
	ft_window_set_linger(linger);
	for (int i = 0; i < SAMPLE_CALLS; i++)
		hits += ft_window_sample(n);
	ft_window_set_linger(false);
	ft_sched_set_current(NULL);
	return hits;
}

static void test_sample(struct ft_ktap *k)
{
	unsigned int hits = sample_count(9, 8, true), again = sample_count(9, 8, true);
	unsigned int all = sample_count(9, 1, true), off = sample_count(9, 8, false);
	bool no_sched;

	ft_window_set_linger(true);
	no_sched = !ft_window_sample(1);
	ft_window_set_linger(false);
	/* 1000 expected; a binomial's sd is 30. */
	ft_ktap_result(k, hits > 850 && hits < 1150 && again == hits && all == SAMPLE_CALLS &&
		       !off && no_sched,
		       "sample: one in 8: %u of %d (again %u), one in 1: %u, lingering off: "
		       "%u, no scheduler: %s", hits, SAMPLE_CALLS, again, all, off,
		       no_sched ? "false" : "true");
}

int main(void)
{
	struct ft_ktap k = { 0 };

	ft_ktap_start(7);
	test_publish(&k);
	test_aim(&k);
	test_torn(&k);
	test_hold(&k);
	test_meet(&k);
	test_exposed(&k);
	test_sample(&k);
	return ft_ktap_finish(&k);
}
