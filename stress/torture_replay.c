// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exact replay around the torture run: --replay FILE, the serial re-runs
 * after a parallel failure (--escalate), and --minimize FILE.  Every run
 * but --replay's is a child process (child.c), each with a repro file of
 * its own that says how it ended (torture_repro.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft/contpte.h"
#include "torture.h"

#define CHILD_MAX_ARGS		(TT_REPRO_MAX_ARGS + 16)
#define CHILD_GRACE_NS		(30 * NSEC_PER_SEC)	/* its watchdog first */
#define MINIMIZE_TIME_NS	(300 * NSEC_PER_SEC)

static volatile sig_atomic_t interrupted;
static volatile pid_t running_child;	/* tt_run_escalating's run */

/* Stop escalating or minimizing; a run in progress gets the signal too. */
static void on_interrupt(int sig)
{
	interrupted = sig;
	if (running_child > 0)
		kill(running_child, sig);
}

/* ---- Child runs ------------------------------------------------------------------ */

struct child_args {
	char buf[TT_REPRO_MAX_LINE * 2];
	char *argv[CHILD_MAX_ARGS + 1];
};

/* @p's options, then @extra's (space-separated), as a child's argv. */
static int child_argv(struct child_args *a, const struct tt_params *p, const char *fmt, ...)
{
	FILE *f = fmemopen(a->buf, sizeof(a->buf), "w");
	char *save, *tok;
	va_list ap;
	int n = 0;

	if (!f)
		return -ENOMEM;
	tt_print_params(f, p);
	fputc(' ', f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fputc('\0', f) == EOF || fclose(f))
		return -E2BIG;
	a->argv[n++] = (char *)TT_NAME;
	for (tok = strtok_r(a->buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (n == CHILD_MAX_ARGS)
			return -E2BIG;
		a->argv[n++] = tok;
	}
	a->argv[n] = NULL;
	return 0;
}

struct workdir {
	char dir[200];
	char repro[256], log[256], json[256];
};

static int workdir_make(struct workdir *w)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(w->dir, sizeof(w->dir), "%s/" TT_NAME "-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(w->dir))
		return ft_usage_error("cannot make a directory in %s: %s",
				      tmp && *tmp ? tmp : "/tmp", strerror(errno));
	snprintf(w->repro, sizeof(w->repro), "%s/run.repro", w->dir);
	snprintf(w->log, sizeof(w->log), "%s/run.log", w->dir);
	snprintf(w->json, sizeof(w->json), "%s/run.json", w->dir);
	return 0;
}

static void workdir_remove(struct workdir *w)
{
	unlink(w->repro);
	unlink(w->log);
	unlink(w->json);
	rmdir(w->dir);
}

/*
 * One child run of @p, quiet, its repro file and log in @w, killed at
 * @deadline_ns; @out: how its repro file says it ended ("running" if it
 * was killed, a failure with its status if it left none).
 */
static void run_child(const struct tt_params *p, struct workdir *w, u64 deadline_ns,
		      struct tt_repro *out)
{
	struct child_args a;
	char err[160];
	bool hung;
	int status;

	*out = (struct tt_repro){ .outcome = TT_OUTCOME_FAILURE, .exit_code = FT_EXIT_USAGE };
	unlink(w->repro);
	if (child_argv(&a, p, "-q --repro-file=%s", w->repro))
		return;
	running_child = ft_child_spawn(a.argv, w->log);
	status = ft_child_reap(running_child, deadline_ns, &hung);
	running_child = 0;
	if (hung)
		*out = (struct tt_repro){ .outcome = TT_OUTCOME_RUNNING };
	else if (tt_repro_load(w->repro, out, err, sizeof(err)))
		*out = (struct tt_repro){ .outcome = TT_OUTCOME_FAILURE, .exit_code = status };
}

static const char *describe(const struct tt_repro *r)
{
	switch (r->outcome) {
	case TT_OUTCOME_RUNNING:
		return "stopped, out of time";
	case TT_OUTCOME_SUCCESS:
		return "passed";
	case TT_OUTCOME_INTERRUPTED:
		return "interrupted";
	default:
		return r->invariant[0] ? r->invariant : "failed without a repro file";
	}
}

static bool same_failure(const struct tt_repro *a, const struct tt_repro *b)
{
	return a->outcome == TT_OUTCOME_FAILURE && b->outcome == TT_OUTCOME_FAILURE &&
	       a->exit_code == b->exit_code && !strcmp(a->invariant, b->invariant);
}

static int copy_file(const char *from, const char *to)
{
	char buf[4096];
	FILE *in = fopen(from, "r"), *out = in ? fopen(to, "w") : NULL;
	size_t n;
	int ret = 0;

	if (!in || !out)
		ret = -errno;
	while (!ret && (n = fread(buf, 1, sizeof(buf), in)))
		if (fwrite(buf, 1, n, out) != n)
			ret = -EIO;
	if (in)
		fclose(in);
	if (out && fclose(out))
		ret = -EIO;
	return ret;
}

/* ---- --escalate ------------------------------------------------------------------ */

/* The serial runs' parameters for attempt @a (of this break policy). */
static void escalation_params(struct tt_params *sp, const struct tt_repro *failed, u64 a)
{
	u64 ops = failed->ops ? failed->ops : sp->max_ops;
	bool random = a % 4 == 3;

	sp->serial = true;
	sp->strategy = random ? FT_SCHED_RANDOM : FT_SCHED_PCT;
	sp->pct_depth = random ? 1 : 1 + a % 4;
	sp->max_ops = random ? 4 * ops : ops;
	sp->sched_seed = sp->seed + a / 4;
	sp->pct_steps = 0;
	tt_resolve_params(sp);
}

/* The serial repro file replaces the parallel run's. */
static void escalation_keep(const struct tt_params *p, struct workdir *w,
			    const struct tt_repro *got, const char *how)
{
	if (copy_file(w->repro, p->repro_file)) {
		fprintf(stderr, TT_NAME ": cannot write '%s'\n", p->repro_file);
		return;
	}
	printf(TT_NAME ": escalation: REPRODUCED in serial mode%s at step %llu; repro "
	       "file %s (" TT_NAME " --replay %s)\n", how, (unsigned long long)got->step,
	       p->repro_file, p->repro_file);
}

/*
 * The parallel run's failure in serial mode: rounds of PCT at depths 1, 2
 * and 3 with as many operations as the failing run had started, then the
 * random strategy with four times as many (a serial schedule needs more
 * operations for the same race than the OS's), each round with the next
 * scheduler seed and the same operations (--seed), until one fails the
 * same way or @p->escalate_ns is spent (a run still going then is killed).
 * A failure under the random break policy, which may break fork where
 * the kernel never does, is also tried under the kernel's policy (every
 * other attempt, and every attempt once the random one reproduced): the
 * repro file says whether that reached it (kernel-break-rule).
 */
static void escalate(const struct tt_params *p, const struct tt_repro *failed,
		     struct workdir *w, struct tt_escalation *e)
{
	bool ask_kernel = p->break_policy == FT_BREAK_POLICY_RANDOM, found = false;
	u64 start = ft_now_ns(), end = start + p->escalate_ns, tries[2] = { 0, 0 };
	enum tt_kernel_rule rule = TT_KERNEL_RULE_NOT_SHOWN;
	struct tt_repro got;
	char how[48];

	printf(TT_NAME ": escalation: '%s' in parallel mode; trying serial mode, PCT "
	       "depth 1..3 and random%s, for up to %llu s\n", failed->invariant,
	       ask_kernel ? ", with the random and the kernel break policies" : "",
	       (unsigned long long)(p->escalate_ns / NSEC_PER_SEC));
	for (u64 a = 0; !interrupted && ft_now_ns() < end; a++) {
		bool kernel = ask_kernel && (found || a % 2);
		struct tt_params sp = *p;
		u64 t0 = ft_now_ns();

		if (kernel)
			sp.break_policy = FT_BREAK_POLICY_KERNEL;
		escalation_params(&sp, failed, tries[kernel]++);
		run_child(&sp, w, end, &got);
		e->attempts++;
		if (sp.strategy == FT_SCHED_RANDOM)
			snprintf(how, sizeof(how), "random");
		else
			snprintf(how, sizeof(how), "PCT depth %llu",
				 (unsigned long long)sp.pct_depth);
		if (kernel)
			strcat(how, ", kernel break policy");
		printf(TT_NAME ": escalation: attempt %llu, %s, sched seed 0x%llx: %s (%.1f s)\n",
		       (unsigned long long)a + 1, how, (unsigned long long)sp.sched_seed,
		       describe(&got), (double)(ft_now_ns() - t0) / NSEC_PER_SEC);
		if (!same_failure(&got, failed))
			continue;
		escalation_keep(p, w, &got, kernel ? " under the kernel's break rule" : "");
		e->step = got.step;
		if (kernel) {
			rule = TT_KERNEL_RULE_REACHABLE;
			break;
		}
		found = true;
		if (!ask_kernel)
			break;
	}
	if (!found && rule != TT_KERNEL_RULE_REACHABLE)
		printf(TT_NAME ": escalation: not reproduced in serial mode; %s is the "
		       "parallel run's\n", p->repro_file);
	if (ask_kernel) {
		printf(TT_NAME ": escalation: under the kernel's break rule: %s\n",
		       rule == TT_KERNEL_RULE_REACHABLE ? "reachable" :
		       "not shown (the random policy may break fork after fewer than 32 "
		       "progress units, which the kernel never does)");
		if (tt_repro_add_kernel_rule(p->repro_file, rule))
			fprintf(stderr, TT_NAME ": cannot write '%s'\n", p->repro_file);
	}
	e->reproduced = found || rule == TT_KERNEL_RULE_REACHABLE;
	e->interrupted = interrupted;
	e->kernel_rule = ask_kernel ? rule : TT_KERNEL_RULE_UNKNOWN;
	e->elapsed_ns = ft_now_ns() - start;
}

/* The run itself, a child; its JSON results in @w until they are final. */
static int run_escalated_child(const struct tt_params *p, struct workdir *w)
{
	struct tt_params cp = *p;
	bool hung;
	int status;
	pid_t pid;

	if (p->json[0])
		snprintf(cp.json, sizeof(cp.json), "%s", w->json);
	fflush(stdout);
	pid = fork();
	if (!pid)
		exit(tt_run(&cp, NULL));
	/* The run stops on SIGINT by itself; we pass it on and do not escalate. */
	running_child = pid;
	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	status = ft_child_reap(pid, 0, &hung);
	running_child = 0;
	return status < 0 ? 128 - status : status;
}

int tt_run_escalating(const struct tt_params *p)
{
	struct tt_escalation e = { 0 };
	struct tt_repro failed;
	struct workdir w;
	char err[160];
	int status;
	bool tried = false;

	if (!p->repro_file[0])		/* nowhere to put what it finds */
		return tt_run(p, NULL);
	status = workdir_make(&w);
	if (status)
		return status;
	status = run_escalated_child(p, &w);
	if (status == FT_EXIT_SUCCESS || status == FT_EXIT_USAGE ||
	    status == FT_EXIT_INTERRUPTED || interrupted) {
		/* nothing to escalate */
	} else if (tt_repro_load(p->repro_file, &failed, err, sizeof(err)) ||
		   failed.outcome != TT_OUTCOME_FAILURE) {
		printf(TT_NAME ": escalation: the run left no repro file of its failure\n");
	} else {
		escalate(p, &failed, &w, &e);
		tried = true;
	}
	if (p->json[0] && tt_json_finish(p, w.json, tried ? &e : NULL))
		fprintf(stderr, TT_NAME ": the run left no JSON results (exit %d)\n", status);
	workdir_remove(&w);
	return status;
}

/* ---- --replay FILE ------------------------------------------------------------- */

static const struct option out_options[] = {
	{ "json", required_argument, NULL, 'j' },
	{ "repro-file", required_argument, NULL, 'r' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

static void replay_usage(void)
{
	printf("usage: " FT_PROG " --replay FILE [options]   run a repro file again, "
	       "exactly\n"
	       "  --json=FILE          write the figures and the outcome\n"
	       "  --repro-file=FILE    this run's own repro file (none)\n"
	       "  -q, --quiet          no status lines;  -v, --verbose  more\n");
}

/*
 * FILE's options, then the output options of our command line (no model
 * option: the file is the run).  No repro file unless asked for: the one
 * replayed must stay as it is.
 */
int cmd_replay(int argc, char **argv)
{
	struct tt_repro *r;
	char *args[TT_REPRO_MAX_ARGS + 8], outs[4][300];
	struct tt_params p;
	int n, opt, ret, nr_outs = 0;

	if (argc > 1 && ft_help_asked(argv[1])) {
		replay_usage();
		return FT_EXIT_SUCCESS;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return ft_usage_error("out of memory");
	ret = argc < 2 ? ft_usage_error("--replay FILE [--json=F] [--repro-file=F] [-q|-v]")
		       : tt_repro_read(argv[1], r);
	if (ret)
		goto out;
	memcpy(args, r->argv, sizeof(char *) * (size_t)r->argc);
	n = r->argc;
	args[n++] = (char *)"--repro-file=";
	opterr = 0;
	optind = 2;
	while ((opt = getopt_long(argc, argv, ":qv", out_options, NULL)) != -1) {
		if (opt == '?' || opt == ':' || nr_outs == 4) {
			ret = ft_usage_error("--replay: '%s' is not an output option "
					     "(--json=F, --repro-file=F, -q, -v)", argv[optind - 1]);
			goto out;
		}
		snprintf(outs[nr_outs], sizeof(outs[0]), "%s%s", opt == 'j' ? "--json=" :
			 opt == 'r' ? "--repro-file=" : opt == 'q' ? "-q" : "-v",
			 opt == 'j' || opt == 'r' ? optarg : "");
		args[n++] = outs[nr_outs++];
	}
	if (optind < argc) {
		ret = ft_usage_error("--replay: unexpected argument '%s'", argv[optind]);
		goto out;
	}
	args[n] = NULL;
	ret = tt_repro_read_params(argv[1], r, n, args, &p);
	if (!ret)
		ret = tt_json_claim_stdout(&p);
	if (!ret)
		ret = tt_run(&p, r);
out:
	free(r);
	return ret;
}

/* ---- --minimize FILE ------------------------------------------------------------ */

struct minimize {
	struct tt_params best;
	struct tt_repro want;		/* the failure to keep */
	struct tt_repro last;		/* how the last candidate ended */
	u64 best_step;
	struct workdir w;
	char out[300];
	u64 end_ns;
	int runs;
};

/* One line a candidate, so that a long minimization shows it is alive. */
static void minimize_progress(const struct minimize *m, const struct tt_params *cand,
			      const struct tt_repro *got, bool same, u64 t0)
{
	printf(TT_NAME ": minimize: run %d: threads %llu max-ops %llu max-mms %llu vma-size "
	       "%lluK: %s%s (%.1f s)\n", m->runs, (unsigned long long)cand->threads,
	       (unsigned long long)cand->max_ops, (unsigned long long)cand->max_mms,
	       (unsigned long long)(cand->vma_size >> 10), describe(got),
	       same ? ", the same failure: the smallest so far" : "",
	       (double)(ft_now_ns() - t0) / NSEC_PER_SEC);
	fflush(stdout);
}

/* Does @cand still fail the same way?  Then it is the new best. */
static bool try_candidate(struct minimize *m, struct tt_params *cand)
{
	u64 t0 = ft_now_ns();
	bool same;

	if (interrupted || t0 >= m->end_ns)
		return false;
	tt_resolve_params(cand);
	m->runs++;
	run_child(cand, &m->w, min(m->end_ns, t0 + cand->duration_ns + CHILD_GRACE_NS),
		  &m->last);
	same = same_failure(&m->last, &m->want);
	minimize_progress(m, cand, &m->last, same, t0);
	if (!same)
		return false;
	m->best = *cand;
	m->best_step = m->last.step;
	if (copy_file(m->w.repro, m->out))
		fprintf(stderr, TT_NAME ": cannot write '%s'\n", m->out);
	return true;
}

/* The numeric dimensions --minimize shrinks. */
enum dim { DIM_THREADS, DIM_MAX_OPS, DIM_MAX_MMS, DIM_VMA_SIZE };

static u64 *dim_field(struct tt_params *p, enum dim d)
{
	switch (d) {
	case DIM_THREADS:
		return &p->threads;
	case DIM_MAX_OPS:
		return &p->max_ops;
	case DIM_MAX_MMS:
		return &p->max_mms;
	default:
		return &p->vma_size;
	}
}

/*
 * The smallest value of dimension @d from @lo up (doubling if @pow2) that
 * still fails.  PCT's k (--pct-steps) stays the failing run's, and with it
 * the change points.
 */
static bool shrink(struct minimize *m, enum dim d, u64 lo, bool pow2)
{
	u64 cur = *dim_field(&m->best, d);
	struct tt_params cand;

	for (u64 v = lo; v < cur; v = pow2 ? v * 2 : v + 1) {
		cand = m->best;
		*dim_field(&cand, d) = v;
		if (try_candidate(m, &cand))
			return true;
	}
	return false;
}

/* One pass over every dimension; true if anything shrank. */
static bool minimize_pass(struct minimize *m)
{
	struct tt_params cand;
	bool shrank = false;

	/* Operations first: every later candidate runs shorter. */
	shrank |= shrink(m, DIM_MAX_OPS, 1, true);
	shrank |= shrink(m, DIM_THREADS, 1, false);
	shrank |= shrink(m, DIM_MAX_MMS, 1, false);
	/* No window smaller than a folio of the largest order: refused. */
	shrank |= shrink(m, DIM_VMA_SIZE, max(CONT_PTE_SIZE, PAGE_SIZE <<
			 (BITS_PER_LONG - 1 - __builtin_clzl(m->best.orders))), true);
	for (int i = 0; i < NR_FT_BREAK_SITES; i++) {
		cand = m->best;
		cand.break_sites &= ~(1u << i);
		if (cand.break_sites != m->best.break_sites)
			shrank |= try_candidate(m, &cand);
	}
	for (int i = 0; i < NR_TT_OPS; i++) {
		u32 total = 0;

		cand = m->best;
		cand.weights[i] = 0;
		for (int j = 0; j < NR_TT_OPS; j++)
			total += cand.weights[j];
		if (m->best.weights[i] && total)
			shrank |= try_candidate(m, &cand);
	}
	return shrank;
}

static int nr_bits(u64 v)
{
	return __builtin_popcountll(v);
}

static int nr_ops(const struct tt_params *p)
{
	int n = 0;

	for (int i = 0; i < NR_TT_OPS; i++)
		n += p->weights[i] != 0;
	return n;
}

static void minimize_report(const struct minimize *m, const struct tt_params *from,
			    u64 from_step, u64 start)
{
	const struct tt_params *to = &m->best;

	printf(TT_NAME ": minimize: threads %llu -> %llu, max-ops %llu -> %llu, max-mms "
	       "%llu -> %llu, vma-size %lluK -> %lluK, break sites %d -> %d, operation kinds "
	       "%d -> %d; failed at step %llu -> %llu\n",
	       (unsigned long long)from->threads, (unsigned long long)to->threads,
	       (unsigned long long)from->max_ops, (unsigned long long)to->max_ops,
	       (unsigned long long)from->max_mms, (unsigned long long)to->max_mms,
	       (unsigned long long)(from->vma_size >> 10), (unsigned long long)(to->vma_size >> 10),
	       nr_bits(from->break_sites), nr_bits(to->break_sites), nr_ops(from), nr_ops(to),
	       (unsigned long long)from_step, (unsigned long long)m->best_step);
	printf(TT_NAME ": minimize: %d runs in %.1f s; the smallest is %s (" TT_NAME
	       " --replay %s)\n", m->runs, (double)(ft_now_ns() - start) / NSEC_PER_SEC,
	       m->out, m->out);
}

static const struct option minimize_options[] = {
	{ "time", required_argument, NULL, 't' },
	{ "output", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

static void minimize_usage(void)
{
	printf("usage: " FT_PROG " --minimize FILE [options]   shrink a failing serial "
	       "run's repro file\n"
	       "  --time=D             time to spend (%llus)\n"
	       "  --output=FILE        the smallest failing run's repro file (FILE.min)\n",
	       (unsigned long long)(MINIMIZE_TIME_NS / NSEC_PER_SEC));
}

static int minimize_parse(int argc, char **argv, struct minimize *m, u64 *time_ns)
{
	int opt;

	*time_ns = MINIMIZE_TIME_NS;
	snprintf(m->out, sizeof(m->out), "%s.min", argv[1]);
	opterr = 0;
	optind = 2;
	while ((opt = getopt_long(argc, argv, ":", minimize_options, NULL)) != -1) {
		if (opt == 't' && ft_opt_duration("time", optarg, NSEC_PER_SEC, time_ns))
			return FT_EXIT_USAGE;
		else if (opt == 'o' && ft_opt_string("output", optarg, m->out, sizeof(m->out)))
			return FT_EXIT_USAGE;
		else if (opt != 't' && opt != 'o')
			return ft_usage_error("--minimize: '%s' is not an option (--time=D, "
					      "--output=FILE)", argv[optind - 1]);
	}
	if (optind < argc)
		return ft_usage_error("--minimize: unexpected argument '%s'", argv[optind]);
	return ft_opt_output("output", m->out);	/* FILE.min too */
}

/*
 * Shrink a failing serial run while it fails the same way (exit code and
 * invariant): fewer threads, operations, processes, a smaller window,
 * fewer break sites and kinds of operation, one at a time, smallest value
 * first, until a pass changes nothing or --time is spent.  Each candidate
 * runs as long as the original was allowed to.
 */
int cmd_minimize(int argc, char **argv)
{
	struct minimize *m = calloc(1, sizeof(*m));
	struct tt_params from, cand;
	u64 time_ns, start = ft_now_ns();
	char t1[32], t2[32];
	int ret;

	if (argc > 1 && ft_help_asked(argv[1])) {
		minimize_usage();
		free(m);
		return FT_EXIT_SUCCESS;
	}
	if (!m)
		return ft_usage_error("out of memory");
	ret = argc < 2 ? ft_usage_error("--minimize FILE [--time=D] [--output=FILE]")
		       : minimize_parse(argc, argv, m, &time_ns);
	if (!ret)
		ret = tt_repro_read(argv[1], &m->want);
	if (!ret)
		ret = tt_repro_read_params(argv[1], &m->want, m->want.argc, m->want.argv, &from);
	if (!ret && (!m->want.serial || m->want.outcome != TT_OUTCOME_FAILURE))
		ret = ft_usage_error("--minimize: %s is not a failing serial run", argv[1]);
	if (!ret)
		ret = workdir_make(&m->w);
	if (ret)
		goto out;
	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	m->end_ns = start + time_ns;
	if (!from.max_ops)		/* the run had no bound: its ops are one */
		from.max_ops = m->want.ops;
	m->best = from;
	m->best.max_ops = m->want.ops ? m->want.ops : from.max_ops;
	printf(TT_NAME ": minimize: '%s' (exit %d) at step %llu, for up to %llu s\n",
	       m->want.invariant, m->want.exit_code, (unsigned long long)m->want.step,
	       (unsigned long long)(time_ns / NSEC_PER_SEC));
	cand = m->best;
	if (try_candidate(m, &cand)) {
		while (minimize_pass(m))
			;
		minimize_report(m, &from, m->want.step, start);
		if (interrupted)
			printf(TT_NAME ": minimize: interrupted; the smallest so far is %s\n",
			       m->out);
		ret = interrupted ? FT_EXIT_INTERRUPTED : FT_EXIT_SUCCESS;
	} else if (interrupted) {
		printf(TT_NAME ": minimize: interrupted before the first run finished\n");
		ret = FT_EXIT_INTERRUPTED;
	} else if (m->last.outcome == TT_OUTCOME_RUNNING) {
		ret = ft_usage_error("--minimize: --time=%s ran out before the first run "
				     "finished; give it more than the run's --duration=%s",
				     ft_format_duration(time_ns, t1, sizeof(t1)),
				     ft_format_duration(from.duration_ns, t2, sizeof(t2)));
	} else {
		ret = ft_usage_error("--minimize: %s does not fail the same way again (%s)",
				     argv[1], describe(&m->last));
	}
	workdir_remove(&m->w);
out:
	free(m);
	return ret;
}
