// SPDX-License-Identifier: GPL-2.0-only
/*
 * --lock-torture: locktorture for the lock model.
 *
 * Threads hammer one instance of each selected lock kind (and a seqcount),
 * choosing reads, writes, trylocks and downgrades from their seeded
 * streams, and now and then take a nest of locks in the mm's order
 * (mmap_lock -> PTL -> nested PTL -> mapcount bit lock) so the validator
 * sees real hierarchies.  The oracles live in the workers, as in
 * locktorture: a writer must find no other writer and no reader inside, a
 * reader no writer, the guarded pair (a, b) must read equal, bits of a bit
 * lock's word that other threads flip atomically must never be lost, and at
 * the end every guarded counter must equal the sum of the increments the
 * threads made.  The main thread prints status lines, watches for stalls
 * and long holds, and prints the verdict.
 */
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ft/lock.h"
#include "stress.h"

#define LT_NAME		"lock-torture"
#define LT_MAX_THREADS	512
#define LT_MAX_TARGETS	8
#define LT_DEFAULT_KINDS "spinlock,bit_spin_lock,rwsem,seqcount"
/* Bits 0..LT_FLIP_BITS-1 of a bit lock's word are flipped without the lock. */
#define LT_FLIP_BITS	FT_LK_BITNUM
#define LT_GUARDED_BIT	62	/* flipped only under the lock */
#define LT_STREAM	0x6c6f636bULL	/* "lock": this mode's stream family */

struct lt_params {
	char kinds[256];
	u64 threads;
	u64 duration_ns;
	u64 seed;
	u64 stat_interval_ns;
	u64 stall_timeout_ns;
	u64 hold_limit_ns;
	u64 long_hold_ns;
	bool lockdep;
	bool nested;
	bool quiet;
};

/* One lock under test, with the state it guards. */
struct lt_target {
	const char *name;
	const struct ft_lock_kind *kind;	/* NULL: the seqcount target */
	void *lock;
	spinlock_t seq_lock;		/* serializes seqcount writers */
	seqcount_t seq;
	int writer_in, readers_in;	/* atomics: the exclusion oracle */
	long counter, a, b;		/* plain, guarded by the lock */
	unsigned long seq_x, seq_y;	/* READ_ONCE data under the seqcount */
	bool guarded_bit;		/* expected LT_GUARDED_BIT, under lock */
};

/* The mm-shaped nest of locks for the validator. */
struct lt_nest {
	struct rw_semaphore mmap_lock[2];
	spinlock_t ptl[2];
	unsigned long mm_ids;
	long counter;			/* guarded by the mm_ids bit lock */
};

/* Per-thread statistics: written by the owner, read by the status line. */
struct lt_stats {
	u64 n_write, n_read, n_fail, n_try_fail;
};

struct lt_thread {
	struct lock_torture *lt;
	int id;
	pthread_t pthread;
	struct ft_random_state rs;
	u64 ops;			/* progress, for the stall watchdog */
	u64 n_nested;
	bool flip_state[LT_MAX_TARGETS];	/* my bit of each shared word */
	struct lt_stats stats[LT_MAX_TARGETS];
};

struct lock_torture {
	struct lt_params p;
	struct lt_target targets[LT_MAX_TARGETS];
	int nr_targets;
	struct lt_nest nest;
	struct lt_thread *threads;
	int stop;
};

DEFINE_BIT_SPIN_CLASS(lt_mapcount_class, "lt_mapcount");

static volatile sig_atomic_t lt_signalled;

static void stat_inc(u64 *p)
{
	WRITE_ONCE(*p, *p + 1);
}

/* ---- The critical sections and their oracles -------------------------------- */

/*
 * locktorture's write delay: mostly short, now and then a yield, and one
 * write in 2048 a long hold (--long-hold, locktorture's long_hold): a
 * preempted holder that makes the others wait.
 */
static void hold_delay(struct lt_thread *th)
{
	struct ft_random_state *rs = &th->rs;
	u64 r = ft_random_below(rs, 2048);

	if (r == 0)
		ft_sleep_ns(th->lt->p.long_hold_ns);
	else if (r < 16)
		sched_yield();
	else
		for (u64 i = 0; i < r % 64; i++)
			cpu_relax();
}

static void write_section(struct lt_thread *th, int ti)
{
	struct lt_target *t = &th->lt->targets[ti];
	struct lt_stats *st = &th->stats[ti];

	if (__atomic_fetch_add(&t->writer_in, 1, __ATOMIC_ACQ_REL) ||
	    __atomic_load_n(&t->readers_in, __ATOMIC_ACQUIRE))
		stat_inc(&st->n_fail);
	t->a++;
	hold_delay(th);
	t->b++;
	t->counter++;
	if (t->kind && (t->kind->caps & FT_LK_SHARED_WORD)) {
		bool was = __atomic_fetch_xor((unsigned long *)t->lock,
					      BIT(LT_GUARDED_BIT),
					      __ATOMIC_RELAXED) & BIT(LT_GUARDED_BIT);

		if (was != t->guarded_bit)
			stat_inc(&st->n_fail);
		t->guarded_bit = !was;
	}
	__atomic_fetch_sub(&t->writer_in, 1, __ATOMIC_ACQ_REL);
	stat_inc(&st->n_write);
}

static void read_section(struct lt_thread *th, int ti)
{
	struct lt_target *t = &th->lt->targets[ti];
	struct lt_stats *st = &th->stats[ti];

	__atomic_fetch_add(&t->readers_in, 1, __ATOMIC_ACQ_REL);
	if (__atomic_load_n(&t->writer_in, __ATOMIC_ACQUIRE) || t->a != t->b)
		stat_inc(&st->n_fail);
	__atomic_fetch_sub(&t->readers_in, 1, __ATOMIC_ACQ_REL);
	stat_inc(&st->n_read);
}

static void lock_op(struct lt_thread *th, int ti)
{
	struct lt_target *t = &th->lt->targets[ti];
	const struct ft_lock_kind *k = t->kind;
	struct ft_random_state *rs = &th->rs;
	u64 r = ft_random_below(rs, 16);

	if ((k->caps & FT_LK_READERS) && r < 6) {
		if (r == 0 && !k->read_trylock(t->lock, LOCK_SITE())) {
			stat_inc(&th->stats[ti].n_try_fail);
			return;
		}
		if (r != 0)
			k->read_lock(t->lock, LOCK_SITE());
		read_section(th, ti);
		k->read_unlock(t->lock, LOCK_SITE());
		return;
	}
	if (r == 6) {
		if (!k->trylock(t->lock, LOCK_SITE())) {
			stat_inc(&th->stats[ti].n_try_fail);
			return;
		}
	} else {
		k->lock(t->lock, LOCK_SITE());
	}
	if (k->assert_held)
		k->assert_held(t->lock, LOCK_SITE());
	write_section(th, ti);
	if ((k->caps & FT_LK_DOWNGRADE) && r == 7) {
		k->downgrade(t->lock, LOCK_SITE());
		read_section(th, ti);
		k->read_unlock(t->lock, LOCK_SITE());
		return;
	}
	k->unlock(t->lock, LOCK_SITE());
}

static void seqcount_op(struct lt_thread *th, int ti)
{
	struct lt_target *t = &th->lt->targets[ti];
	struct lt_stats *st = &th->stats[ti];
	unsigned long x, y;
	unsigned int seq;

	if (ft_random_below(&th->rs, 4) == 0) {
		spin_lock(&t->seq_lock);
		write_seqcount_begin(&t->seq);
		WRITE_ONCE(t->seq_x, t->seq_x + 1);
		hold_delay(th);
		WRITE_ONCE(t->seq_y, t->seq_y + 1);
		t->counter++;
		write_seqcount_end(&t->seq);
		spin_unlock(&t->seq_lock);
		stat_inc(&st->n_write);
		return;
	}
	do {
		seq = read_seqcount_begin(&t->seq);
		x = READ_ONCE(t->seq_x);
		y = READ_ONCE(t->seq_y);
	} while (read_seqcount_retry(&t->seq, seq));
	if (x != y)
		stat_inc(&st->n_fail);
	stat_inc(&st->n_read);
}

/* A shared word's free bits stay usable: flip my own bit atomically. */
static void flip_op(struct lt_thread *th, int ti)
{
	struct lt_target *t = &th->lt->targets[ti];
	unsigned long bit = BIT(th->id);
	bool was = __atomic_fetch_xor((unsigned long *)t->lock, bit,
				      __ATOMIC_RELAXED) & bit;

	if (was != th->flip_state[ti])	/* someone lost my last flip */
		stat_inc(&th->stats[ti].n_fail);
	th->flip_state[ti] = !was;
}

/* The fault path's order: mmap_lock (read) -> PTL -> mapcount bit lock. */
static void nest_fault(struct lt_nest *n)
{
	down_read(&n->mmap_lock[0]);
	spin_lock(&n->ptl[0]);
	bit_spin_lock_class(FT_LK_BITNUM, &n->mm_ids, &lt_mapcount_class);
	lockdep_assert_held(&n->ptl[0]);
	lockdep_assert_bit_held(FT_LK_BITNUM, &n->mm_ids, &lt_mapcount_class);
	n->counter++;
	bit_spin_unlock_class(FT_LK_BITNUM, &n->mm_ids, &lt_mapcount_class);
	spin_unlock(&n->ptl[0]);
	up_read(&n->mmap_lock[0]);
}

/* fork's order: both mmap_locks, dst PTL, src PTL nested, bit lock;
 * released out of LIFO order, which the validator must accept. */
static void nest_fork(struct lt_nest *n)
{
	down_write(&n->mmap_lock[0]);
	down_write_nested(&n->mmap_lock[1], SINGLE_DEPTH_NESTING);
	spin_lock(&n->ptl[1]);
	spin_lock_nested(&n->ptl[0], SINGLE_DEPTH_NESTING);
	bit_spin_lock_class(FT_LK_BITNUM, &n->mm_ids, &lt_mapcount_class);
	n->counter++;
	bit_spin_unlock_class(FT_LK_BITNUM, &n->mm_ids, &lt_mapcount_class);
	spin_unlock(&n->ptl[1]);
	spin_unlock(&n->ptl[0]);
	downgrade_write(&n->mmap_lock[1]);
	up_read(&n->mmap_lock[1]);
	up_write(&n->mmap_lock[0]);
}

static void *lt_worker(void *arg)
{
	struct lt_thread *th = arg;
	struct lock_torture *lt = th->lt;
	char name[16];

	snprintf(name, sizeof(name), "lt-%d", th->id);
	pthread_setname_np(pthread_self(), name);
	while (!__atomic_load_n(&lt->stop, __ATOMIC_RELAXED)) {
		int ti = (int)ft_random_below(&th->rs, lt->nr_targets);
		struct lt_target *t = &lt->targets[ti];
		u64 r = ft_random_below(&th->rs, 64);

		if (lt->p.nested && r == 0) {
			if (ft_random_below(&th->rs, 4))
				nest_fault(&lt->nest);
			else
				nest_fork(&lt->nest);
			WRITE_ONCE(th->n_nested, th->n_nested + 1);
		} else if (!t->kind) {
			seqcount_op(th, ti);
		} else if ((t->kind->caps & FT_LK_SHARED_WORD) &&
			   th->id < LT_FLIP_BITS && r < 8) {
			flip_op(th, ti);
		} else {
			lock_op(th, ti);
		}
		lockdep_sys_exit();
		WRITE_ONCE(th->ops, th->ops + 1);
	}
	return NULL;
}

/* ---- Set-up, status lines and verdict ------------------------------------------ */

static void print_params(FILE *out, const struct lt_params *p)
{
	char d[32], si[32], st[32], hl[32], lh[32];

	fprintf(out, "--kind=%s --threads=%llu --duration=%s --seed=0x%llx "
		"--stat-interval=%s --stall-timeout=%s --hold-limit=%s "
		"--long-hold=%s%s%s",
		p->kinds, (unsigned long long)p->threads,
		ft_format_duration(p->duration_ns, d, sizeof(d)),
		(unsigned long long)p->seed,
		ft_format_duration(p->stat_interval_ns, si, sizeof(si)),
		ft_format_duration(p->stall_timeout_ns, st, sizeof(st)),
		ft_format_duration(p->hold_limit_ns, hl, sizeof(hl)),
		ft_format_duration(p->long_hold_ns, lh, sizeof(lh)),
		p->lockdep ? "" : " --no-lockdep", p->nested ? "" : " --no-nested");
}

static void print_repro(FILE *out, const struct lt_params *p)
{
	fprintf(out, FT_PROG ": repro: " FT_PROG " --lock-torture ");
	print_params(out, p);
	fprintf(out, "\n");
}

static void lt_die_notifier(int code, void *arg)
{
	struct lock_torture *lt = arg;
	static const char *const why[] = {
		[FT_EXIT_INVARIANT] = "invariant failure",
		[FT_EXIT_SPLAT] = "lock-model splat",
		[FT_EXIT_STALL] = "stall",
	};

	fprintf(stderr, LT_NAME ":--- End of test: FAILURE (%s): ",
		code < (int)ARRAY_SIZE(why) && why[code] ? why[code] : "fatal");
	print_params(stderr, &lt->p);
	fprintf(stderr, "\n");
	print_repro(stderr, &lt->p);
}

static int add_target(struct lock_torture *lt, const char *name)
{
	struct lt_target *t = &lt->targets[lt->nr_targets];

	for (int i = 0; i < lt->nr_targets; i++) {
		if (!strcmp(lt->targets[i].name, name))
			return ft_usage_error("--kind: '%s' given twice", name);
	}
	if (lt->nr_targets == LT_MAX_TARGETS)
		return ft_usage_error("--kind: more than %d kinds", LT_MAX_TARGETS);
	if (!strcmp(name, "seqcount")) {
		t->name = "seqcount";
		spin_lock_init(&t->seq_lock);
		seqcount_init(&t->seq);
	} else {
		t->kind = ft_lock_kind_find(name);
		if (!t->kind) {
			fprintf(stderr, FT_PROG ": --kind: unknown kind '%s'; valid:", name);
			for (int i = 0; ft_lock_kinds[i]; i++)
				fprintf(stderr, " %s", ft_lock_kinds[i]->name);
			fprintf(stderr, " seqcount\n");
			return FT_EXIT_USAGE;
		}
		t->name = t->kind->name;
		t->lock = calloc(1, t->kind->size);
		if (!t->lock)
			return ft_usage_error("out of memory");
		t->kind->init(t->lock);
	}
	lt->nr_targets++;
	return 0;
}

static int setup_targets(struct lock_torture *lt)
{
	char list[sizeof(lt->p.kinds)];
	char *cur = list, *name;
	int ret;

	memcpy(list, lt->p.kinds, sizeof(list));
	while ((name = ft_list_next(&cur))) {
		if (!*name)
			return ft_opt_list_empty("kind", lt->p.kinds);
		ret = add_target(lt, name);
		if (ret)
			return ret;
	}
	for (int i = 0; i < 2; i++) {
		init_rwsem(&lt->nest.mmap_lock[i]);
		spin_lock_init(&lt->nest.ptl[i]);
	}
	return 0;
}

static void sum_stats(const struct lock_torture *lt, int ti, struct lt_stats *sum,
		      u64 *max, u64 *min)
{
	*sum = (struct lt_stats){ 0 };
	*max = 0;
	*min = UINT64_MAX;
	for (u64 i = 0; i < lt->p.threads; i++) {
		const struct lt_stats *s = &lt->threads[i].stats[ti];
		u64 n = READ_ONCE(s->n_write) + READ_ONCE(s->n_read);

		sum->n_write += READ_ONCE(s->n_write);
		sum->n_read += READ_ONCE(s->n_read);
		sum->n_fail += READ_ONCE(s->n_fail);
		sum->n_try_fail += READ_ONCE(s->n_try_fail);
		*max = max(*max, n);
		*min = min(*min, n);
	}
}

static u64 nested_total(const struct lock_torture *lt)
{
	u64 n = 0;

	for (u64 i = 0; i < lt->p.threads; i++)
		n += READ_ONCE(lt->threads[i].n_nested);
	return n;
}

/* locktorture's status lines: "???" when unfair, "!!!" on failure. */
static void print_stats(const struct lock_torture *lt, u64 elapsed_ns)
{
	unsigned long long t = elapsed_ns / NSEC_PER_SEC;

	for (int ti = 0; ti < lt->nr_targets; ti++) {
		const struct lt_target *tg = &lt->targets[ti];
		struct lt_stats s;
		u64 max, min;

		sum_stats(lt, ti, &s, &max, &min);
		printf(LT_NAME ": %llus %-13s Writes: %10llu", t, tg->name,
		       (unsigned long long)s.n_write);
		if (!tg->kind || (tg->kind->caps & FT_LK_READERS))
			printf("  Reads: %10llu", (unsigned long long)s.n_read);
		if (tg->kind)
			printf("  Trylock-fail: %8llu",
			       (unsigned long long)s.n_try_fail);
		printf("  Max/Min: %llu/%llu %s Fail: %llu%s\n",
		       (unsigned long long)max, (unsigned long long)min,
		       max / 2 > min ? "???" : "", (unsigned long long)s.n_fail,
		       s.n_fail ? " !!!" : "");
	}
	if (lt->p.nested)
		printf(LT_NAME ": %llus %-13s Taken: %10llu\n", t, "nested",
		       (unsigned long long)nested_total(lt));
	fflush(stdout);
}

/* No progress by some thread for stall_timeout: dump and end the run. */
static void watchdog(struct lock_torture *lt, u64 *last_ops, u64 *last_change,
		     u64 now)
{
	for (u64 i = 0; i < lt->p.threads; i++) {
		u64 ops = READ_ONCE(lt->threads[i].ops);

		if (ops != last_ops[i]) {
			last_ops[i] = ops;
			last_change[i] = now;
		} else if (now - last_change[i] > lt->p.stall_timeout_ns) {
			fprintf(stderr, LT_NAME ": ??? lt-%llu made no progress "
				"for %llu ms\n", (unsigned long long)i,
				(unsigned long long)((now - last_change[i]) / NSEC_PER_MSEC));
			debug_show_all_locks(stderr);
			ft_die(FT_EXIT_STALL);
		}
	}
	if (lockdep_scan_hold_times(lt->p.hold_limit_ns, stderr)) {
		debug_show_all_locks(stderr);
		ft_die(FT_EXIT_STALL);
	}
}

static void on_signal(int sig)
{
	lt_signalled = sig;
}

/* Until --duration; 0, or the signal that stopped it first. */
static int run_main_loop(struct lock_torture *lt)
{
	u64 start = ft_now_ns(), next_stat = start + lt->p.stat_interval_ns;
	u64 *last_ops = calloc(lt->p.threads, sizeof(u64));
	u64 *last_change = calloc(lt->p.threads, sizeof(u64));
	struct sigaction sa = { .sa_handler = on_signal };
	int sig = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (u64 i = 0; i < lt->p.threads; i++)
		last_change[i] = start;
	while (!(sig = lt_signalled)) {
		u64 now = ft_now_ns();

		if (now - start >= lt->p.duration_ns)
			break;
		if (now >= next_stat) {
			if (!lt->p.quiet)
				print_stats(lt, now - start);
			next_stat += lt->p.stat_interval_ns;
		}
		watchdog(lt, last_ops, last_change, now);
		ft_sleep_ns(min(50 * NSEC_PER_MSEC, lt->p.duration_ns - (now - start)));
	}
	free(last_ops);
	free(last_change);
	return sig;
}

/* The exactness oracle: every increment made under the lock survived. */
static u64 check_counters(const struct lock_torture *lt)
{
	u64 bad = 0;

	for (int ti = 0; ti < lt->nr_targets; ti++) {
		struct lt_stats s;
		u64 max, min;

		sum_stats(lt, ti, &s, &max, &min);
		if ((u64)lt->targets[ti].counter != s.n_write) {
			printf(LT_NAME ": !!! %s: guarded counter %ld, but %llu "
			       "writes were made\n", lt->targets[ti].name,
			       lt->targets[ti].counter, (unsigned long long)s.n_write);
			bad++;
		}
		bad += s.n_fail;
	}
	if (lt->p.nested) {
		u64 n = nested_total(lt);

		if ((u64)lt->nest.counter != n) {
			printf(LT_NAME ": !!! nested: guarded counter %ld, but %llu "
			       "nests were taken\n", lt->nest.counter,
			       (unsigned long long)n);
			bad++;
		}
	}
	return bad;
}

static void lt_free(struct lock_torture *lt)
{
	for (int ti = 0; ti < lt->nr_targets; ti++)
		free(lt->targets[ti].lock);
	free(lt->threads);
	free(lt);
}

static void stop_and_join(struct lock_torture *lt, u64 nr)
{
	__atomic_store_n(&lt->stop, 1, __ATOMIC_RELAXED);
	for (u64 i = 0; i < nr; i++)
		pthread_join(lt->threads[i].pthread, NULL);
}

static int start_threads(struct lock_torture *lt)
{
	lt->threads = calloc(lt->p.threads, sizeof(*lt->threads));
	if (!lt->threads)
		return ft_usage_error("out of memory");
	for (u64 i = 0; i < lt->p.threads; i++) {
		struct lt_thread *th = &lt->threads[i];

		th->lt = lt;
		th->id = (int)i;
		ft_random_init(&th->rs, lt->p.seed, LT_STREAM, i, 0);
		if (pthread_create(&th->pthread, NULL, lt_worker, th)) {
			stop_and_join(lt, i);
			return ft_usage_error("cannot create thread %llu",
					      (unsigned long long)i);
		}
	}
	return 0;
}

static int run(struct lock_torture *lt)
{
	u64 bad, start;
	int ret, sig;

	ret = setup_targets(lt);	/* validates --kind: before the repro line */
	if (ret)
		return ret;
	print_repro(stdout, &lt->p);
	printf(LT_NAME ":--- Start of test: ");
	print_params(stdout, &lt->p);
	printf("\n");
	fflush(stdout);
	ft_die_notifier_register(lt_die_notifier, lt);
	lockdep_set_enabled(lt->p.lockdep);
	lockdep_set_stall_timeout(lt->p.stall_timeout_ns);

	start = ft_now_ns();
	ret = start_threads(lt);
	if (ret)
		return ret;
	sig = run_main_loop(lt);
	stop_and_join(lt, lt->p.threads);

	print_stats(lt, ft_now_ns() - start);
	bad = check_counters(lt);
	if (sig && !bad)
		printf(LT_NAME ": stopped by signal %d after %.1f s of --duration\n", sig,
		       (double)(ft_now_ns() - start) / NSEC_PER_SEC);
	printf(LT_NAME ":--- End of test: %s: ", bad ? "FAILURE" : sig ? "INTERRUPTED" :
	       "SUCCESS");
	print_params(stdout, &lt->p);
	printf("\n");
	if (bad)
		print_repro(stdout, &lt->p);
	return bad ? FT_EXIT_INVARIANT : sig ? FT_EXIT_INTERRUPTED : FT_EXIT_SUCCESS;
}

/* ---- Options ------------------------------------------------------------------- */

static void usage(void)
{
	printf("usage: " FT_PROG " --lock-torture [options]\n"
	       "  --kind=LIST          lock kinds, comma-separated (default "
	       LT_DEFAULT_KINDS ";\n"
	       "                       'busted' is the negative control)\n"
	       "  --threads=N          worker threads, 1..%d (default 4)\n"
	       "  --duration=D         run time, e.g. 30s, 10m (default 30s)\n"
	       "  --seed=S             seed (default: from the clock, printed)\n"
	       "  --stat-interval=D    status line period (default 5s)\n"
	       "  --stall-timeout=D    no progress or a lock wait this long is a "
	       "stall (default 30s)\n"
	       "  --hold-limit=D       a lock held this long is a stall (default 10s)\n"
	       "  --long-hold=D        one write in 2048 holds the lock this long\n"
	       "                       (default 100us; locktorture's long_hold)\n"
	       "  --no-lockdep         run without the validator\n"
	       "  --no-nested          skip the mm-shaped lock nests\n"
	       "  -q, --quiet          no status lines\n", LT_MAX_THREADS);
}

enum {
	OPT_KIND = 256, OPT_THREADS, OPT_DURATION, OPT_SEED, OPT_STAT,
	OPT_STALL, OPT_HOLD, OPT_LONG_HOLD, OPT_NO_LOCKDEP, OPT_NO_NESTED,
	OPT_HELP,
};

static const struct option lt_options[] = {
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "stat-interval", required_argument, NULL, OPT_STAT },
	{ "stall-timeout", required_argument, NULL, OPT_STALL },
	{ "hold-limit", required_argument, NULL, OPT_HOLD },
	{ "long-hold", required_argument, NULL, OPT_LONG_HOLD },
	{ "no-lockdep", no_argument, NULL, OPT_NO_LOCKDEP },
	{ "no-nested", no_argument, NULL, OPT_NO_NESTED },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int parse_option(struct lt_params *p, int opt, char **argv)
{
	const u64 ms = NSEC_PER_MSEC;

	switch (opt) {
	case OPT_KIND:
		if (strlen(optarg) >= sizeof(p->kinds))
			return ft_usage_error("--kind: list too long");
		strcpy(p->kinds, optarg);
		return 0;
	case OPT_THREADS:
		return ft_opt_u64("threads", optarg, 1, LT_MAX_THREADS, &p->threads);
	case OPT_DURATION:
		return ft_opt_duration("duration", optarg, 100 * ms, &p->duration_ns);
	case OPT_SEED:
		return ft_opt_u64("seed", optarg, 0, UINT64_MAX, &p->seed);
	case OPT_STAT:
		return ft_opt_duration("stat-interval", optarg, 100 * ms,
				       &p->stat_interval_ns);
	case OPT_STALL:
		return ft_opt_duration("stall-timeout", optarg, 100 * ms,
				       &p->stall_timeout_ns);
	case OPT_HOLD:
		return ft_opt_duration("hold-limit", optarg, 100 * ms,
				       &p->hold_limit_ns);
	case OPT_LONG_HOLD:
		return ft_opt_duration("long-hold", optarg, 0, &p->long_hold_ns);
	case OPT_NO_LOCKDEP:
		p->lockdep = false;
		return 0;
	case OPT_NO_NESTED:
		p->nested = false;
		return 0;
	case 'q':
		p->quiet = true;
		return 0;
	default:
		return ft_bad_option(opt, argv);
	}
}

int cmd_lock_torture(int argc, char **argv)
{
	struct lock_torture *lt = calloc(1, sizeof(*lt));
	struct lt_params *p;
	int opt, ret;

	if (!lt)
		return ft_usage_error("out of memory");
	p = &lt->p;
	*p = (struct lt_params){
		.kinds = LT_DEFAULT_KINDS, .threads = 4,
		.duration_ns = 30 * NSEC_PER_SEC, .seed = ft_seed_from_clock(),
		.stat_interval_ns = 5 * NSEC_PER_SEC,
		.stall_timeout_ns = 30 * NSEC_PER_SEC,
		.hold_limit_ns = 10 * NSEC_PER_SEC,
		.long_hold_ns = 100 * NSEC_PER_USEC, .lockdep = true, .nested = true,
	};
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":qh", lt_options, NULL)) != -1) {
		if (opt == OPT_HELP || opt == 'h') {
			usage();
			lt_free(lt);
			return FT_EXIT_SUCCESS;
		}
		ret = parse_option(p, opt, argv);
		if (ret) {
			lt_free(lt);
			return ret;
		}
	}
	if (optind < argc) {
		lt_free(lt);
		return ft_usage_error("unexpected argument '%s'", argv[optind]);
	}
	ret = run(lt);
	lt_free(lt);
	return ret;
}

int cmd_list_lock_kinds(int argc, char **argv)
{
	if (argc > 1)
		return ft_usage_error("--list-lock-kinds takes no options");
	for (int i = 0; ft_lock_kinds[i]; i++)
		printf("%-16s %s\n", ft_lock_kinds[i]->name, ft_lock_kinds[i]->desc);
	printf("%-16s %s\n", "seqcount",
	       "seqcount_t (mm->write_protect_seq), writers under a spinlock");
	return FT_EXIT_SUCCESS;
}
