// SPDX-License-Identifier: GPL-2.0-only
/*
 * foliotorture --zoo: every bug-zoo injection run against the torture
 * run's oracles, and the clean run beside them.
 *
 * Each run is a child process (this binary, re-executed), so a crash or a
 * hang of one case is that case's result.  An injection is detected when
 * the child ends with an oracle's exit code (1 invariant, 2 lock-model
 * splat, 66 ThreadSanitizer) within its bound and its repro file names one
 * of the oracles the injection declares (include/ft/zoo.h); caught by any
 * other, it is "caught by another oracle", a result of its own that is
 * not "ok".  A clean case must end with 0.  Output is KTAP
 * (Documentation/dev-tools/ktap.rst), one test per case.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ft/mapcount.h"
#include "ft/sched.h"
#include "ft/zoo.h"
#include "torture.h"

#define ZOO_MAX_SEEDS	100
#define ZOO_MAX_ARGS	32
#define ZOO_GRACE_S	45	/* past the bound: the child's own watchdog first */

/*
 * The scenarios the cases run: the torture options that give a bug its
 * chance, from the shipped scenario file of that name (stress/scenarios/,
 * as --scenario=NAME finds it).  Each also runs clean, without
 * injections, and must pass: a detection in a scenario that fails clean
 * would prove nothing.
 */
struct zoo_scenario {
	const char *name;
	/*
	 * How long the clean case runs: at least the slowest median
	 * time-to-detect of the scenario's injections (the README's zoo
	 * figures; under TSan its own), so that passing clean means the
	 * run had the time to catch them.  Never under ZOO_CLEAN_MIN_S.
	 */
	unsigned int clean_s, clean_tsan_s;
};

static const struct zoo_scenario zoo_scenarios[] = {
	{ "default", 10, 10 },
	{ "no-gather", 10, 10 },
	{ "dirty-race", 10, 10 },
	{ "migration-restore", 10, 10 },
	{ "fork-race", 10, 10 },
	{ "tlb-zap", 10, 10 },
	{ "gup-fast", 10, 10 },
	{ "reclaim", 10, 10 },
	{ "reclaim-mremap", 10, 10 },
	{ "mremap-cow", 10, 10 },
	{ "small-window", 10, 10 },
	{ "aimed", 10, 10 },
	{ "spf-fold", 10, 10 },
};

#define NR_ZOO_SCENARIOS	((int)ARRAY_SIZE(zoo_scenarios))
#define NR_ZOO_CASES		(NR_ZOO_SCENARIOS + FT_NR_INJECTIONS)
/* The cases are a bit mask (struct zoo_opts). */
_Static_assert(NR_ZOO_CASES <= 64, "zoo cases do not fit a u64");
/* --cases: room for every case named once (names are shorter). */
#define ZOO_CASES_ARG_MAX	(NR_ZOO_CASES * 48)
#define ZOO_SEED		0x5eed
/* Lines of a failed run's log shown after its result. */
#define ZOO_EXCERPT_LINES	8
#define ZOO_CLEAN_MIN_S		10
/* ThreadSanitizer runs the model about ten times slower. */
#ifdef __SANITIZE_THREAD__
#define ZOO_BOUND_S		180
#define ZOO_TSAN		true
#else
#define ZOO_BOUND_S		60
#define ZOO_TSAN		false
#endif

/* The injections that need more than the default scenario. */
static const struct { const char *inj, *scenario; } zoo_needs[] = {
	{ "pte-rmw-not-atomic", "dirty-race" },
	{ "convert-drops-ad", "dirty-race" },
	/* Partial mprotect of folded blocks, often. */
	{ "wrprotect-partial-no-unfold", "dirty-race" },
	/* Z19's torn view reaches the dirty rule through its lockless read. */
	{ "lockless-read-no-retry", "dirty-race" },
	{ "batchzap-s390", "no-gather" },
	/* A wrongly writable page shared with the other MM: the shadow. */
	{ "mprotect-write-merge", "dirty-race" },
	{ "reuse-checks-before-lock", "migration-restore" },
	{ "fork-no-vma-lock", "fork-race" },
	{ "madv-flush-miss", "tlb-zap" },
	/* Pins taken while a fork shares the page: pins and forks often. */
	{ "gup-fast-fork-race", "gup-fast" },
	{ "gup-fast-pin-no-barrier", "gup-fast" },
	/* Large folios reused by COW while reclaim holds references. */
	{ "reuse-warn-reversed", "reclaim" },
	/* Lazyfree large folios that mremap made straddle two tables. */
	{ "lazyfree-batch-crosses-table", "reclaim-mremap" },
	/* Pins on lazyfree folios that reclaim scans. */
	{ "lazyfree-no-ref-check", "reclaim" },
	/* A folio half reused after a fork, refolded, then moved. */
	{ "mremap-batch-ignores-write", "mremap-cow" },
	/* A folio reused on one page, MADV_FREE'd, rewritten, reclaimed. */
	{ "lazyfree-restore-ignores-write", "small-window" },
};

/*
 * Injections that only a serial run shows within a bound, left out of the
 * default case list; --cases= still runs them.  G3 needs a store the
 * serial scheduler delays (include/ft/sched.h): on x86 the parallel run
 * cannot reorder it; its test is the exact serial replay
 * (tests/stress/CMakeLists.txt, serial_zoo).  Z26 needs a first write
 * inside fork's few instructions between reading an entry and
 * write-protecting it, then a reclaim and a read in the right order: the
 * default mix with 256K windows caught it in 75 s and 91 s on two seeds
 * and not in 300 s on a third; its test is a serial schedule of the two
 * racers (tests/mm/test_fork_dirty.c).  B14 needs a folio reused on one
 * page after its fork child exited, MADV_FREE'd whole, written again and
 * reclaimed: small-window caught it on 1 of 5 seeds in 60 s (default
 * build); its test is test_gup's lazyfree-restore case with the injection.
 */
static const char *const zoo_serial_only[] = {
	"gup-fast-pin-no-barrier",
	"fork-dirty-before-wrprotect",
	"lazyfree-restore-ignores-write",
};

/* Every case but the serial-only injections. */
static u64 default_cases(void)
{
	u64 cases = (1ULL << NR_ZOO_CASES) - 1;

	for (int i = 0; i < FT_NR_INJECTIONS; i++)
		for (size_t j = 0; j < ARRAY_SIZE(zoo_serial_only); j++)
			if (!strcmp(ft_injections[i].name, zoo_serial_only[j]))
				cases &= ~(1ULL << (NR_ZOO_SCENARIOS + i));
	return cases;
}

/* A case: clean in scenario c, or injection c - NR_ZOO_SCENARIOS. */
struct zoo_case {
	char name[64];
	const struct ft_injection *inj;	/* NULL: clean */
	const struct zoo_scenario *scenario;
	char file[PATH_MAX];		/* the scenario's */
	char model_arg[64];		/* the children's --model, or "" */
	unsigned int bound_s;
};

struct zoo_opts {
	u64 cases;			/* bit c: case c */
	u64 nr_seeds;
	/* --caught-by: the oracles to expect instead of each case's own */
	struct ft_injection expect;
	char expect_buf[256];
	u64 bound_ns;			/* 0: each case's own */
	char policy[16];		/* --break-policy for the children */
	char aim[16];			/* --aim for the children */
	char perturb[16];		/* --perturb for the children */
	char model[64];			/* --model for the children */
	char json[256];
	char log_dir[256];
	bool list;
};

enum zoo_verdict { ZOO_DETECTED, ZOO_DETECTED_OTHER, ZOO_PASSED, ZOO_MISSED,
		   ZOO_STALLED, ZOO_CRASHED, ZOO_HUNG, ZOO_ERROR };

struct zoo_run {
	u64 seed;
	int status;			/* exit code, or -signal */
	/* To detect: from the child's start of test to its report, without
	 * exec and set-up (a case found in milliseconds is not rounded to
	 * them); else, and in wall, the child's whole life. */
	double seconds, wall;
	enum zoo_verdict verdict;
	char caught_by[128];		/* the repro file's invariant */
};

static const struct zoo_scenario *scenario_of(const char *inj)
{
	for (size_t i = 0; i < ARRAY_SIZE(zoo_needs); i++) {
		if (strcmp(zoo_needs[i].inj, inj))
			continue;
		for (int s = 0; s < NR_ZOO_SCENARIOS; s++)
			if (!strcmp(zoo_scenarios[s].name, zoo_needs[i].scenario))
				return &zoo_scenarios[s];
	}
	return &zoo_scenarios[0];
}

/* Every scenario's file is there (cmd_zoo checked). */
static void case_get(int c, struct zoo_case *zc)
{
	if (c < NR_ZOO_SCENARIOS) {
		zc->scenario = &zoo_scenarios[c];
		zc->inj = NULL;
		zc->bound_s = max(ZOO_CLEAN_MIN_S, ZOO_TSAN ? zc->scenario->clean_tsan_s :
							   zc->scenario->clean_s);
		snprintf(zc->name, sizeof(zc->name), c ? "clean-%s" : "clean",
			 zc->scenario->name);
	} else {
		zc->inj = &ft_injections[c - NR_ZOO_SCENARIOS];
		zc->scenario = scenario_of(zc->inj->name);
		zc->bound_s = ZOO_BOUND_S;
		snprintf(zc->name, sizeof(zc->name), "%s", zc->inj->name);
	}
	tt_scenario_lookup(zc->scenario->name, zc->file, sizeof(zc->file));
}

static int check_scenarios(void)
{
	char file[PATH_MAX];

	for (int s = 0; s < NR_ZOO_SCENARIOS; s++)
		if (tt_scenario_lookup(zoo_scenarios[s].name, file, sizeof(file)))
			return ft_usage_error("--zoo: no scenario file '%s' (see "
					      "--list-scenarios)", zoo_scenarios[s].name);
	return 0;
}

static int case_find(const char *name)
{
	struct zoo_case zc;

	for (int c = 0; c < NR_ZOO_CASES; c++) {
		case_get(c, &zc);
		if (!strcmp(zc.name, name))
			return c;
	}
	return -1;
}

/* ---- Options ---------------------------------------------------------------------- */

static int parse_cases(const char *arg, struct zoo_opts *o)
{
	char list[ZOO_CASES_ARG_MAX], *cur = list, *tok;
	u64 cases = 0;

	if (strlen(arg) >= sizeof(list))
		return ft_usage_error("--cases: list too long");
	strcpy(list, arg);
	while ((tok = ft_list_next(&cur))) {
		int c = *tok ? case_find(tok) : -1;

		if (!*tok)
			return ft_opt_list_empty("cases", arg);
		if (c < 0)
			return ft_usage_error("--cases: unknown case '%s' (see --zoo --list)",
					      tok);
		if (cases & 1ULL << c)
			return ft_usage_error("--cases: '%s' given twice", tok);
		cases |= 1ULL << c;
	}
	o->cases |= cases;
	return 0;
}

/* "owner slots,audit": into o->expect.caught_by, pointing into o->expect_buf. */
static int parse_caught_by(const char *arg, struct zoo_opts *o)
{
	int ret = ft_opt_string("caught-by", arg, o->expect_buf, sizeof(o->expect_buf));
	char *cur = o->expect_buf, *tok;
	int n = 0;

	if (ret)
		return ret;
	while ((tok = ft_list_next(&cur))) {
		if (!*tok)
			return ft_opt_list_empty("caught-by", arg);
		if (n == FT_INJ_MAX_ORACLES)
			return ft_usage_error("--caught-by: more than %d oracles",
					      FT_INJ_MAX_ORACLES);
		o->expect.caught_by[n++] = tok;
	}
	o->expect.caught_by[n] = NULL;
	return 0;
}

static void zoo_usage(void)
{
	printf("usage: " FT_PROG " --zoo [--cases=LIST] [--seeds=N] [--bound=D]\n"
	       "                    [--break-policy=P] [--aim=P] [--perturb=MODE]\n"
	       "                    [--model=M] [--json=FILE] [--log-dir=DIR] [--list]\n"
	       "  --cases=LIST        clean and injection names (all)\n"
	       "  --seeds=N           runs per case, seeds S..S+N-1 from the shipped S (1)\n"
	       "  --bound=D           time allowed to each run (each case's own)\n"
	       "  --break-policy=P    the children's break policy (their default)\n"
	       "  --aim=P             the children's aimed operations (their default)\n"
	       "  --perturb=MODE      the children's perturbation: yield, spin, auto\n"
	       "                      (their default)\n"
	       "  --model=M           the children's mapcount model; an injection in\n"
	       "                      another model's code is skipped (without it, such\n"
	       "                      an injection runs under its own model)\n"
	       "  --json=FILE         every run's outcome and time\n"
	       "  --log-dir=DIR       the children's output (a new directory in $TMPDIR)\n"
	       "  --caught-by=LIST    expect these oracles (comma-separated, as a\n"
	       "                      repro file names them) instead of each case's own\n"
	       "  --list              print the cases and exit\n");
}

static int parse_zoo(int argc, char **argv, struct zoo_opts *o)
{
	enum { OPT_CASES = 256, OPT_SEEDS, OPT_BOUND, OPT_POLICY, OPT_AIM, OPT_PERTURB, OPT_MODEL,
	       OPT_JSON, OPT_LOGDIR,
	       OPT_LIST, OPT_CAUGHT_BY, OPT_HELP };
	static const struct option longopts[] = {
		{ "cases", required_argument, NULL, OPT_CASES },
		{ "seeds", required_argument, NULL, OPT_SEEDS },
		{ "bound", required_argument, NULL, OPT_BOUND },
		{ "break-policy", required_argument, NULL, OPT_POLICY },
		{ "aim", required_argument, NULL, OPT_AIM },
		{ "perturb", required_argument, NULL, OPT_PERTURB },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "log-dir", required_argument, NULL, OPT_LOGDIR },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "caught-by", required_argument, NULL, OPT_CAUGHT_BY },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	enum ft_break_policy policy;
	int opt, ret = 0;
	u64 aim;
	enum tt_perturb perturb;

	o->nr_seeds = 1;
	optind = 1;
	while (!ret && (opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_CASES:
			ret = parse_cases(optarg, o);
			break;
		case OPT_SEEDS:
			ret = ft_opt_u64("seeds", optarg, 1, ZOO_MAX_SEEDS, &o->nr_seeds);
			break;
		case OPT_BOUND:
			ret = ft_opt_duration("bound", optarg, NSEC_PER_SEC, &o->bound_ns);
			break;
		case OPT_POLICY:
			if (ft_break_policy_parse(optarg, &policy))
				return ft_usage_error("--break-policy: unknown policy '%s'; "
						      "valid: random kernel aligned never",
						      optarg);
			/* The scenarios' --resched-ppm would be refused as unused. */
			if (policy == FT_BREAK_POLICY_NEVER)
				return ft_usage_error("--break-policy: 'never' takes no "
						      "breaks the scenarios tune; valid for "
						      "--zoo: random kernel aligned");
			ret = ft_opt_string("break-policy", optarg, o->policy, sizeof(o->policy));
			break;
		case OPT_AIM:
			ret = tt_aim_parse(optarg, &aim) ?:
			      ft_opt_string("aim", optarg, o->aim, sizeof(o->aim));
			break;
		case OPT_PERTURB:
			ret = tt_perturb_parse(optarg, &perturb) ?:
			      ft_opt_string("perturb", optarg, o->perturb, sizeof(o->perturb));
			break;
		case OPT_MODEL:
			if (!ft_mapcount_model_find(optarg))
				return ft_usage_error("--model: unknown model '%s'", optarg);
			ret = ft_opt_string("model", optarg, o->model, sizeof(o->model));
			break;
		case OPT_JSON:
			ret = ft_opt_output("json", optarg) ?:
			      ft_opt_string("json", optarg, o->json, sizeof(o->json));
			break;
		case OPT_LOGDIR:
			ret = ft_opt_dir("log-dir", optarg) ?:
			      ft_opt_string("log-dir", optarg, o->log_dir, sizeof(o->log_dir));
			break;
		case OPT_LIST:
			o->list = true;
			break;
		case OPT_CAUGHT_BY:
			ret = parse_caught_by(optarg, o);
			break;
		case OPT_HELP:
		case 'h':
			zoo_usage();
			return -1;
		default:
			return ft_bad_option(opt, argv);
		}
	}
	if (!ret && optind < argc)
		ret = ft_usage_error("--zoo: unexpected argument '%s'", argv[optind]);
	if (!o->cases)
		o->cases = default_cases();
	return ret;
}

/* The children's model: --model's, or the torture's default. */
static const char *model_name(const struct zoo_opts *o)
{
	return o->model[0] ? o->model : ft_mapcount_models[0]->name;
}

/*
 * The --model a case's children get (@zc->model_arg): --model's; without
 * it, for an injection that does not act under the default model, the
 * first model whose code it changes, so that every model's injections run
 * by default; else none (the scenario's or the torture's default).
 */
static void case_set_model(struct zoo_case *zc, const struct zoo_opts *o)
{
	const char *def = model_name(o);

	snprintf(zc->model_arg, sizeof(zc->model_arg), "%s", o->model);
	if (!o->model[0] && zc->inj && !ft_injection_in_model(zc->inj, def, strlen(def)))
		snprintf(zc->model_arg, sizeof(zc->model_arg), "%.*s",
			 (int)strcspn(ft_injection_models(zc->inj), ","),
			 ft_injection_models(zc->inj));
}

static const char *case_model(const struct zoo_case *zc, const struct zoo_opts *o)
{
	return zc->model_arg[0] ? zc->model_arg : model_name(o);
}

/* ---- One run ------------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child's command line, in @buf; NULL-terminated @argv. */
static void build_argv(const struct zoo_case *zc, const struct zoo_opts *o, u64 seed,
		       unsigned int bound_s, const char *repro, char *buf, size_t size,
		       char **argv)
{
	char *tok, *save;
	int n = 0;

	snprintf(buf, size, "%s%s --seed=0x%llx --duration=%us --stat-interval=%us -q "
		 "--escalate=0 --repro-file=%s%s%s%s%s%s%s%s%s --scenario=%s",
		 zc->inj ? "--inject=" : "", zc->inj ? zc->inj->name : "",
		 (unsigned long long)seed, bound_s, bound_s, repro,
		 o->policy[0] ? " --break-policy=" : "", o->policy, o->aim[0] ? " --aim=" : "",
		 o->aim, o->perturb[0] ? " --perturb=" : "", o->perturb,
		 zc->model_arg[0] ? " --model=" : "", zc->model_arg, zc->file);
	argv[n++] = (char *)FT_PROG;
	for (tok = strtok_r(buf, " ", &save); tok && n < ZOO_MAX_ARGS - 1;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
}

/* Whose caught_by list a case is judged by: --caught-by's, or its own. */
static const struct ft_injection *expected(const struct zoo_case *zc,
					   const struct zoo_opts *o)
{
	return o->expect.caught_by[0] ? &o->expect : zc->inj;
}

/* Which oracle fired and when: the child's repro file says ("" if it left
 * none). */
static void caught_by(const char *repro, struct zoo_run *r)
{
	struct tt_repro *got = malloc(sizeof(*got));
	char err[160];

	r->caught_by[0] = '\0';
	if (got && !tt_repro_load(repro, got, err, sizeof(err))) {
		snprintf(r->caught_by, sizeof(r->caught_by), "%s", got->invariant);
		if (got->elapsed_ns)
			r->seconds = (double)got->elapsed_ns / NSEC_PER_SEC;
	}
	free(got);
}

static enum zoo_verdict verdict(bool clean, int status, bool hung)
{
	if (hung)
		return ZOO_HUNG;
	if (status < 0)
		return ZOO_CRASHED;
	switch (status) {
	case FT_EXIT_SUCCESS:
		return clean ? ZOO_PASSED : ZOO_MISSED;
	case FT_EXIT_INVARIANT:
	case FT_EXIT_SPLAT:
	case FT_EXIT_TSAN:
		return ZOO_DETECTED;
	case FT_EXIT_STALL:
		return ZOO_STALLED;
	default:
		return ZOO_ERROR;
	}
}

static void run_one(const struct zoo_case *zc, const struct zoo_opts *o,
		    unsigned int bound_s, u64 seed, struct zoo_run *r)
{
	char buf[8192], log[512], repro[512], *argv[ZOO_MAX_ARGS];
	u64 deadline;
	double start;
	bool hung;
	pid_t pid;

	r->caught_by[0] = '\0';
	snprintf(log, sizeof(log), "%s/%s-0x%llx.log", o->log_dir, zc->name,
		 (unsigned long long)seed);
	snprintf(repro, sizeof(repro), "%s/%s-0x%llx.repro", o->log_dir, zc->name,
		 (unsigned long long)seed);
	build_argv(zc, o, seed, bound_s, repro, buf, sizeof(buf), argv);
	fflush(stdout);
	/* Past the bound by the grace: the child's own watchdog first. */
	deadline = ft_now_ns() + (u64)(bound_s + ZOO_GRACE_S) * NSEC_PER_SEC;
	start = now_s();
	pid = ft_child_spawn(argv, log);
	r->seed = seed;
	if (pid < 0) {
		r->status = -SIGABRT;
		r->seconds = r->wall = 0;
		r->verdict = ZOO_ERROR;
		return;
	}
	r->status = ft_child_reap(pid, deadline, &hung);
	r->seconds = r->wall = now_s() - start;
	r->verdict = verdict(!zc->inj, r->status, hung);
	if (r->verdict != ZOO_DETECTED)
		return;
	caught_by(repro, r);
	/* A clean case has no oracle to expect: any report fails it. */
	if (zc->inj && !ft_injection_caught_by(expected(zc, o), r->caught_by))
		r->verdict = ZOO_DETECTED_OTHER;
}

/* ---- Results -------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median and max time to detect; a missed run counts as its bound. */
static void detect_times(const struct zoo_run *runs, int n, unsigned int bound_s,
			 double *median, double *max)
{
	double t[ZOO_MAX_SEEDS];

	for (int i = 0; i < n; i++)
		t[i] = runs[i].verdict == ZOO_DETECTED ? runs[i].seconds : bound_s;
	qsort(t, (size_t)n, sizeof(t[0]), cmp_double);
	*median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	*max = t[n - 1];
}

static const char *const verdict_names[] = {
	[ZOO_DETECTED] = "detected", [ZOO_DETECTED_OTHER] = "caught-by-another-oracle",
	[ZOO_PASSED] = "passed", [ZOO_MISSED] = "missed", [ZOO_STALLED] = "stalled",
	[ZOO_CRASHED] = "crashed", [ZOO_HUNG] = "hung", [ZOO_ERROR] = "error",
};

static void print_expected(FILE *out, const struct ft_injection *inj, const char *sep)
{
	for (int i = 0; inj->caught_by[i]; i++)
		fprintf(out, "%s%s", i ? sep : "", inj->caught_by[i]);
}

/*
 * A failed run's first report (or stall), as KTAP diagnostics: the log
 * stays in the log directory, which CI does not keep.
 */
static void print_log_excerpt(const char *path)
{
	char line[256];
	int shown = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (shown < ZOO_EXCERPT_LINES && fgets(line, sizeof(line), f)) {
		if (!shown && strncmp(line, "!!! ", 4) && strncmp(line, "INFO: task", 10) &&
		    !strstr(line, " ??? "))
			continue;	/* before the first report */
		printf("#   %s%s", line, strchr(line, '\n') ? "" : "\n");
		shown++;
	}
	fclose(f);
}

/* The KTAP result line of case number @num; true if it passed. */
static bool report_case(int num, const struct zoo_case *zc, const struct zoo_opts *o,
			const struct zoo_run *runs, int n, unsigned int bound_s)
{
	bool clean = !zc->inj;
	int good = 0, first_bad = -1;
	double median, max;

	for (int i = 0; i < n; i++) {
		if (runs[i].verdict == (clean ? ZOO_PASSED : ZOO_DETECTED))
			good++;
		else if (first_bad < 0)
			first_bad = i;
	}
	detect_times(runs, n, bound_s, &median, &max);
	printf("%sok %d %s # ", good == n ? "" : "not ", num, zc->name);
	if (clean && good == n)
		printf("passed %us, %d seed%s\n", bound_s, n, n > 1 ? "s" : "");
	else if (good == n && n == 1)
		printf("time-to-detect %.3fs\n", runs[0].seconds);
	else if (good == n)
		printf("time-to-detect median %.3fs max %.3fs over %d seeds\n", median, max, n);
	else if (!clean && runs[first_bad].verdict == ZOO_MISSED)
		printf("not detected in %us (%d/%d seeds detected)\n", bound_s, good, n);
	else if (runs[first_bad].verdict == ZOO_DETECTED_OTHER) {
		printf("caught by another oracle: '%s', not '", runs[first_bad].caught_by);
		print_expected(stdout, expected(zc, o), "' or '");
		printf("' (%d/%d seeds by those)\n", good, n);
	} else if (clean && runs[first_bad].verdict == ZOO_DETECTED)
		printf("failed clean: '%s' reported after %.1fs (%d/%d seeds passed)\n",
		       runs[first_bad].caught_by, runs[first_bad].seconds, good, n);
	else
		printf("%s, exit %d after %.1fs (%d/%d seeds good)\n",
		       verdict_names[runs[first_bad].verdict], runs[first_bad].status,
		       runs[first_bad].seconds, good, n);
	if (first_bad >= 0) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s-0x%llx.log", o->log_dir, zc->name,
			 (unsigned long long)runs[first_bad].seed);
		printf("# %s: seed 0x%llx, log %s\n", zc->name,
		       (unsigned long long)runs[first_bad].seed, path);
		print_log_excerpt(path);
	}
	fflush(stdout);
	return good == n;
}

static void json_case(FILE *f, const struct zoo_case *zc, const struct zoo_opts *o,
		      const struct zoo_run *runs, int n, unsigned int bound_s, bool ok,
		      bool first)
{
	double median, max;

	detect_times(runs, n, bound_s, &median, &max);
	fprintf(f, "%s    { \"name\": \"%s\", \"model\": \"%s\", \"ok\": %s, "
		"\"bound_s\": %u, ", first ? "" : ",\n", zc->name, case_model(zc, o),
		ok ? "true" : "false", bound_s);
	if (zc->inj) {
		fprintf(f, "\"expected_oracles\": [\"");
		print_expected(f, expected(zc, o), "\", \"");
		fprintf(f, "\"], ");
	}
	fprintf(f, "\"median_s\": %.4f, \"max_s\": %.4f, \"runs\": [", median, max);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s{ \"seed\": \"0x%llx\", \"verdict\": \"%s\", \"exit\": %d, "
			"\"caught_by\": \"%s\", \"seconds\": %.4f, \"wall_s\": %.4f }",
			i ? ", " : "", (unsigned long long)runs[i].seed,
			verdict_names[runs[i].verdict], runs[i].status, runs[i].caught_by,
			runs[i].seconds, runs[i].wall);
	fprintf(f, "] }");
}

static void list_cases(const struct zoo_opts *o)
{
	struct zoo_case zc;

	for (int c = 0; c < NR_ZOO_CASES; c++) {
		if (!(o->cases & 1ULL << c))
			continue;
		case_get(c, &zc);
		printf("%-28s seed %#x bound %us %s: %s", zc.name, ZOO_SEED, zc.bound_s,
		       zc.scenario->name, zc.file);
		if (zc.inj) {
			printf("; caught by ");
			print_expected(stdout, zc.inj, " or ");
		}
		printf("\n");
	}
}

static int make_log_dir(struct zoo_opts *o)
{
	const char *tmp = getenv("TMPDIR");

	if (o->log_dir[0]) {
		if (mkdir(o->log_dir, 0777) && errno != EEXIST)
			return ft_usage_error("--log-dir: cannot create '%s': %s", o->log_dir,
					      strerror(errno));
		return 0;
	}
	snprintf(o->log_dir, sizeof(o->log_dir), "%s/foliotorture-zoo.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(o->log_dir))
		return ft_usage_error("--zoo: cannot create a log directory in %s: %s",
				      tmp && *tmp ? tmp : "/tmp", strerror(errno));
	return 0;
}

int cmd_zoo(int argc, char **argv)
{
	struct zoo_opts o = { 0 };
	static struct zoo_run runs[ZOO_MAX_SEEDS];
	int ret = parse_zoo(argc, argv, &o), num = 0, pass = 0, fail = 0, skip = 0;
	FILE *json = NULL;

	if (ret)
		return ret < 0 ? FT_EXIT_SUCCESS : ret;
	ret = check_scenarios();
	if (ret)
		return ret;
	if (o.list) {
		list_cases(&o);
		return FT_EXIT_SUCCESS;
	}
	ret = make_log_dir(&o);
	if (ret)
		return ret;
	if (o.json[0] && !(json = fopen(o.json, "w")))
		return ft_usage_error("--json: cannot write '%s': %s", o.json, strerror(errno));
	printf("KTAP version 1\n# " FT_PROG " --zoo: seeds %llu, break policy %s, aim %s, "
	       "perturb %s, model %s, logs in %s\n1..%d\n", (unsigned long long)o.nr_seeds,
	       o.policy[0] ? o.policy : "default", o.aim[0] ? o.aim : "default",
	       o.perturb[0] ? o.perturb : "default", model_name(&o), o.log_dir,
	       __builtin_popcountll(o.cases));
	if (json)
		fprintf(json, "{\n  \"break_policy\": \"%s\",\n  \"aim\": \"%s\",\n"
			"  \"perturb\": \"%s\",\n  \"model\": \"%s\",\n  \"seeds\": %llu,\n"
			"  \"cases\": [\n", o.policy[0] ? o.policy : "default",
			o.aim[0] ? o.aim : "default", o.perturb[0] ? o.perturb : "default",
			model_name(&o), (unsigned long long)o.nr_seeds);
	for (int c = 0; c < NR_ZOO_CASES; c++) {
		struct zoo_case zc;
		unsigned int bound_s;
		bool ok;

		if (!(o.cases & 1ULL << c))
			continue;
		case_get(c, &zc);
		case_set_model(&zc, &o);
		if (zc.inj && !ft_injection_in_model(zc.inj, case_model(&zc, &o),
						     strlen(case_model(&zc, &o)))) {
			printf("ok %d %s # SKIP in the code of %s\n", ++num, zc.name,
			       ft_injection_models(zc.inj));
			skip++;
			continue;
		}
		printf("# %s: scenario %s%s%s\n", zc.name, zc.file,
		       strcmp(case_model(&zc, &o), model_name(&o)) ? ", model " : "",
		       strcmp(case_model(&zc, &o), model_name(&o)) ? case_model(&zc, &o) : "");
		bound_s = o.bound_ns ? (unsigned int)(o.bound_ns / NSEC_PER_SEC) : zc.bound_s;
		for (u64 i = 0; i < o.nr_seeds; i++)
			run_one(&zc, &o, bound_s, ZOO_SEED + i, &runs[i]);
		ok = report_case(++num, &zc, &o, runs, (int)o.nr_seeds, bound_s);
		ok ? pass++ : fail++;
		if (json)
			json_case(json, &zc, &o, runs, (int)o.nr_seeds, bound_s, ok,
				  pass + fail == 1);
	}
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", pass, fail,
	       skip);
	if (json) {
		fprintf(json, "\n  ]\n}\n");
		if (fclose(json))
			return ft_usage_error("--json: cannot write '%s'", o.json);
	}
	return fail ? FT_EXIT_INVARIANT : FT_EXIT_SUCCESS;
}
