// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mm torture run's options: the command line, scenario files (the
 * same options in a file, as rcutorture's CFLAGS files), and the repro
 * line that states every parameter so a run can be repeated exactly.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft/contpte.h"
#include "ft/mapcount.h"
#include "ft/zoo.h"
#include "torture.h"

#define MAX_SCENARIO_ARGS	128

const char *const tt_op_names[NR_TT_OPS] = {
	[TT_READ] = "read", [TT_WRITE] = "write", [TT_FORK] = "fork",
	[TT_EXIT] = "exit", [TT_MUNMAP] = "munmap", [TT_MMAP] = "mmap",
	[TT_DONTNEED] = "dontneed", [TT_LAZYFREE] = "lazyfree", [TT_MPROTECT] = "mprotect",
	[TT_MIGRATE] = "migrate", [TT_YOUNG] = "young", [TT_PIN] = "pin",
	[TT_UNPIN] = "unpin", [TT_RECLAIM] = "reclaim", [TT_MREMAP] = "mremap",
	[TT_MEMSET] = "memset",
};

/* --sched's modes, indexed by tt_params.serial. */
const char *const tt_sched_mode_names[2] = { "parallel", "serial" };

/* Every operation often enough that each race the kernel's locking lets
 * happen comes up within seconds; accesses dominate, as in a process. */
static const u32 default_weights[NR_TT_OPS] = {
	[TT_READ] = 30, [TT_WRITE] = 30, [TT_FORK] = 3, [TT_EXIT] = 2,
	[TT_MUNMAP] = 2, [TT_MMAP] = 3, [TT_DONTNEED] = 5, [TT_LAZYFREE] = 3,
	[TT_MPROTECT] = 4,
	[TT_MIGRATE] = 6, [TT_YOUNG] = 3, [TT_PIN] = 6, [TT_UNPIN] = 6,
	[TT_RECLAIM] = 3, [TT_MREMAP] = 2, [TT_MEMSET] = 2,
};

static void tt_default_params(struct tt_params *p)
{
	*p = (struct tt_params){
		.threads = 4, .duration_ns = 30 * NSEC_PER_SEC,
		.seed = ft_seed_from_clock(), .max_mms = 8, .vma_size = 4UL << 20,
		.orders = BIT(0) | BIT(2) | BIT(4), .locking = "upstream",
		.model = "owner_slots", .break_policy = FT_BREAK_POLICY_RANDOM,
		.break_threshold = 32, .resched_ppm = 100000, .gather_size = 64,
		.gup_fast_rcu = true, .aim_ppm = TT_AIM_DEFAULT_PPM,
		.stat_interval_ns = 5 * NSEC_PER_SEC,
		.audit_interval_ns = 2 * NSEC_PER_SEC,
		.stall_timeout_ns = 30 * NSEC_PER_SEC, .lockdep = true,
		.repro_file = TT_NAME ".repro",
		.break_sites = FT_BREAK_SITES_ALL, .strategy = FT_SCHED_PCT,
		.pct_depth = 3, .audit_steps = 200000,
		.escalate_ns = 60 * NSEC_PER_SEC,
	};
	memcpy(p->weights, default_weights, sizeof(p->weights));
}

/* ---- Values ------------------------------------------------------------------ */

int tt_aim_parse(const char *arg, u64 *ppm)
{
	const char *p = arg;
	u64 v = 0, scale = 1000000;

	if (*p == '1' || *p == '0') {
		v = (u64)(*p++ - '0') * 1000000;
	} else if (*p != '.') {
		goto bad;
	}
	if (*p == '.') {
		if (!p[1])
			goto bad;
		for (p++; *p >= '0' && *p <= '9' && scale > 1; p++)
			v += (u64)(*p - '0') * (scale /= 10);
	}
	if (*p || v > 1000000)
		goto bad;
	*ppm = v;
	return 0;
bad:
	return ft_usage_error("--aim: '%s' is not a probability 0..1 (like 0.25, at most "
			      "six decimals)", arg);
}

const char *const tt_perturb_names[NR_TT_PERTURBS] = {
	[TT_PERTURB_AUTO] = "auto",
	[TT_PERTURB_YIELD] = "yield",
	[TT_PERTURB_SPIN] = "spin",
};

int tt_perturb_parse(const char *arg, enum tt_perturb *out)
{
	for (int i = 0; i < NR_TT_PERTURBS; i++)
		if (!strcmp(arg, tt_perturb_names[i])) {
			*out = (enum tt_perturb)i;
			return 0;
		}
	return ft_usage_error("--perturb: unknown mode '%s'; valid: auto yield spin", arg);
}

/* The --aim value as the parser reads it back: "0", "1", "0.25". */
static void format_aim(u64 ppm, char *buf, size_t size)
{
	size_t n;

	if (ppm == 0 || ppm == 1000000) {
		snprintf(buf, size, "%llu", (unsigned long long)ppm / 1000000);
		return;
	}
	snprintf(buf, size, "0.%06llu", (unsigned long long)ppm);
	for (n = strlen(buf); buf[n - 1] == '0'; n--)
		buf[n - 1] = '\0';
}

static int bad_vma_size(const char *arg)
{
	return ft_usage_error("--vma-size: '%s' is not a size in 64K..16M (a multiple "
			      "of 64K, like 4M or 512K)", arg);
}

/* "4M", "512K", "65536": a multiple of the 64K CONT block, 64K..16M. */
static int parse_vma_size(const char *arg, u64 *out)
{
	u64 mult = 1, v;
	size_t len = strlen(arg);
	char num[32];

	if (len && (arg[len - 1] == 'K' || arg[len - 1] == 'M')) {
		mult = arg[len - 1] == 'K' ? 1024 : 1024 * 1024;
		len--;
	}
	if (!len || len >= sizeof(num))
		return bad_vma_size(arg);
	memcpy(num, arg, len);
	num[len] = '\0';
	if (ft_parse_u64(num, 0, TT_MAX_VMA_SIZE, &v))
		return bad_vma_size(arg);
	v *= mult;
	if (v < CONT_PTE_SIZE || v > TT_MAX_VMA_SIZE || v % CONT_PTE_SIZE)
		return bad_vma_size(arg);
	*out = v;
	return 0;
}

static int parse_orders(const char *arg, unsigned long *out)
{
	char list[64], *cur = list, *tok;
	unsigned long orders = 0;
	u64 o;

	if (strlen(arg) >= sizeof(list))
		return ft_usage_error("--orders: list too long");
	strcpy(list, arg);
	while ((tok = ft_list_next(&cur))) {
		if (!*tok)
			return ft_opt_list_empty("orders", arg);
		if (ft_parse_u64(tok, 0, MAX_PAGE_ORDER, &o))
			return ft_usage_error("--orders: '%s' is not an order 0..%d",
					      tok, MAX_PAGE_ORDER);
		if (orders & BIT(o))
			return ft_usage_error("--orders: order %llu given twice",
					      (unsigned long long)o);
		orders |= BIT(o);
	}
	*out = orders;
	return 0;
}

static int op_by_name(const char *name)
{
	for (int i = 0; i < NR_TT_OPS; i++)
		if (!strcmp(tt_op_names[i], name))
			return i;
	return -1;
}

/* "read=30,fork=0": the named weights change, the others keep theirs. */
static int parse_ops(const char *arg, u32 *weights)
{
	char list[256], *cur = list, *tok;
	u64 total = 0, v;
	u32 seen = 0;

	if (strlen(arg) >= sizeof(list))
		return ft_usage_error("--ops: list too long");
	strcpy(list, arg);
	while ((tok = ft_list_next(&cur))) {
		char *eq = strchr(tok, '=');
		int op;

		if (!*tok)
			return ft_opt_list_empty("ops", arg);
		if (!eq)
			return ft_usage_error("--ops: '%s' is not NAME=WEIGHT", tok);
		*eq = '\0';
		op = op_by_name(tok);
		if (op < 0)
			return ft_usage_error("--ops: unknown operation '%s'; valid: read "
					      "write fork exit munmap mmap dontneed "
					      "lazyfree mprotect migrate young pin unpin reclaim mremap "
					      "memset",
					      tok);
		if (seen & BIT(op))
			return ft_usage_error("--ops: '%s' given twice", tok);
		seen |= BIT(op);
		if (ft_parse_u64(eq + 1, 0, 1000, &v))
			return ft_usage_error("--ops: weight '%s' of %s is not 0..1000",
					      eq + 1, tok);
		weights[op] = (u32)v;
	}
	for (int i = 0; i < NR_TT_OPS; i++)
		total += weights[i];
	if (!total)
		return ft_usage_error("--ops: every weight is 0");
	return 0;
}

static int parse_model(const char *arg, struct tt_params *p)
{
	char name[64];
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);

	if (len >= sizeof(name) || (comma && strcmp(comma, ",nopagemapcount")))
		return ft_usage_error("--model: '%s' is not MODEL[,nopagemapcount]", arg);
	memcpy(name, arg, len);
	name[len] = '\0';
	if (!ft_mapcount_model_find(name)) {
		char valid[256] = "";

		for (int i = 0; ft_mapcount_models[i]; i++)
			snprintf(valid + strlen(valid), sizeof(valid) - strlen(valid), "%s%s",
				 i ? ", " : "", ft_mapcount_models[i]->name);
		return ft_usage_error("--model: unknown model '%s'; valid: %s", name, valid);
	}
	strcpy(p->model, arg);
	return 0;
}

static int parse_inject(const char *arg, struct tt_params *p)
{
	char list[sizeof(p->inject)], *cur = list, *tok;
	u64 seen = 0;

	if (strlen(arg) >= sizeof(list))
		return ft_usage_error("--inject: list too long");
	strcpy(list, arg);
	while ((tok = ft_list_next(&cur))) {
		int i;

		if (!*tok)
			return ft_opt_list_empty("inject", arg);
		for (i = 0; i < FT_NR_INJECTIONS; i++)
			if (!strcmp(ft_injections[i].name, tok))
				break;
		if (i == FT_NR_INJECTIONS)
			return ft_usage_error("--inject: unknown injection '%s' (see "
					      "--list-injections)", tok);
		if (seen & (1ULL << i))
			return ft_usage_error("--inject: '%s' given twice", tok);
		seen |= 1ULL << i;
	}
	strcpy(p->inject, arg);
	return 0;
}

/* "fork,zap"; empty: none (what --minimize may leave). */
static int parse_break_sites(const char *arg, u32 *sites)
{
	switch (ft_break_sites_parse(arg, sites)) {
	case 0:
		return 0;
	case -ENODATA:
		return ft_opt_list_empty("break-sites", arg);
	case -EEXIST:
		return ft_usage_error("--break-sites: '%s' names a site twice", arg);
	default:
		return ft_usage_error("--break-sites: '%s' is not a list of fork "
				      "zap cond_resched gather irq", arg);
	}
}

/* ---- The option table ---------------------------------------------------------- */

enum {
	OPT_THREADS = 256, OPT_DURATION, OPT_SEED, OPT_MAX_MMS, OPT_VMA_SIZE,
	OPT_ORDERS, OPT_OPS, OPT_LOCKING, OPT_MODEL, OPT_BREAK_POLICY,
	OPT_BREAK_THRESHOLD, OPT_RESCHED_PPM, OPT_GATHER_SIZE, OPT_NO_GATHER, OPT_TLB, OPT_GUP_FAST,
	OPT_PERTURB,
	OPT_PAGE_WORDS, OPT_AIM,
	OPT_STAT, OPT_AUDIT, OPT_STALL, OPT_MAX_OPS, OPT_NO_LOCKDEP, OPT_JSON,
	OPT_SCENARIO, OPT_REPRO_FILE, OPT_LONG_HOLD, OPT_INJECT, OPT_BREAK_SITES,
	OPT_SCHED, OPT_STRATEGY, OPT_PCT_DEPTH, OPT_PCT_STEPS, OPT_SCHED_SEED,
	OPT_AUDIT_STEPS, OPT_ESCALATE, OPT_HELP,
};

static const struct option tt_options[] = {
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "max-mms", required_argument, NULL, OPT_MAX_MMS },
	{ "vma-size", required_argument, NULL, OPT_VMA_SIZE },
	{ "orders", required_argument, NULL, OPT_ORDERS },
	{ "ops", required_argument, NULL, OPT_OPS },
	{ "locking", required_argument, NULL, OPT_LOCKING },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "break-policy", required_argument, NULL, OPT_BREAK_POLICY },
	{ "break-threshold", required_argument, NULL, OPT_BREAK_THRESHOLD },
	{ "resched-ppm", required_argument, NULL, OPT_RESCHED_PPM },
	{ "gather-size", required_argument, NULL, OPT_GATHER_SIZE },
	{ "no-gather", no_argument, NULL, OPT_NO_GATHER },
	{ "tlb", no_argument, NULL, OPT_TLB },
	{ "gup-fast", required_argument, NULL, OPT_GUP_FAST },
	{ "page-words", required_argument, NULL, OPT_PAGE_WORDS },
	{ "aim", required_argument, NULL, OPT_AIM },
	{ "perturb", required_argument, NULL, OPT_PERTURB },
	{ "stat-interval", required_argument, NULL, OPT_STAT },
	{ "audit-interval", required_argument, NULL, OPT_AUDIT },
	{ "stall-timeout", required_argument, NULL, OPT_STALL },
	{ "max-ops", required_argument, NULL, OPT_MAX_OPS },
	{ "no-lockdep", no_argument, NULL, OPT_NO_LOCKDEP },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "scenario", required_argument, NULL, OPT_SCENARIO },
	{ "repro-file", required_argument, NULL, OPT_REPRO_FILE },
	{ "long-hold", required_argument, NULL, OPT_LONG_HOLD },
	{ "inject", required_argument, NULL, OPT_INJECT },
	{ "break-sites", required_argument, NULL, OPT_BREAK_SITES },
	{ "sched", required_argument, NULL, OPT_SCHED },
	{ "strategy", required_argument, NULL, OPT_STRATEGY },
	{ "pct-depth", required_argument, NULL, OPT_PCT_DEPTH },
	{ "pct-steps", required_argument, NULL, OPT_PCT_STEPS },
	{ "sched-seed", required_argument, NULL, OPT_SCHED_SEED },
	{ "audit-steps", required_argument, NULL, OPT_AUDIT_STEPS },
	{ "escalate", required_argument, NULL, OPT_ESCALATE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Options a repro file may carry: the run's, none that names a file. */
bool tt_option_replayable(const char *name, size_t len)
{
	static const char *const not_in_file[] = {
		"json", "scenario", "repro-file", "help", "quiet", "verbose",
	};

	for (size_t i = 0; i < ARRAY_SIZE(not_in_file); i++)
		if (strlen(not_in_file[i]) == len && !strncmp(not_in_file[i], name, len))
			return false;
	for (const struct option *o = tt_options; o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return true;
	return false;
}

static void usage(void)
{
	printf("usage: " TT_NAME " [options]          the mm torture run (default mode)\n"
	       "  --threads=N            workers, 1..%d (4)\n"
	       "  --duration=D           run time: 10s, 30m, 8h (30s)\n"
	       "  --seed=S               seed (drawn from the clock and printed)\n"
	       "  --max-mms=N            processes alive at once, 1..%d (8)\n"
	       "  --vma-size=SIZE        each process's window, 64K..16M (4M)\n"
	       "  --orders=LIST          enabled mTHP orders, e.g. 0,2,4,9 (0,2,4)\n"
	       "  --ops=NAME=W,...       operation weights: read write fork exit munmap\n"
	       "                         mmap dontneed lazyfree (MADV_FREE) mprotect\n"
	       "                         migrate young pin unpin reclaim mremap\n"
	       "                         memset\n"
	       "  --locking=MODE         upstream or spf (upstream)\n"
	       "  --model=M[,nopagemapcount]  mapcount model (owner_slots, owner_slots_v1,\n"
	       "                         rmap_id: large orders 2-5 only)\n"
	       "  --break-policy=P       random, kernel, aligned or never (random)\n"
	       "  --break-threshold=N    fork's progress threshold (32)\n"
	       "  --resched-ppm=N        need_resched() per break check, per million (100000)\n"
	       "  --gather-size=N        mmu_gather capacity, 1..4096 (64)\n"
	       "  --no-gather            MMU_GATHER_NO_GATHER (s390)\n"
	       "  --tlb                  CPUs keep translations until a flush\n"
	       "  --gup-fast=MODE        GUP-fast's walk: rcu (a TLB flush does not wait\n"
	       "                         for it, arm64's) or ipi (interrupts off: a\n"
	       "                         flush waits for it, x86's) (rcu)\n"
	       "  --page-words=N         content words a page's accesses use, 1 or 2;\n"
	       "                         2: two workers may use one page at once\n"
	       "                         (2; 1 with --locking=spf: see the README)\n"
	       "  --aim=P                operations aimed at another worker's open\n"
	       "                         window (a dropped lock, an interrupt point),\n"
	       "                         a probability 0..1 (0.5)\n"
	       "  --perturb=MODE         how a break or window gives the CPU away:\n"
	       "                         yield (sched_yield), spin (up to 2 us), or\n"
	       "                         auto: spin with one worker, else yield (auto)\n"
	       "  --stat-interval=D      status lines (5s)\n"
	       "  --audit-interval=D     stop-the-world audits (2s)\n"
	       "  --stall-timeout=D      no progress this long is a stall (30s)\n"
	       "  --max-ops=N            stop each worker after N operations\n"
	       "  --no-lockdep           without the lock validator\n"
	       "  --long-hold=D          one write in 4096 holds its PTL this long\n"
	       "                         (locktorture's long_hold; default 0)\n"
	       "  --inject=LIST          bug-zoo injections, comma-separated\n"
	       "  --break-sites=LIST     sites that may break: fork zap cond_resched\n"
	       "                         gather irq (all)\n"
	       "  --sched=MODE           parallel, or serial: one thread at a time,\n"
	       "                         switched at scheduling points (parallel)\n"
	       "  --strategy=S           serial mode's choice: pct or random (pct)\n"
	       "  --pct-depth=D          PCT's bug depth, 1..%d (3)\n"
	       "  --pct-steps=K          PCT's change points fall in [1, K]\n"
	       "                         (estimated from --threads and --max-ops)\n"
	       "  --sched-seed=S         the scheduler's seed (--seed)\n"
	       "  --audit-steps=N        serial mode: an audit every N steps (200000)\n"
	       "  --escalate=D           after a parallel failure, try to reproduce it\n"
	       "                         in serial mode for this long; 0: do not (60s)\n"
	       "  --json=FILE            write the figures and the outcome\n"
	       "  --scenario=FILE|NAME   read options from FILE, or a shipped scenario\n"
	       "                         by NAME (--list-scenarios)\n"
	       "  --repro-file=FILE      the repro line goes here too (" TT_NAME ".repro;\n"
	       "                         empty: none)\n"
	       "  -q, --quiet            no status lines;  -v, --verbose  more\n",
	       TT_MAX_THREADS, TT_MAX_MMS, FT_PCT_MAX_DEPTH);
}

static int parse_option(struct tt_params *p, int opt, char **argv, bool in_scenario)
{
	const u64 ms = NSEC_PER_MSEC;

	switch (opt) {
	case OPT_THREADS:
		return ft_opt_u64("threads", optarg, 1, TT_MAX_THREADS, &p->threads);
	case OPT_DURATION:
		return ft_opt_duration("duration", optarg, 100 * ms, &p->duration_ns);
	case OPT_SEED:
		return ft_opt_u64("seed", optarg, 0, UINT64_MAX, &p->seed);
	case OPT_MAX_MMS:
		return ft_opt_u64("max-mms", optarg, 1, TT_MAX_MMS, &p->max_mms);
	case OPT_VMA_SIZE:
		return parse_vma_size(optarg, &p->vma_size);
	case OPT_ORDERS:
		return parse_orders(optarg, &p->orders);
	case OPT_OPS:
		return parse_ops(optarg, p->weights);
	case OPT_LOCKING:
		if (!ft_locking_mode_find(optarg))
			return ft_usage_error("--locking: unknown mode '%s'; valid: "
					      "upstream spf", optarg);
		return ft_opt_string("locking", optarg, p->locking, sizeof(p->locking));
	case OPT_MODEL:
		return parse_model(optarg, p);
	case OPT_BREAK_POLICY:
		if (ft_break_policy_parse(optarg, &p->break_policy))
			return ft_usage_error("--break-policy: unknown policy '%s'; "
					      "valid: kernel random aligned never", optarg);
		return 0;
	case OPT_BREAK_THRESHOLD:
		return ft_opt_u64("break-threshold", optarg, 1, 100000, &p->break_threshold);
	case OPT_RESCHED_PPM:
		return ft_opt_u64("resched-ppm", optarg, 0, 1000000, &p->resched_ppm);
	case OPT_GATHER_SIZE:
		return ft_opt_u64("gather-size", optarg, 1, 4096, &p->gather_size);
	case OPT_TLB:
		p->tlb = true;
		return 0;
	case OPT_GUP_FAST:
		if (strcmp(optarg, "rcu") && strcmp(optarg, "ipi"))
			return ft_usage_error("--gup-fast: unknown mode '%s'; valid: rcu ipi",
					      optarg);
		p->gup_fast_rcu = !strcmp(optarg, "rcu");
		return 0;
	case OPT_PAGE_WORDS:
		return ft_opt_u64("page-words", optarg, 1, FT_PAGE_WORDS, &p->page_words);
	case OPT_AIM:
		return tt_aim_parse(optarg, &p->aim_ppm);
	case OPT_PERTURB:
		return tt_perturb_parse(optarg, &p->perturb);
	case OPT_NO_GATHER:
		p->no_gather = true;
		return 0;
	case OPT_STAT:
		return ft_opt_duration("stat-interval", optarg, 100 * ms, &p->stat_interval_ns);
	case OPT_AUDIT:
		return ft_opt_duration("audit-interval", optarg, 100 * ms,
				       &p->audit_interval_ns);
	case OPT_STALL:
		return ft_opt_duration("stall-timeout", optarg, 100 * ms,
				       &p->stall_timeout_ns);
	case OPT_MAX_OPS:
		return ft_opt_u64("max-ops", optarg, 1, UINT64_MAX, &p->max_ops);
	case OPT_NO_LOCKDEP:
		p->lockdep = false;
		return 0;
	case OPT_JSON:
		/* "-": standard output */
		if (strcmp(optarg, "-") && ft_opt_output("json", optarg))
			return FT_EXIT_USAGE;
		return ft_opt_string("json", optarg, p->json, sizeof(p->json));
	case OPT_SCENARIO:
		if (in_scenario)
			return ft_usage_error("--scenario: not allowed inside a scenario");
		return 0;	/* read before the command line */
	case OPT_LONG_HOLD:
		return ft_opt_duration("long-hold", optarg, 0, &p->long_hold_ns);
	case OPT_INJECT:
		return parse_inject(optarg, p);
	case OPT_BREAK_SITES:
		return parse_break_sites(optarg, &p->break_sites);
	case OPT_SCHED:
		for (int i = 0; i < 2; i++) {
			if (!strcmp(optarg, tt_sched_mode_names[i])) {
				p->serial = i;
				return 0;
			}
		}
		return ft_usage_error("--sched: unknown mode '%s'; valid: parallel serial",
				      optarg);
	case OPT_STRATEGY:
		if (ft_sched_strategy_parse(optarg, &p->strategy))
			return ft_usage_error("--strategy: unknown strategy '%s'; "
					      "valid: pct random", optarg);
		return 0;
	case OPT_PCT_DEPTH:
		return ft_opt_u64("pct-depth", optarg, 1, FT_PCT_MAX_DEPTH, &p->pct_depth);
	case OPT_PCT_STEPS:
		return ft_opt_u64("pct-steps", optarg, 1, UINT64_MAX, &p->pct_steps);
	case OPT_SCHED_SEED:
		p->sched_seed_set = true;
		return ft_opt_u64("sched-seed", optarg, 0, UINT64_MAX, &p->sched_seed);
	case OPT_AUDIT_STEPS:
		return ft_opt_u64("audit-steps", optarg, 1000, UINT64_MAX, &p->audit_steps);
	case OPT_ESCALATE:
		/* 0, in any unit: off */
		if (ft_opt_duration("escalate", optarg, 0, &p->escalate_ns))
			return FT_EXIT_USAGE;
		if (p->escalate_ns && p->escalate_ns < NSEC_PER_SEC)
			return ft_usage_error("--escalate: '%s' is shorter than 1000 ms "
					      "(0: off)", optarg);
		return 0;
	case OPT_REPRO_FILE:
		p->repro_asked = true;
		p->repro_file[0] = '\0';	/* empty: no repro file (--help) */
		if (!*optarg)
			return 0;
		return ft_opt_output("repro-file", optarg) ?:
		       ft_opt_string("repro-file", optarg, p->repro_file, sizeof(p->repro_file));
	case 'q':
		p->verbose = -1;
		return 0;
	case 'v':
		p->verbose = 1;
		return 0;
	default:
		return ft_bad_option(opt, argv);
	}
}

/* The options the command line or the scenario named: bit opt - OPT_THREADS. */
static u64 given;

#define GIVEN(opt)	(given & (1ULL << ((opt) - OPT_THREADS)))

/* One pass of getopt_long over @argv; 1 if --help was asked for. */
static int parse_argv(struct tt_params *p, int argc, char **argv, bool in_scenario)
{
	int opt, ret;

	opterr = 0;
	optind = 0;		/* glibc: full re-initialization */
	while ((opt = getopt_long(argc, argv, ":qvh", tt_options, NULL)) != -1) {
		if (opt == OPT_HELP || opt == 'h') {
			usage();
			return 1;
		}
		ret = parse_option(p, opt, argv, in_scenario);
		if (ret)
			return ret;
		if (opt >= OPT_THREADS)
			given |= 1ULL << (opt - OPT_THREADS);
	}
	if (optind < argc)
		return ft_usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* "4M", "512K": as --vma-size takes it. */
static const char *format_size(u64 bytes, char *buf, size_t len)
{
	if (bytes % (1UL << 20) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(bytes >> 20));
	else
		snprintf(buf, len, "%lluK", (unsigned long long)(bytes >> 10));
	return buf;
}

/* ---- Scenario files -------------------------------------------------------------- */

/* Where the shipped scenarios are: the source tree's, then the installed. */
static const char *const scenario_dirs[] = { FT_SCENARIO_DIR, FT_SCENARIO_INSTALL_DIR };

int tt_scenario_lookup(const char *name, char *path, size_t size)
{
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(scenario_dirs); i++) {
		snprintf(path, size, "%s/%s", scenario_dirs[i], name);
		if (!stat(path, &st) && S_ISREG(st.st_mode))
			return 0;
	}
	return -ENOENT;
}

/* --scenario's file: a path (with a '/', or a file here), or a shipped name. */
static int scenario_path(const char *arg, char *path, size_t size)
{
	if (strchr(arg, '/') || !access(arg, F_OK)) {
		snprintf(path, size, "%s", arg);
		return 0;
	}
	if (!tt_scenario_lookup(arg, path, size))
		return 0;
	return ft_usage_error("--scenario: no file '%s' and no shipped scenario of that "
			      "name (looked in %s and %s)", arg, scenario_dirs[0],
			      scenario_dirs[1]);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* A scenario's name and what it is for: the first line of its comment. */
/* A scenario's name and the first sentence of its leading comment. */
static void list_scenario(const char *dir, const char *name)
{
	char path[PATH_MAX], line[512], what[1024] = "";
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && line[0] == '#' && len < sizeof(what) / 2) {
		char *text = line + strspn(line, "# ");

		text[strcspn(text, "\n")] = '\0';
		len += (size_t)snprintf(what + len, sizeof(what) - len, "%s%s", len ? " " : "",
					text);
		if (strstr(what, ". ") || (len && what[len - 1] == '.'))
			break;
	}
	fclose(f);
	if (strstr(what, ". "))
		strstr(what, ". ")[1] = '\0';
	printf("%-20s %s\n", name, what);
}

int cmd_list_scenarios(int argc, char **argv)
{
	struct dirent **names;
	int n = -1;

	(void)argv;
	if (argc > 1)
		return ft_usage_error("--list-scenarios takes no options");
	for (size_t i = 0; n < 0 && i < ARRAY_SIZE(scenario_dirs); i++) {
		n = scandir(scenario_dirs[i], &names, NULL, by_name);
		for (int j = 0; j < n; j++) {
			if (names[j]->d_name[0] != '.')
				list_scenario(scenario_dirs[i], names[j]->d_name);
			free(names[j]);
		}
	}
	if (n < 0)
		return ft_usage_error("--list-scenarios: neither %s nor %s can be read",
				      scenario_dirs[0], scenario_dirs[1]);
	free(names);
	return FT_EXIT_SUCCESS;
}

/* The scenario named on the command line, if any. */
static const char *find_scenario(int argc, char **argv)
{
	const char *file = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--scenario=", 11))
			file = argv[i] + 11;
		else if (!strcmp(argv[i], "--scenario") && i + 1 < argc)
			file = argv[i + 1];
	}
	return file;
}

/* One line of a scenario file: its options, up to a '#'. */
static int read_scenario_line(struct tt_params *p, char *line)
{
	char *args[MAX_SCENARIO_ARGS + 1] = { (char *)"scenario" };
	char *save, *tok;
	int nr = 1, ret;

	for (tok = strtok_r(line, " \t\r\n", &save); tok && *tok != '#';
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (nr == MAX_SCENARIO_ARGS)
			return ft_usage_error("too many options");
		args[nr++] = tok;
	}
	args[nr] = NULL;
	ret = parse_argv(p, nr, args, true);
	if (ret == 1)
		return ft_usage_error("--help in a scenario");
	return ret;
}

/* Each line parsed by itself, so that an error can say which it was. */
static int read_scenario(struct tt_params *p, const char *file)
{
	char line[512], where[4096 + 16];	/* the path, ":", the line number */
	int lineno = 0, ret = 0;
	struct stat st;
	FILE *f;

	if (!stat(file, &st) && S_ISDIR(st.st_mode))
		return ft_usage_error("--scenario: '%s' is a directory", file);
	f = fopen(file, "r");
	if (!f)
		return ft_usage_error("--scenario: cannot open '%s': %s", file,
				      strerror(errno));
	ft_usage_context(where);
	while (!ret && fgets(line, sizeof(line), f)) {
		snprintf(where, sizeof(where), "%s:%d", file, ++lineno);
		if (!strchr(line, '\n') && !feof(f))
			ret = ft_usage_error("line too long");
		else
			ret = read_scenario_line(p, line);
	}
	ft_usage_context(NULL);
	fclose(f);
	return ret;
}

/* What the options leave open, made explicit so the repro line is exact. */
void tt_resolve_params(struct tt_params *p)
{
	if (!p->sched_seed_set)
		p->sched_seed = p->seed;
	p->sched_seed_set = true;
	/*
	 * Two workers on one page wherever the locking mode lets the shadow's
	 * rules hold.  spf lets a speculative COW fault copy a page during
	 * fork while another thread still writes to it through a translation
	 * from before fork's write-protect: the other word's write is lost
	 * (README, "The bug zoo"), so one word unless asked.
	 */
	if (!p->page_words)
		p->page_words = ft_locking_mode_find(p->locking)->fault_speculative ?
				1 : FT_PAGE_WORDS;
	/* Spinning saves the syscall, but races are found later whenever
	 * there is a second worker, even one per CPU (README, "Yield or
	 * spin"): only a lone worker spins. */
	if (p->perturb == TT_PERTURB_AUTO)
		p->perturb = p->threads == 1 ? TT_PERTURB_SPIN : TT_PERTURB_YIELD;
	if (!p->pct_steps) {
		p->pct_steps = p->threads * (p->max_ops ? p->max_ops : TT_OPS_ESTIMATE) *
			       TT_STEPS_PER_OP_ESTIMATE;
		p->pct_steps_guessed = !p->max_ops;
	}
}

/* The option names, for the errors below. */
static const char *opt_name(int opt)
{
	for (const struct option *o = tt_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

/*
 * An option the run would not read is refused rather than ignored: the
 * user meant something by it.  Only the options given are judged, never a
 * default; a repro file, which states every parameter, is not.
 */
static int check_unused(const struct tt_params *p)
{
	static const int serial_only[] = {
		OPT_STRATEGY, OPT_PCT_DEPTH, OPT_PCT_STEPS, OPT_SCHED_SEED, OPT_AUDIT_STEPS,
	};
	static const int breaking_only[] = {
		OPT_BREAK_THRESHOLD, OPT_RESCHED_PPM, OPT_BREAK_SITES,
	};

	for (size_t i = 0; i < ARRAY_SIZE(serial_only); i++)
		if (!p->serial && GIVEN(serial_only[i]))
			return ft_usage_error("--%s: only in a serial run (--sched=serial)",
					      opt_name(serial_only[i]));
	if (p->serial && GIVEN(OPT_ESCALATE) && p->escalate_ns)	/* 0: off anyway */
		return ft_usage_error("--escalate: only in a parallel run (a serial run "
				      "replays as it is)");
	if (p->serial && GIVEN(OPT_AUDIT))
		return ft_usage_error("--audit-interval: not in a serial run (it audits "
				      "every --audit-steps)");
	if (p->serial && p->strategy == FT_SCHED_RANDOM && GIVEN(OPT_PCT_STEPS))
		return ft_usage_error("--pct-steps: only with --strategy=pct");
	for (size_t i = 0; i < ARRAY_SIZE(breaking_only); i++)
		if (p->break_policy == FT_BREAK_POLICY_NEVER && GIVEN(breaking_only[i]))
			return ft_usage_error("--%s: unused under --break-policy=never",
					      opt_name(breaking_only[i]));
	if (p->no_gather && GIVEN(OPT_GATHER_SIZE))
		return ft_usage_error("--gather-size: unused with --no-gather (each page "
				      "is freed at once)");
	return 0;
}

/* An injection in one model's code would do nothing under another. */
static int check_injections_model(const struct tt_params *p)
{
	char list[sizeof(p->inject)], *cur = list, *tok;
	size_t len = strcspn(p->model, ",");

	strcpy(list, p->inject);
	while ((tok = ft_list_next(&cur))) {
		const struct ft_injection *inj = ft_injection_find(tok);

		if (inj && !ft_injection_in_model(inj, p->model, len))
			return ft_usage_error("--inject: '%s' is in the code of %s, not of "
					      "'%.*s'", tok, ft_injection_models(inj), (int)len,
					      p->model);
	}
	return 0;
}

/* A large folio of an enabled order must be one the model can track. */
static int check_orders_model(const struct tt_params *p)
{
	char name[sizeof(p->model)];
	const struct ft_mapcount_ops *mc;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(p->model, ","), p->model);
	mc = ft_mapcount_model_find(name);
	for (unsigned int o = 1; mc && mc->check_order && o < BITS_PER_LONG; o++) {
		const char *why = (p->orders & BIT(o)) ? mc->check_order(o) : NULL;

		if (why)
			return ft_usage_error("--orders: the %s model cannot track order-%u "
					      "folios: %s", name, o, why);
	}
	return 0;
}

/* A window smaller than a folio of an enabled order would never have one. */
static int check_orders_fit(const struct tt_params *p)
{
	int o = BITS_PER_LONG - 1 - __builtin_clzl(p->orders);
	char vma[24], folio[24];	/* a u64 and its unit */

	if ((PAGE_SIZE << o) <= p->vma_size)
		return 0;
	return ft_usage_error("--vma-size: %s is smaller than an order-%d folio (%s) "
			      "of --orders", format_size(p->vma_size, vma, sizeof(vma)), o,
			      format_size(PAGE_SIZE << o, folio, sizeof(folio)));
}

static int parse_all(struct tt_params *p, int argc, char **argv, bool strict)
{
	const char *scenario = find_scenario(argc, argv);
	int ret;

	given = 0;
	tt_default_params(p);
	if (scenario) {
		char path[PATH_MAX];

		ret = ft_opt_string("scenario", scenario, p->scenario, sizeof(p->scenario)) ?:
		      scenario_path(scenario, path, sizeof(path)) ?: read_scenario(p, path);
		if (ret)
			return ret;
	}
	ret = parse_argv(p, argc, argv, false) ?: check_injections_model(p) ?:
	      check_orders_model(p);
	if (!ret && strict)
		ret = check_unused(p) ?: check_orders_fit(p);
	if (!ret)
		tt_resolve_params(p);
	return ret;
}

int tt_parse_options(struct tt_params *p, int argc, char **argv)
{
	return parse_all(p, argc, argv, true);
}

int tt_parse_repro_options(struct tt_params *p, int argc, char **argv)
{
	return parse_all(p, argc, argv, false);
}

/* ---- The repro line ----------------------------------------------------------------- */

static void print_orders(FILE *out, unsigned long orders)
{
	const char *sep = "";

	for (int o = 0; o <= MAX_PAGE_ORDER; o++) {
		if (orders & BIT(o)) {
			fprintf(out, "%s%d", sep, o);
			sep = ",";
		}
	}
}

static void print_ops(FILE *out, const u32 *weights)
{
	for (int i = 0; i < NR_TT_OPS; i++)
		fprintf(out, "%s%s=%u", i ? "," : "", tt_op_names[i], weights[i]);
}

void tt_print_params(FILE *out, const struct tt_params *p)
{
	char d[32], si[32], ai[32], st[32];

	fprintf(out, "--threads=%llu --duration=%s --seed=0x%llx --max-mms=%llu --vma-size=",
		(unsigned long long)p->threads,
		ft_format_duration(p->duration_ns, d, sizeof(d)),
		(unsigned long long)p->seed, (unsigned long long)p->max_mms);
	fprintf(out, "%s", format_size(p->vma_size, d, sizeof(d)));
	fprintf(out, " --orders=");
	print_orders(out, p->orders);
	fprintf(out, " --ops=");
	print_ops(out, p->weights);
	/* Only what this run reads: the parser refuses the others. */
	fprintf(out, " --locking=%s --model=%s --break-policy=%s", p->locking, p->model,
		ft_break_policy_names[p->break_policy]);
	if (p->break_policy != FT_BREAK_POLICY_NEVER)
		fprintf(out, " --break-threshold=%llu --resched-ppm=%llu",
			(unsigned long long)p->break_threshold,
			(unsigned long long)p->resched_ppm);
	if (p->no_gather)
		fprintf(out, " --no-gather");
	else
		fprintf(out, " --gather-size=%llu", (unsigned long long)p->gather_size);
	fprintf(out, "%s --gup-fast=%s", p->tlb ? " --tlb" : "",
		p->gup_fast_rcu ? "rcu" : "ipi");
	format_aim(p->aim_ppm, d, sizeof(d));
	fprintf(out, " --page-words=%llu --aim=%s --perturb=%s --stat-interval=%s",
		(unsigned long long)p->page_words, d, tt_perturb_names[p->perturb],
		ft_format_duration(p->stat_interval_ns, si, sizeof(si)));
	if (!p->serial)
		fprintf(out, " --audit-interval=%s",
			ft_format_duration(p->audit_interval_ns, ai, sizeof(ai)));
	fprintf(out, " --stall-timeout=%s",
		ft_format_duration(p->stall_timeout_ns, st, sizeof(st)));
	if (p->max_ops)
		fprintf(out, " --max-ops=%llu", (unsigned long long)p->max_ops);
	if (p->long_hold_ns)
		fprintf(out, " --long-hold=%s",
			ft_format_duration(p->long_hold_ns, d, sizeof(d)));
	if (p->inject[0])
		fprintf(out, " --inject=%s", p->inject);
	if (!p->lockdep)
		fprintf(out, " --no-lockdep");
	if (p->break_sites != FT_BREAK_SITES_ALL &&
	    p->break_policy != FT_BREAK_POLICY_NEVER) {
		const char *sep = "";

		fprintf(out, " --break-sites=");
		for (int i = 0; i < NR_FT_BREAK_SITES; i++) {
			if (p->break_sites & (1u << i)) {
				fprintf(out, "%s%s", sep, ft_break_site_names[i]);
				sep = ",";
			}
		}
	}
	if (p->serial) {
		/* --pct-depth also seeds the random strategy's stream */
		fprintf(out, " --sched=serial --strategy=%s --pct-depth=%llu",
			ft_sched_strategy_names[p->strategy], (unsigned long long)p->pct_depth);
		if (p->strategy == FT_SCHED_PCT)
			fprintf(out, " --pct-steps=%llu", (unsigned long long)p->pct_steps);
		fprintf(out, " --sched-seed=0x%llx --audit-steps=%llu",
			(unsigned long long)p->sched_seed, (unsigned long long)p->audit_steps);
	} else
		fprintf(out, " --escalate=%s", p->escalate_ns ?
			ft_format_duration(p->escalate_ns, d, sizeof(d)) : "0");
}

void tt_print_repro(FILE *out, const struct tt_params *p)
{
	fprintf(out, TT_NAME ": repro: " TT_NAME " ");
	tt_print_params(out, p);
	fprintf(out, "\n");
}
