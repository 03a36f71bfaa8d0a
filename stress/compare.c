// SPDX-License-Identifier: GPL-2.0-only
/*
 * foliotorture --compare-models=LIST [--parallel] [--json=FILE] [run options]:
 * the same torture run (options, seed, scenario) under each mapcount model,
 * one child process each, one after the other or all at once, and one
 * table of what each model cost and how often it was wrong:
 *
 *   ops/s            the run's throughput
 *   updates/s        large-mapcount updates (set, add, sub) per second
 *   ns/update        their mean time, lock waits included (one in 64 timed)
 *   lock wait        the workers' time waiting for the model's lock class
 *   retries/s        lock-free readers that retried or gave up because a
 *                    writer was active (rmap_id's; 0 for locked models)
 *   COW reuse, copy  the model's decisions on large folios at write faults
 *   avoidable        copies where the faulting table mapped every mapping
 *                    and every reference was one (an exact scheme reuses)
 *   checked, false+, false-
 *                    at the audits, large folios mapped twice or more, and
 *                    the model's "maybe mapped shared" against the MMs the
 *                    tables show
 *
 * Each child writes the run's JSON (doc/json.md), which is all this reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ft/mapcount.h"
#include "stress.h"

#define CMP_MAX_MODELS	8
#define CMP_MAX_ARGS	64

struct cmp_run {
	const struct ft_mapcount_ops *model;
	char json[512], log[512], repro[512];
	pid_t pid;
	int status;
	char outcome[32];
	double elapsed_s, ops, updates, timed, timed_ns, wall_ns, lock_ns, retries;
	double reuse, copy, avoidable, checked, false_pos, false_neg;
};

struct cmp_opts {
	struct cmp_run run[CMP_MAX_MODELS];
	int nr;
	bool parallel;
	char json[256];
	bool seed_given;
	char seed_arg[64];		/* --seed=S, when we chose it */
	char *args[CMP_MAX_ARGS];	/* the run options passed on */
	int nr_args;
	char dir[64];
};

static int parse_models(const char *arg, struct cmp_opts *o)
{
	char list[256], *cur = list, *name;
	int ret = ft_opt_string("compare-models", arg, list, sizeof(list));

	if (ret)
		return ret;
	while ((name = ft_list_next(&cur))) {
		if (!*name)
			return ft_opt_list_empty("compare-models", arg);
		if (o->nr == CMP_MAX_MODELS)
			return ft_usage_error("--compare-models: more than %d models",
					      CMP_MAX_MODELS);
		o->run[o->nr].model = ft_mapcount_model_find(name);
		if (!o->run[o->nr].model)
			return ft_usage_error("--compare-models: unknown model '%s'", name);
		for (int i = 0; i < o->nr; i++)
			if (o->run[i].model == o->run[o->nr].model)
				return ft_usage_error("--compare-models: '%s' given twice", name);
		o->nr++;
	}
	if (o->nr < 2)
		return ft_usage_error("--compare-models: two models at least");
	return 0;
}

static bool has_prefix(const char *arg, const char *opt)
{
	size_t len = strlen(opt);

	return !strncmp(arg, opt, len) && (arg[len] == '=' || !arg[len]);
}

/* Our own options out, the rest kept for the runs; --model and the
 * outputs each run gets from us are refused. */
static int parse_args(int argc, char **argv, struct cmp_opts *o)
{
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--parallel")) {
			o->parallel = true;
		} else if (!strncmp(argv[i], "--json=", 7)) {
			int ret = ft_opt_output("json", argv[i] + 7);

			if (ret || (ret = ft_opt_string("json", argv[i] + 7, o->json,
							sizeof(o->json))))
				return ret;
		} else if (has_prefix(argv[i], "--model") || has_prefix(argv[i], "--repro-file") ||
			   has_prefix(argv[i], "--json")) {
			return ft_usage_error("--compare-models: '%s' is set for each run", argv[i]);
		} else if (o->nr_args == CMP_MAX_ARGS - 8) {
			return ft_usage_error("--compare-models: more than %d run options",
					      CMP_MAX_ARGS - 8);
		} else {
			o->seed_given |= has_prefix(argv[i], "--seed");
			o->args[o->nr_args++] = argv[i];
		}
	}
	return 0;
}

/* One seed for every run: the user's, or one chosen here and printed. */
static void choose_seed(struct cmp_opts *o)
{
	struct timespec ts;

	if (o->seed_given)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(o->seed_arg, sizeof(o->seed_arg), "--seed=0x%llx",
		 (unsigned long long)((u64)ts.tv_sec * 1000003ULL ^ (u64)ts.tv_nsec) & 0xffffffffULL);
	o->args[o->nr_args++] = o->seed_arg;
}

static pid_t start_run(struct cmp_opts *o, struct cmp_run *r)
{
	char model[80], json[560], repro[560];
	char *argv[CMP_MAX_ARGS + 5];
	int n = 0;

	snprintf(r->json, sizeof(r->json), "%s/%s.json", o->dir, r->model->name);
	snprintf(r->log, sizeof(r->log), "%s/%s.log", o->dir, r->model->name);
	snprintf(r->repro, sizeof(r->repro), "%s/%s.repro", o->dir, r->model->name);
	snprintf(model, sizeof(model), "--model=%s", r->model->name);
	snprintf(json, sizeof(json), "--json=%s", r->json);
	snprintf(repro, sizeof(repro), "--repro-file=%s", r->repro);
	argv[n++] = (char *)FT_PROG;
	for (int i = 0; i < o->nr_args; i++)
		argv[n++] = o->args[i];
	argv[n++] = model;
	argv[n++] = json;
	argv[n++] = repro;
	argv[n++] = (char *)"-q";
	argv[n] = NULL;
	return ft_child_spawn(argv, r->log);
}

/* ---- Reading a run's JSON (our own format: each key named once) ------------------ */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc((size_t)len + 1))) {
		fclose(f);
		return NULL;
	}
	buf[fread(buf, 1, (size_t)len, f)] = '\0';
	fclose(f);
	return buf;
}

/* The number after the first "@key": at or after @from; 0 if absent. */
static double json_num(const char *text, const char *from, const char *key)
{
	char pat[128];
	const char *at = strstr(text, from);

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	at = at ? strstr(at, pat) : NULL;
	return at ? strtod(at + strlen(pat), NULL) : 0;
}

static void read_run(struct cmp_run *r)
{
	char *j = slurp(r->json);
	const char *o;

	if (!j) {
		snprintf(r->outcome, sizeof(r->outcome), "no JSON");
		return;
	}
	o = strstr(j, "\"outcome\": \"");
	if (o)
		sscanf(o + 12, "%31[^\"]", r->outcome);
	r->elapsed_s = json_num(j, "", "elapsed_s");
	r->ops = json_num(j, "", "total_ops");
	r->updates = json_num(j, "\"vm_events\"", "mapcount_update");
	r->timed = json_num(j, "\"vm_events\"", "mapcount_update_timed");
	r->timed_ns = json_num(j, "\"vm_events\"", "mapcount_update_timed_ns");
	r->reuse = json_num(j, "\"vm_events\"", "cow_large_reuse");
	r->copy = json_num(j, "\"vm_events\"", "cow_large_copy");
	r->avoidable = json_num(j, "\"vm_events\"", "cow_large_copy_avoidable");
	r->wall_ns = json_num(j, "\"time_ns\"", "wall");
	r->lock_ns = json_num(j, "\"lock_classes\"", r->model->lock_class);
	r->retries = json_num(j, "\"vm_events\"", "mapcount_read_retry");
	r->checked = json_num(j, "\"maybe_shared_truth\"", "checked");
	r->false_pos = json_num(j, "\"maybe_shared_truth\"", "false_positives");
	r->false_neg = json_num(j, "\"maybe_shared_truth\"", "false_negatives");
	free(j);
}

/* ---- The table and the JSON --------------------------------------------------------- */

static double per_s(double n, const struct cmp_run *r)
{
	return r->elapsed_s > 0 ? n / r->elapsed_s : 0;
}

static double ratio(double n, double d)
{
	return d > 0 ? n / d : 0;
}

static void print_table(const struct cmp_opts *o)
{
	printf("%-16s %-9s %9s %10s %9s %9s %9s %8s %8s %9s %8s %7s %7s\n", "model",
	       "outcome", "ops/s", "updates/s", "ns/update", "lock wait", "retries/s",
	       "COW reuse", "copy", "avoidable", "checked", "false+", "false-");
	for (int i = 0; i < o->nr; i++) {
		const struct cmp_run *r = &o->run[i];

		printf("%-16s %-9s %9.0f %10.0f %9.0f %8.2f%% %9.1f %9.0f %8.0f %9.0f %8.0f "
		       "%7.0f %7.0f\n", r->model->name, r->outcome, per_s(r->ops, r),
		       per_s(r->updates, r), ratio(r->timed_ns, r->timed),
		       100 * ratio(r->lock_ns, r->wall_ns), per_s(r->retries, r), r->reuse,
		       r->copy, r->avoidable, r->checked, r->false_pos, r->false_neg);
	}
}

static int write_json(const struct cmp_opts *o)
{
	FILE *f = strcmp(o->json, "-") ? fopen(o->json, "w") : stdout;

	if (!f)
		return -errno;
	fprintf(f, "{\n  \"schema\": 1,\n  \"parallel\": %s,\n  \"runs\": [\n",
		o->parallel ? "true" : "false");
	for (int i = 0; i < o->nr; i++) {
		const struct cmp_run *r = &o->run[i];

		fprintf(f, "    { \"model\": \"%s\", \"outcome\": \"%s\", \"exit_code\": %d, "
			"\"elapsed_s\": %.3f, \"ops_per_s\": %.1f, \"mapcount_updates_per_s\": %.1f, "
			"\"ns_per_update\": %.1f, \"model_lock_wait_ns\": %.0f, \"wall_ns\": %.0f, "
			"\"mapcount_read_retries\": %.0f, "
			"\"cow_large_reuse\": %.0f, \"cow_large_copy\": %.0f, "
			"\"cow_large_copy_avoidable\": %.0f, \"shared_checked\": %.0f, "
			"\"false_positives\": %.0f, \"false_negatives\": %.0f, \"json\": \"%s\" }%s\n",
			r->model->name, r->outcome, r->status, r->elapsed_s, per_s(r->ops, r),
			per_s(r->updates, r), ratio(r->timed_ns, r->timed), r->lock_ns, r->wall_ns,
			r->retries, r->reuse, r->copy, r->avoidable, r->checked, r->false_pos, r->false_neg,
			r->json, i + 1 < o->nr ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	return f == stdout ? 0 : (fclose(f) ? -EIO : 0);
}

/* ---- The mode ------------------------------------------------------------------------ */

static void usage(void)
{
	printf("usage: " FT_PROG " --compare-models=M1,M2[,...] [--parallel] [--json=FILE]\n"
	       "       [run options]\n\n"
	       "The same run (options, seed, scenario) under each mapcount model, one\n"
	       "process each, in turn (or all at once with --parallel); one table of\n"
	       "ops/s, mapcount updates and their cost, time waiting for the model's\n"
	       "lock and lock-free readers' retries, large-folio COW reuses, copies and avoidable copies, and the\n"
	       "audits' false positives and negatives.  Without --seed one is chosen\n"
	       "and printed.  Models:");
	for (int i = 0; ft_mapcount_models[i]; i++)
		printf(" %s", ft_mapcount_models[i]->name);
	printf("\n");
}

/* A run that refused its options: its one-line error is ours. */
static bool refused(const struct cmp_run *r)
{
	char line[512];
	FILE *f;

	if (r->status != FT_EXIT_USAGE)
		return false;
	f = fopen(r->log, "r");
	if (f && fgets(line, sizeof(line), f))
		fputs(line, stderr);
	if (f)
		fclose(f);
	return true;
}

/* False if the run options were refused (the same for every run). */
static bool run_all(struct cmp_opts *o)
{
	bool hung;

	for (int i = 0; i < o->nr; i++) {
		o->run[i].pid = start_run(o, &o->run[i]);
		if (o->parallel)
			continue;
		o->run[i].status = ft_child_reap(o->run[i].pid, 0, &hung);
		if (refused(&o->run[i]))
			return false;
	}
	for (int i = 0; i < o->nr && o->parallel; i++)
		o->run[i].status = ft_child_reap(o->run[i].pid, 0, &hung);
	return !o->parallel || !refused(&o->run[0]);
}

/* The first run that did not succeed decides the exit code. */
static int verdict(const struct cmp_opts *o)
{
	for (int i = 0; i < o->nr; i++) {
		const struct cmp_run *r = &o->run[i];

		if (r->status == FT_EXIT_SUCCESS)
			continue;
		fprintf(stderr, FT_PROG ": --compare-models: %s exited %d; its log: %s\n",
			r->model->name, r->status, r->log);
		return r->status > 0 ? r->status : FT_EXIT_INVARIANT;
	}
	return FT_EXIT_SUCCESS;
}

int cmd_compare_models(int argc, char **argv)
{
	static struct cmp_opts o;
	int ret;

	if ((argc > 1 && ft_help_asked(argv[1])) || (argc > 2 && ft_help_asked(argv[2]))) {
		usage();
		return FT_EXIT_SUCCESS;
	}
	if (argc < 2)
		return ft_usage_error("--compare-models needs a list of models");
	ret = parse_models(argv[1], &o);
	if (ret || (ret = parse_args(argc, argv, &o)))
		return ret;
	choose_seed(&o);
	snprintf(o.dir, sizeof(o.dir), "/tmp/foliotorture-compare.XXXXXX");
	if (!mkdtemp(o.dir))
		return ft_usage_error("--compare-models: cannot make a directory in /tmp: %s",
				      strerror(errno));
	printf(FT_PROG " --compare-models: %d models, %s, logs in %s; each run:",
	       o.nr, o.parallel ? "in parallel" : "one after another", o.dir);
	for (int i = 0; i < o.nr_args; i++)
		printf(" %s", o.args[i]);
	printf("\n");
	if (!run_all(&o))
		return FT_EXIT_USAGE;
	for (int i = 0; i < o.nr; i++)
		read_run(&o.run[i]);
	print_table(&o);
	if (o.json[0] && write_json(&o))
		fprintf(stderr, FT_PROG ": --json: cannot write '%s'\n", o.json);
	return verdict(&o);
}
