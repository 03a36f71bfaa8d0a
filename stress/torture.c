// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mm torture run, foliotorture's default mode.
 *
 * The main thread sets up the world and a population of processes, starts
 * the workers (torture_ops.c), and then only watches: status lines, the
 * stop-the-world audit every --audit-interval with the workers parked at
 * their quiescent point, the stall watchdog, SIGINT/SIGTERM.  At the end
 * every process exits and the run must leave nothing behind: no folio, no
 * mm id, no held lock.  The first oracle failure ends the run from the
 * thread that saw it (ft_report fatal mode), through the die notifier
 * here, which prints the flight recorders and the repro line.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft/lock.h"
#include "ft/mapcount.h"
#include "ft/report.h"
#include "ft/swap.h"
#include "ft/zoo.h"
#include "torture.h"

#define TICK_NS		(20 * NSEC_PER_MSEC)

static volatile sig_atomic_t tt_signalled;

static void on_signal(int sig)
{
	tt_signalled = sig;
}

static const char *exit_reason(int code)
{
	switch (code) {
	case FT_EXIT_SUCCESS:
		return "success";
	case FT_EXIT_INVARIANT:
		return "invariant failure";
	case FT_EXIT_SPLAT:
		return "lock-model splat";
	case FT_EXIT_STALL:
		return "stall";
	default:
		return "fatal";
	}
}

static const char *verdict(int code)
{
	return !code ? "SUCCESS" : code == FT_EXIT_INTERRUPTED ? "INTERRUPTED" : "FAILURE";
}

static void print_banner(struct torture *t, FILE *out, int code)
{
	fprintf(out, TT_NAME ":--- End of test: %s", verdict(code));
	if (code && code != FT_EXIT_INTERRUPTED)
		fprintf(out, " (%s)", exit_reason(code));
	fprintf(out, ": ");
	tt_print_params(out, &t->p);
	fprintf(out, "\n");
}

/* A ThreadSanitizer report seen by the run: its step (serial mode). */
static struct {
	int seen;			/* atomic */
	u64 step;
} tsan_report;

static u64 busiest_worker_ops(struct torture *t)
{
	u64 n = 0;

	for (u64 i = 0; t->threads && i < t->p.threads; i++)
		n = max(n, READ_ONCE(t->threads[i].op_index));
	return n;
}

/* Who saw the failure: the worker this thread is, and the operation it
 * was in, its last reference to the process included (none if it was
 * between two, at an audit for instance). */
static void get_detector(struct torture *t, struct tt_outcome *o)
{
	struct ft_sched *s = ft_sched_current();
	struct tt_record *r;
	struct tt_thread *th;

	o->worker = -1;
	o->op = -1;
	if (!s || !t->threads || s < &t->threads[0].sched ||
	    s > &t->threads[t->p.threads - 1].sched)
		return;
	th = container_of(s, struct tt_thread, sched);
	o->worker = th->id;
	o->op_index = READ_ONCE(th->op_index);
	r = &th->rec[o->op_index % TT_RECORDER];
	if (READ_ONCE(r->index) == o->op_index)
		o->op = (int)READ_ONCE(r->op);
}

/* The run's outcome as its repro file and its JSON results state it. */
static void get_outcome(struct torture *t, int code, struct tt_outcome *o)
{
	const char *why = code == FT_EXIT_INVARIANT ? ft_report_first() : ft_die_reason();
	const char *msg = code == FT_EXIT_INVARIANT ? ft_report_first_msg() : why;
	bool failed = code && code != FT_EXIT_INTERRUPTED;

	/* A TSan report came first, and TSan's exit code 66 wins at exit
	 * (halt_on_error=0 lets the run go on to other failures). */
	if (code != FT_EXIT_TSAN && __atomic_load_n(&tsan_report.seen, __ATOMIC_ACQUIRE)) {
		get_outcome(t, FT_EXIT_TSAN, o);
		o->step = tsan_report.step;
		return;
	}
	if (code == FT_EXIT_TSAN)
		why = msg = FT_ORACLE_TSAN;

	*o = (struct tt_outcome){
		.outcome = failed ? TT_OUTCOME_FAILURE : code ? TT_OUTCOME_INTERRUPTED :
			   TT_OUTCOME_SUCCESS,
		.exit_code = code,
		.step = t->p.serial ? ft_serial_steps() : 0,
		.elapsed_ns = t->start_ns ? ft_now_ns() - t->start_ns : 0,
	};
	if (failed) {
		snprintf(o->invariant, sizeof(o->invariant), "%s",
			 why ? why : code == FT_EXIT_INVARIANT ? "end-of-run check" :
			 exit_reason(code));
		snprintf(o->message, sizeof(o->message), "%s", msg ? msg : o->invariant);
	}
	get_detector(t, o);
	/* A failing worker is inside operation op_index: one more started
	 * (for the others an upper bound, enough for --max-ops). */
	o->ops = busiest_worker_ops(t) + failed;
}

/* "detected by ft-2 in fork (operation #812)", for the failure report. */
static void print_detector(const struct tt_outcome *o, FILE *out)
{
	if (o->worker < 0)
		fprintf(out, TT_NAME ": detected by the main thread (audit, watchdog or "
			"end-of-run checks)\n");
	else if (o->op < 0)
		fprintf(out, TT_NAME ": detected by ft-%d between operations (before #%llu)\n",
			o->worker, (unsigned long long)o->op_index);
	else
		fprintf(out, TT_NAME ": detected by ft-%d in %s (operation #%llu)\n",
			o->worker, tt_op_names[o->op], (unsigned long long)o->op_index);
}

/*
 * --replay: did the run fail as the file says, at the same step?  Returns
 * the exit code: the run's own if it did (or if the file is no failure),
 * FT_EXIT_NOT_REPRODUCED if it did not.
 */
static int replay_verdict(struct torture *t, const struct tt_outcome *o, FILE *out)
{
	const struct tt_repro *r = t->expect;
	bool same;

	if (!r || r->outcome != TT_OUTCOME_FAILURE || o->outcome == TT_OUTCOME_INTERRUPTED)
		return o->exit_code;
	same = o->exit_code == r->exit_code && !strcmp(o->invariant, r->invariant) &&
	       (!r->step || o->step == r->step);
	fprintf(out, TT_NAME ": replay: %s: expected '%s' (exit %d) at step %llu, "
		"got '%s' (exit %d) at step %llu\n", same ? "REPRODUCED" : "NOT REPRODUCED",
		r->invariant, r->exit_code, (unsigned long long)r->step,
		o->invariant[0] ? o->invariant : "success", o->exit_code,
		(unsigned long long)o->step);
	return same ? o->exit_code : FT_EXIT_NOT_REPRODUCED;
}

/*
 * The repro file says how the run ended.  One that found nothing is
 * removed unless --repro-file asked for it: it would only be mistaken for
 * a failure's.
 */
static void write_repro(struct torture *t, const struct tt_outcome *o)
{
	bool found = o->outcome == TT_OUTCOME_FAILURE || o->outcome == TT_OUTCOME_RUNNING;

	if (!found && !t->p.repro_asked) {
		if (t->p.repro_file[0])
			unlink(t->p.repro_file);
		return;
	}
	if (tt_repro_write(t->p.repro_file, &t->p, o))
		fprintf(stderr, TT_NAME ": cannot write the repro file '%s'\n",
			t->p.repro_file);
}

#if FT_TSAN
static struct torture *tsan_torture;	/* the run a report belongs to */

/*
 * ThreadSanitizer's report hook (a weak symbol of its runtime, ours
 * overrides it): a report is a failure like an oracle's, so the repro
 * file says so before halt_on_error=1 ends the process.
 */
void __tsan_on_report(const void *report);
void __tsan_on_report(const void *report)
{
	struct torture *t = __atomic_load_n(&tsan_torture, __ATOMIC_ACQUIRE);
	struct tt_outcome o;

	(void)report;
	if (!t || __atomic_exchange_n(&tsan_report.seen, 1, __ATOMIC_ACQ_REL))
		return;
	get_outcome(t, FT_EXIT_TSAN, &o);
	tsan_report.step = o.step;
	if (t->p.serial)
		fprintf(stderr, TT_NAME ": serial scheduler: '%s' at step %llu\n",
			o.invariant, (unsigned long long)o.step);
	tt_print_repro(stderr, &t->p);
	write_repro(t, &o);
	replay_verdict(t, &o, stderr);
}

static void tsan_watch(struct torture *t)
{
	__atomic_store_n(&tsan_torture, t, __ATOMIC_RELEASE);
}
#else
static void tsan_watch(struct torture *t)
{
	(void)t;
}
#endif

/* The dying thread, on the first fatal failure anywhere. */
static void tt_die_notifier(int code, void *arg)
{
	struct torture *t = arg;
	struct tt_outcome o;
	int exit_code;

	get_outcome(t, code, &o);	/* the step first: it is exact now */
	fflush(stdout);
	if (code != FT_EXIT_STALL)	/* a stall has shown them already */
		debug_show_all_locks(stderr);
	tt_dump_recorders(t, stderr);
	if (t->p.serial)
		fprintf(stderr, TT_NAME ": serial scheduler: '%s' at step %llu\n",
			o.invariant, (unsigned long long)o.step);
	print_detector(&o, stderr);
	print_banner(t, stderr, code);
	tt_print_repro(stderr, &t->p);
	write_repro(t, &o);
	exit_code = replay_verdict(t, &o, stderr);
	tt_write_json(t, &o, exit_code);
	if (exit_code != code) {	/* ft_die() exits with the failure's */
		fflush(stderr);
		_exit(exit_code);
	}
}

/* ---- Set-up --------------------------------------------------------------------------- */

static int enable_injections(const struct tt_params *p)
{
	char list[sizeof(p->inject)], *save, *tok;

	strcpy(list, p->inject);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (ft_inject_enable(tok))
			return ft_usage_error("--inject: cannot enable '%s'", tok);
	return 0;
}

static int setup_world(struct torture *t)
{
	const struct tt_params *p = &t->p;
	char model[64];
	unsigned long pfns, max_order = (unsigned long)fls64(p->orders) - 1;

	strcpy(model, p->model);
	*strchrnul(model, ',') = '\0';
	t->nr_pages = p->vma_size / PAGE_SIZE;
	t->task_size = ALIGN(TT_VA_BASE + p->vma_size, PMD_SIZE) + PMD_SIZE;
	/* Every process may end up with private copies of every page; pins
	 * and gathers keep folios beyond their processes. */
	pfns = p->max_mms * t->nr_pages * 2 +
	       p->threads * (TT_MAX_PINS + 2) * (1UL << max_order) + 4096;
	pfns = ALIGN(pfns, 1UL << MAX_PAGE_ORDER);
	if (ft_pmem_init(&t->pmem, pfns, ft_mapcount_model_find(model),
			 strchr(p->model, ',') != NULL))
		return ft_usage_error("cannot allocate %lu pages of physical memory", pfns);
	if (ft_world_init(&t->world, &t->pmem, ft_locking_mode_find(p->locking))) {
		t->world.pmem = NULL;		/* nothing for teardown() */
		ft_pmem_destroy(&t->pmem);
		return ft_usage_error("cannot set up the world");
	}
	if (enable_injections(p))
		return FT_EXIT_USAGE;
	t->world.anon_orders = p->orders;
	t->world.gather_capacity = (unsigned int)p->gather_size;
	t->world.no_gather = p->no_gather;
	t->world.tlb = p->tlb;
	t->world.gup_fast_rcu = p->gup_fast_rcu;
	t->world.unmap_hook = tt_unmap_hook;
	for (int i = 0; i < TT_MAX_MMS; i++)
		spin_lock_init(&t->slots[i].lock);
	return 0;
}

/* Half the population to start with; forks fill the rest. */
static int setup_population(struct torture *t)
{
	for (u64 i = 0; i < max(t->p.max_mms / 2, 1ULL); i++) {
		struct tt_proc *proc = tt_proc_create(t);

		if (!proc)
			return ft_usage_error("cannot create the first processes");
		tt_proc_insert(t, proc);
	}
	return 0;
}

static void stop_and_join(struct torture *t, u64 nr)
{
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	for (u64 i = 0; i < nr; i++)
		pthread_join(t->threads[i].pthread, NULL);
}

static int start_serial(struct torture *t)
{
	struct ft_serial_params sp = {
		.nr_threads = (int)t->p.threads, .strategy = t->p.strategy,
		.seed = t->p.sched_seed, .pct_depth = (u32)t->p.pct_depth,
		.pct_steps = t->p.pct_steps,
	};

	t->next_audit_step = t->p.audit_steps;
	return ft_serial_init(&sp);
}

static int start_threads(struct torture *t)
{
	t->threads = calloc(t->p.threads, sizeof(*t->threads));
	if (!t->threads || (t->p.serial && start_serial(t)))
		return ft_usage_error("out of memory");
	/* Every worker's state before the first starts: one that fails at
	 * once dumps them all (the flight recorders). */
	for (u64 i = 0; i < t->p.threads; i++) {
		struct tt_thread *th = &t->threads[i];

		th->t = t;
		th->id = (int)i;
		th->sched = (struct ft_sched){
			.policy = t->p.break_policy,
			.threshold = (unsigned int)t->p.break_threshold,
			.resched_ppm = (u32)t->p.resched_ppm,
			.sites_off = FT_BREAK_SITES_ALL & ~t->p.break_sites,
			.spin_perturb = t->p.perturb == TT_PERTURB_SPIN,
		};
	}
	/* Windows wait to be seen only when someone looks for them: another
	 * worker, aiming. */
	ft_window_set_linger(t->p.aim_ppm > 0 && t->p.threads > 1);
	for (u64 i = 0; i < t->p.threads; i++) {
		struct tt_thread *th = &t->threads[i];

		if (pthread_create(&th->pthread, NULL, tt_worker, th)) {
			stop_and_join(t, i);
			return ft_usage_error("cannot create thread %llu",
					      (unsigned long long)i);
		}
	}
	return 0;
}

/* ---- Audits and the watchdog ---------------------------------------------------------- */

static void stall(struct torture *t, const char *what, int id, u64 ns)
{
	fprintf(stderr, TT_NAME ": ??? ft-%d %s for %llu ms\n", id, what,
		(unsigned long long)(ns / NSEC_PER_MSEC));
	debug_show_all_locks(stderr);
	ft_die(FT_EXIT_STALL);
}

/* Odd generation: park; wait until every worker acknowledged it. */
static void park_workers(struct torture *t)
{
	int gen = __atomic_add_fetch(&t->park, 1, __ATOMIC_ACQ_REL);
	u64 start = ft_now_ns();

	for (u64 i = 0; i < t->p.threads; i++) {
		struct tt_thread *th = &t->threads[i];

		for (u32 step = 0;; step++) {
			int parked = __atomic_load_n(&th->parked, __ATOMIC_ACQUIRE);

			if (parked == gen || parked == -1)
				break;
			/* A signal stops the run, which ends a long hold the
			 * audit would otherwise wait out. */
			if (tt_signalled)
				__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
			if (ft_now_ns() - start > t->p.stall_timeout_ns)
				stall(t, "did not reach a quiescent point", th->id,
				      ft_now_ns() - start);
			ft_wait_step(step);
		}
	}
}

static void unpark_workers(struct torture *t)
{
	__atomic_add_fetch(&t->park, 1, __ATOMIC_ACQ_REL);
}

/* The stop-the-world audit; a failure ends the run inside ft_audit(). */
void tt_audit(struct torture *t)
{
	struct mm_struct *mms[TT_MAX_MMS];
	struct ft_audit_stats st;
	int n;

	n = tt_procs_mms(t, mms);
	if (ft_audit(&t->world, mms, n, &st))
		t->n_audit_failures++;
	t->n_audits++;
	t->n_shared_checked += st.shared_checked;
	t->n_false_positives += st.false_positives;
	t->n_false_negatives += st.false_negatives;
	if (t->p.verbose > 0)
		printf(TT_NAME ": audit %llu: %d mms, %llu PTEs, %llu folios, %llu CONT "
		       "blocks, %llu migration entries\n", (unsigned long long)t->n_audits,
		       n, (unsigned long long)st.ptes, (unsigned long long)st.folios,
		       (unsigned long long)st.cont_blocks,
		       (unsigned long long)st.migration_entries);
}

static void run_audit(struct torture *t)
{
	park_workers(t);
	tt_audit(t);
	unpark_workers(t);
}

static bool all_workers_done(struct torture *t)
{
	for (u64 i = 0; i < t->p.threads; i++)
		if (__atomic_load_n(&t->threads[i].parked, __ATOMIC_ACQUIRE) != -1)
			return false;
	return true;
}

struct watchdog {
	u64 *last_ops, *last_change;
};

static int watchdog_init(struct torture *t, struct watchdog *wd)
{
	wd->last_ops = calloc(t->p.threads, sizeof(u64));
	wd->last_change = calloc(t->p.threads, sizeof(u64));
	if (wd->last_ops && wd->last_change)
		return 0;
	free(wd->last_ops);
	free(wd->last_change);
	return ft_usage_error("out of memory");
}

/* Every worker's last progress counts from @now. */
static void watchdog_restart(struct torture *t, struct watchdog *wd, u64 now)
{
	for (u64 i = 0; i < t->p.threads; i++)
		wd->last_change[i] = now;
}

static void watchdog_free(struct watchdog *wd)
{
	free(wd->last_ops);
	free(wd->last_change);
}

/*
 * Serial mode: PCT may keep a thread off the CPU for as long as others
 * run, and a lock may stay held by a thread that waits its turn; only the
 * whole run standing still is a stall (a livelock included).
 */
static void serial_watchdog(struct torture *t, struct watchdog *wd, u64 now)
{
	u64 ops = tt_total_ops(t);

	if (ops != wd->last_ops[0] || all_workers_done(t)) {
		wd->last_ops[0] = ops;
		wd->last_change[0] = now;
	} else if (now - wd->last_change[0] > t->p.stall_timeout_ns) {
		fprintf(stderr, TT_NAME ": ??? no operation finished for %llu ms "
			"(serial scheduler at step %llu)\n",
			(unsigned long long)((now - wd->last_change[0]) / NSEC_PER_MSEC),
			(unsigned long long)ft_serial_steps());
		debug_show_all_locks(stderr);
		ft_die(FT_EXIT_STALL);
	}
}

static void watchdog(struct torture *t, struct watchdog *wd, u64 now)
{
	if (t->p.serial) {
		serial_watchdog(t, wd, now);
		return;
	}
	for (u64 i = 0; i < t->p.threads; i++) {
		u64 ops = READ_ONCE(t->threads[i].op_index);

		if (ops != wd->last_ops[i] ||
		    __atomic_load_n(&t->threads[i].parked, __ATOMIC_ACQUIRE) == -1) {
			wd->last_ops[i] = ops;
			wd->last_change[i] = now;
		} else if (now - wd->last_change[i] > t->p.stall_timeout_ns) {
			stall(t, "made no progress", (int)i, now - wd->last_change[i]);
		}
	}
	if (lockdep_scan_hold_times(t->p.stall_timeout_ns, stderr)) {
		debug_show_all_locks(stderr);
		ft_die(FT_EXIT_STALL);
	}
}

/* Stop the workers; one that never finishes its operation is a stall. */
static void finish_workers(struct torture *t, struct watchdog *wd)
{
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	watchdog_restart(t, wd, ft_now_ns());
	while (!all_workers_done(t)) {
		watchdog(t, wd, ft_now_ns());
		ft_sleep_ns(TICK_NS);
	}
	stop_and_join(t, t->p.threads);
}

/* Until --duration or every worker's --max-ops; 0, or the signal that
 * stopped it first. */
static int main_loop(struct torture *t, struct watchdog *wd)
{
	const struct tt_params *p = &t->p;
	u64 next_stat = t->start_ns + p->stat_interval_ns;
	u64 next_audit = t->start_ns + p->audit_interval_ns;
	u64 next_progress = t->start_ns + NSEC_PER_SEC;

	watchdog_restart(t, wd, t->start_ns);
	while (!tt_signalled) {
		u64 now = ft_now_ns();

		if (now - t->start_ns >= p->duration_ns || all_workers_done(t))
			return 0;
		if (now >= next_audit && !p->serial) {
			run_audit(t);
			next_audit = ft_now_ns() + p->audit_interval_ns;
		}
		if (now >= next_stat) {
			if (p->verbose >= 0)
				tt_print_status(t, now - t->start_ns);
			next_stat += p->stat_interval_ns;
		}
		if (now >= next_progress && p->verbose >= 0) {
			tt_progress_line(t, now - t->start_ns);
			next_progress += NSEC_PER_SEC;
		}
		watchdog(t, wd, now);
		ft_sleep_ns(TICK_NS);
	}
	return tt_signalled;
}

/* ---- The end -------------------------------------------------------------------------- */

static int fail(const char *fmt, unsigned long long v)
{
	printf(TT_NAME ": !!! ");
	printf(fmt, v);
	printf("\n");
	return 1;
}

/* Everything exits; nothing may be left behind. */
static int end_of_run_checks(struct torture *t)
{
	unsigned long used;
	int bad = 0;

	for (u64 i = 0; i < t->p.threads; i++) {
		t->trace_hash ^= ft_mix64(t->threads[i].trace_hash + i);
		tt_unpin_all(&t->threads[i]);
	}
	tt_procs_exit_all(t);
	/* swapoff: what the swap cache still holds, no entry refers to;
	 * twice, as a dirty folio is written by one pass, freed by the next. */
	for (int pass = 0; pass < 2; pass++)
		ft_shrink_lru(&t->world, t->pmem.lruvec.nr);
	ft_audit(&t->world, NULL, 0, NULL);	/* what is left: the swap device */
	lockdep_sys_exit();
	if (t->pmem.si->inuse_pages)
		bad += fail("%lu swap slots still in use after every process exited",
			    t->pmem.si->inuse_pages);
	used = ft_pmem_nr_used_pages(&t->pmem);
	if (used != 1)		/* the zero page */
		bad += fail("%llu pages still in use after every process exited",
			    used - 1);
	if (t->world.ids.nr_in_use)
		bad += fail("%llu mm ids still in use", t->world.ids.nr_in_use);
	if (ft_report_failures())
		bad += fail("%llu oracle failures", ft_report_failures());
	return bad;
}

/* What an interrupted run asked for and what it did. */
static void print_interrupted(struct torture *t, u64 elapsed_ns)
{
	char want[32];

	printf(TT_NAME ": stopped by signal %d after %.1f s of --duration=%s",
	       t->interrupted, (double)elapsed_ns / NSEC_PER_SEC,
	       ft_format_duration(t->p.duration_ns, want, sizeof(want)));
	if (t->p.max_ops)
		printf(", %llu of --max-ops=%llu operations (the busiest worker)",
		       (unsigned long long)busiest_worker_ops(t),
		       (unsigned long long)t->p.max_ops);
	printf("\n");
}

/* The schedule's figures; PCT's bound with the run's own k. */
static void print_serial_stats(struct torture *t)
{
	u64 ops = tt_total_ops(t);
	struct ft_serial_stats st;

	ft_serial_get_stats(&st);
	printf(TT_NAME ": serial scheduler: %llu steps, %llu switches, %llu blocked waits, "
	       "schedule hash 0x%016llx\n", (unsigned long long)st.steps,
	       (unsigned long long)st.switches, (unsigned long long)st.blocked,
	       (unsigned long long)st.hash);
	if (st.delayed)
		printf(TT_NAME ": serial scheduler: %llu stores delayed "
		       "(ft_store_delayable_add())\n", (unsigned long long)st.delayed);
	if (t->p.strategy != FT_SCHED_PCT)
		return;
	printf(TT_NAME ": PCT: %llu scheduling points for %llu operations, %llu per "
	       "operation (k was estimated with %d)\n", (unsigned long long)st.steps,
	       (unsigned long long)ops, (unsigned long long)(ops ? st.steps / ops : 0),
	       TT_STEPS_PER_OP_ESTIMATE);
	if (st.steps > st.pct_steps) {
		printf(TT_NAME ": ??? PCT: the run took more scheduling points than k=%llu: "
		       "its bound does not hold (give --pct-steps=%llu, or --max-ops)\n",
		       (unsigned long long)st.pct_steps, (unsigned long long)st.steps);
		return;
	}
	printf(TT_NAME ": PCT depth %u: %d threads, %llu scheduling points (change "
	       "points drawn from [1, %llu]): a depth-%u bug is found with "
	       "probability >= 1/(n k^(d-1)) = %.3g\n", st.pct_depth, st.nr_threads,
	       (unsigned long long)st.steps, (unsigned long long)st.pct_steps,
	       st.pct_depth, ft_pct_bound(&st));
}

/*
 * A hold past the stall timeout is a stall: the watchdog's negative control
 * (tests/stress), and a typo otherwise; the run says which to expect.
 */
static void warn_long_hold(struct torture *t)
{
	char hold[32], stall[32];

	if (!t->p.long_hold_ns || t->p.long_hold_ns < t->p.stall_timeout_ns)
		return;
	printf(TT_NAME ": ??? --long-hold=%s is not shorter than --stall-timeout=%s: "
	       "the watchdog will report a stall\n",
	       ft_format_duration(t->p.long_hold_ns, hold, sizeof(hold)),
	       ft_format_duration(t->p.stall_timeout_ns, stall, sizeof(stall)));
}

/* PCT's k without --max-ops nor --pct-steps is a guess: say so first. */
static void warn_pct_guess(struct torture *t)
{
	if (!t->p.serial || t->p.strategy != FT_SCHED_PCT || !t->p.pct_steps_guessed)
		return;
	printf(TT_NAME ": ??? PCT: without --max-ops or --pct-steps, k=%llu is a guess "
	       "(%llu threads x %d operations x %d scheduling points); the end of the run "
	       "says whether it held\n", (unsigned long long)t->p.pct_steps,
	       (unsigned long long)t->p.threads, TT_OPS_ESTIMATE, TT_STEPS_PER_OP_ESTIMATE);
}

static int run(struct torture *t)
{
	struct tt_outcome outcome;
	struct watchdog wd;
	u64 elapsed;
	int ret, code;

	ret = setup_world(t);
	if (ret)
		return ret;
	ret = setup_population(t);
	if (ret)
		return ret;
	tt_print_repro(stdout, &t->p);
	printf(TT_NAME ":--- Start of test: ");
	tt_print_params(stdout, &t->p);
	printf("\n");
	warn_pct_guess(t);
	warn_long_hold(t);
	fflush(stdout);
	write_repro(t, &(struct tt_outcome){ .outcome = TT_OUTCOME_RUNNING });
	ft_die_notifier_register(tt_die_notifier, t);
	tsan_watch(t);
	ft_report_set_fatal(true);
	lockdep_set_enabled(t->p.lockdep);
	lockdep_set_stall_timeout(t->p.stall_timeout_ns);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = watchdog_init(t, &wd);
	if (ret)
		return ret;
	t->start_ns = ft_now_ns();
	ret = start_threads(t);
	if (ret) {
		watchdog_free(&wd);
		return ret;
	}
	t->interrupted = main_loop(t, &wd);
	finish_workers(t, &wd);
	watchdog_free(&wd);
	elapsed = ft_now_ns() - t->start_ns;
	if (t->interrupted)
		print_interrupted(t, elapsed);
	run_audit(t);			/* the final one, on what is left */
	if (t->p.verbose >= 0)
		tt_print_status(t, elapsed);
	code = end_of_run_checks(t) ? FT_EXIT_INVARIANT :
	       t->interrupted ? FT_EXIT_INTERRUPTED : FT_EXIT_SUCCESS;
	tt_print_totals(t, stdout);
	printf(TT_NAME ": %llu operations, %llu audits, trace hash 0x%016llx\n",
	       (unsigned long long)tt_total_ops(t), (unsigned long long)t->n_audits,
	       (unsigned long long)t->trace_hash);
	if (ft_shadow_widened())
		printf(TT_NAME ": ??? shadow: %llu value sets widened to any write of "
		       "their slot (a history longer than they keep): checked less "
		       "closely\n", (unsigned long long)ft_shadow_widened());
	if (t->p.serial)
		print_serial_stats(t);
	get_outcome(t, code, &outcome);
	outcome.elapsed_ns = elapsed;
	if (outcome.outcome == TT_OUTCOME_FAILURE)
		print_detector(&outcome, stdout);
	print_banner(t, stdout, code);
	if (outcome.outcome == TT_OUTCOME_FAILURE)
		tt_print_repro(stdout, &t->p);
	write_repro(t, &outcome);
	code = replay_verdict(t, &outcome, stdout);
	ret = tt_write_json(t, &outcome, code);
	if (ret)
		return ft_usage_error("--json: cannot write '%s': %s", t->p.json,
				      strerror(-ret));
	return code;
}

static void teardown(struct torture *t)
{
	tsan_watch(NULL);
	if (t->world.pmem) {
		tt_procs_exit_all(t);
		ft_world_destroy(&t->world);
		ft_pmem_destroy(&t->pmem);
	}
	if (t->p.serial)
		ft_serial_destroy();
	free(t->threads);
	free(t);
}

int tt_run(const struct tt_params *p, const struct tt_repro *expect)
{
	struct torture *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return ft_usage_error("out of memory");
	t->p = *p;
	t->expect = expect;
	ret = run(t);
	teardown(t);
	return ret;
}

int cmd_torture(int argc, char **argv)
{
	struct tt_params p;
	int ret = tt_parse_options(&p, argc, argv);

	if (ret == 1)
		return FT_EXIT_SUCCESS;		/* --help */
	/* The default repro file too: a failure's would be lost. */
	if (!ret && p.repro_file[0] && !p.repro_asked)
		ret = ft_opt_output("repro-file", p.repro_file);
	if (!ret)
		ret = tt_json_claim_stdout(&p);
	if (ret)
		return ret;
	if (!p.serial && p.escalate_ns)
		return tt_run_escalating(&p);
	return tt_run(&p, NULL);
}
