// SPDX-License-Identifier: GPL-2.0-only
/*
 * Repro files: what `foliotorture --replay FILE` needs to run a failure
 * again, written before the process exits (and at the start, so that a
 * hang leaves one too).  Version 1, one "key value" per line:
 *
 *	# comment
 *	foliotorture-repro 1
 *	outcome failure			running, success, failure, interrupted
 *	exit 1				the exit code
 *	invariant shadow memory		the oracle, splat or stall that fired
 *	step 123456			serial mode: the scheduling point it fired at
 *	ops 812				operations the busiest worker had started
 *	elapsed-ns 12345678		a failure: from the start of the test to
 *					its report (the zoo's time to detect)
 *	seed 0x5eed			the run's mode, seed and strategy, also in
 *	sched serial			the options line; they must agree with it
 *	strategy pct
 *	pct-depth 2
 *	kernel-break-rule reachable	escalation of a --break-policy=random
 *					failure: reproduced under the kernel's
 *					rule (reachable) or not (not-shown)
 *	options --threads=4 ...		every option of the run
 *
 * The parser takes hostile input: a bounded size, printable ASCII only,
 * every key known and given once, numbers in range, and only the run's own
 * options (none that reads or writes a file).  It never prints; the caller
 * owns the one-line error.  stress/fuzz_repro.c fuzzes it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "torture.h"

static const char *const outcome_names[NR_TT_OUTCOMES] = {
	[TT_OUTCOME_RUNNING] = "running",
	[TT_OUTCOME_SUCCESS] = "success",
	[TT_OUTCOME_FAILURE] = "failure",
	[TT_OUTCOME_INTERRUPTED] = "interrupted",
};

static const char *const kernel_rule_names[NR_TT_KERNEL_RULES] = {
	[TT_KERNEL_RULE_UNKNOWN] = "unknown",
	[TT_KERNEL_RULE_REACHABLE] = "reachable",
	[TT_KERNEL_RULE_NOT_SHOWN] = "not-shown",
};

enum repro_key {
	K_MAGIC, K_OUTCOME, K_EXIT, K_INVARIANT, K_STEP, K_OPS, K_ELAPSED, K_SEED,
	K_SCHED, K_STRATEGY, K_PCT_DEPTH, K_KERNEL_RULE, K_OPTIONS, NR_KEYS
};

static const char *const key_names[NR_KEYS] = {
	[K_MAGIC] = TT_REPRO_MAGIC, [K_OUTCOME] = "outcome", [K_EXIT] = "exit",
	[K_INVARIANT] = "invariant", [K_STEP] = "step", [K_OPS] = "ops",
	[K_ELAPSED] = "elapsed-ns",
	[K_SEED] = "seed", [K_SCHED] = "sched", [K_STRATEGY] = "strategy",
	[K_PCT_DEPTH] = "pct-depth", [K_KERNEL_RULE] = "kernel-break-rule",
	[K_OPTIONS] = "options",
};

/* Keys every file has; the others default to "unknown". */
#define REQUIRED_KEYS	((1u << K_MAGIC) | (1u << K_OUTCOME) | (1u << K_SEED) | \
			 (1u << K_SCHED) | (1u << K_OPTIONS))

/* ---- Writing ------------------------------------------------------------------- */

int tt_repro_write(const char *file, const struct tt_params *p,
		   const struct tt_outcome *o)
{
	FILE *f;

	if (!file[0])
		return 0;
	f = fopen(file, "w");
	if (!f)
		return -errno;
	fprintf(f, "# " TT_NAME " repro file; run it again: " TT_NAME " --replay FILE\n");
	fprintf(f, TT_REPRO_MAGIC " %d\n", TT_REPRO_VERSION);
	fprintf(f, "outcome %s\n", outcome_names[o->outcome]);
	if (o->outcome != TT_OUTCOME_RUNNING)
		fprintf(f, "exit %d\n", o->exit_code);
	if (o->invariant[0])
		fprintf(f, "invariant %s\n", o->invariant);
	if (o->step)
		fprintf(f, "step %llu\n", (unsigned long long)o->step);
	if (o->ops)
		fprintf(f, "ops %llu\n", (unsigned long long)o->ops);
	if (o->outcome == TT_OUTCOME_FAILURE && o->elapsed_ns)
		fprintf(f, "elapsed-ns %llu\n", (unsigned long long)o->elapsed_ns);
	fprintf(f, "seed 0x%llx\nsched %s\n", (unsigned long long)p->seed,
		tt_sched_mode_names[p->serial]);
	if (p->serial)
		fprintf(f, "strategy %s\npct-depth %llu\n", ft_sched_strategy_names[p->strategy],
			(unsigned long long)p->pct_depth);
	fprintf(f, "options ");
	tt_print_params(f, p);
	fprintf(f, "\n");
	return fclose(f) ? -EIO : 0;
}

int tt_repro_add_kernel_rule(const char *file, enum tt_kernel_rule rule)
{
	FILE *f = fopen(file, "a");

	if (!f)
		return -errno;
	fprintf(f, "kernel-break-rule %s\n", kernel_rule_names[rule]);
	return fclose(f) ? -EIO : 0;
}

/* ---- Parsing ------------------------------------------------------------------- */

struct parse {
	struct tt_repro *r;
	char *err;
	size_t errlen;
	int line;
	u32 seen;
};

static int bad(struct parse *ps, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ps->err, ps->errlen, "line %d: ", ps->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < ps->errlen)
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_number(struct parse *ps, const char *v, u64 hi, u64 *out)
{
	if (ft_parse_u64(v, 0, hi, out))
		return bad(ps, "'%.32s' is not a number in 0..%llu", v,
			   (unsigned long long)hi);
	return 0;
}

static int parse_name(struct parse *ps, const char *v, const char *const *names,
		      int n, int *out)
{
	for (int i = 0; i < n; i++) {
		if (!strcmp(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	return bad(ps, "unknown value '%.32s'", v);
}

/* "--name=value" or "--name", each a replayable option, into r->argv. */
static int parse_options(struct parse *ps, char *v)
{
	struct tt_repro *r = ps->r;
	char *save, *tok;

	strcpy(r->args, v);
	r->argc = 0;
	r->argv[r->argc++] = (char *)TT_NAME;
	for (tok = strtok_r(r->args, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		size_t len = strcspn(tok, "=");

		if (strncmp(tok, "--", 2) || len <= 2)
			return bad(ps, "'%.32s' is not an option", tok);
		if (!tt_option_replayable(tok + 2, len - 2))
			return bad(ps, "option '%.*s' is not allowed in a repro file",
				   (int)min(len, (size_t)32), tok);
		if (r->argc == TT_REPRO_MAX_ARGS)
			return bad(ps, "more than %d options", TT_REPRO_MAX_ARGS - 1);
		r->argv[r->argc++] = tok;
	}
	r->argv[r->argc] = NULL;
	return 0;
}

static int parse_value(struct parse *ps, enum repro_key k, char *v)
{
	struct tt_repro *r = ps->r;
	int i = 0, ret = 0;
	u64 n = 0;

	switch (k) {
	case K_MAGIC:
		ret = parse_number(ps, v, INT32_MAX, &n);
		if (!ret && n != TT_REPRO_VERSION)
			return bad(ps, "version %llu; this " TT_NAME " reads version %d",
				   (unsigned long long)n, TT_REPRO_VERSION);
		return ret;
	case K_OUTCOME:
		ret = parse_name(ps, v, outcome_names, NR_TT_OUTCOMES, &i);
		r->outcome = (enum tt_outcome_kind)i;
		return ret;
	case K_EXIT:
		ret = parse_number(ps, v, 255, &n);
		r->exit_code = (int)n;
		return ret;
	case K_INVARIANT:
		if (strlen(v) >= sizeof(r->invariant))
			return bad(ps, "invariant longer than %zu", sizeof(r->invariant) - 1);
		strcpy(r->invariant, v);
		return 0;
	case K_STEP:
		return parse_number(ps, v, UINT64_MAX, &r->step);
	case K_OPS:
		return parse_number(ps, v, UINT64_MAX, &r->ops);
	case K_ELAPSED:
		return parse_number(ps, v, UINT64_MAX, &r->elapsed_ns);
	case K_SEED:
		return parse_number(ps, v, UINT64_MAX, &r->seed);
	case K_SCHED:
		ret = parse_name(ps, v, tt_sched_mode_names, 2, &i);
		r->serial = i;
		return ret;
	case K_STRATEGY:
		ret = parse_name(ps, v, ft_sched_strategy_names, NR_FT_SCHED_STRATEGIES, &i);
		r->strategy = (enum ft_sched_strategy)i;
		return ret;
	case K_PCT_DEPTH:
		ret = parse_number(ps, v, FT_PCT_MAX_DEPTH, &r->pct_depth);
		if (!ret && !r->pct_depth)
			return bad(ps, "pct-depth 0");
		return ret;
	case K_KERNEL_RULE:
		ret = parse_name(ps, v, kernel_rule_names, NR_TT_KERNEL_RULES, &i);
		r->kernel_rule = (enum tt_kernel_rule)i;
		return ret;
	case K_OPTIONS:
		return parse_options(ps, v);
	default:
		return bad(ps, "internal: key %d", k);
	}
}

static int parse_line(struct parse *ps, char *line)
{
	char *sp = strchr(line, ' ');
	size_t klen = sp ? (size_t)(sp - line) : strlen(line);
	int k;

	if (!line[0] || line[0] == '#')
		return 0;
	for (k = 0; k < NR_KEYS; k++)
		if (strlen(key_names[k]) == klen && !strncmp(line, key_names[k], klen))
			break;
	if (k == NR_KEYS)
		return bad(ps, "unknown key '%.*s'", (int)min(klen, (size_t)32), line);
	if (!ps->seen && k != K_MAGIC)
		return bad(ps, "not a repro file (no '" TT_REPRO_MAGIC " N' line first)");
	if (ps->seen & (1u << k))
		return bad(ps, "'%s' given twice", key_names[k]);
	if (!sp || !sp[1])
		return bad(ps, "'%s' has no value", key_names[k]);
	ps->seen |= 1u << k;
	return parse_value(ps, (enum repro_key)k, sp + 1);
}

/* Every byte printable ASCII or a newline; no line too long. */
static int check_bytes(struct parse *ps, const char *buf, size_t len)
{
	size_t col = 0;

	ps->line = 1;
	for (size_t i = 0; i < len; i++, col++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n') {
			ps->line++;
			col = 0;
			continue;
		}
		if (c < 0x20 || c > 0x7e)
			return bad(ps, "byte 0x%02x is not printable ASCII", c);
		if (col >= TT_REPRO_MAX_LINE - 1)
			return bad(ps, "longer than %d bytes", TT_REPRO_MAX_LINE - 1);
	}
	return 0;
}

int tt_repro_parse(const char *buf, size_t len, struct tt_repro *r, char *err,
		   size_t errlen)
{
	struct parse ps = { .r = r, .err = err, .errlen = errlen };
	char line[TT_REPRO_MAX_LINE];
	const char *end = buf + len;
	int ret;

	*r = (struct tt_repro){ .strategy = FT_SCHED_PCT, .pct_depth = 1 };
	if (len > TT_REPRO_MAX_BYTES)
		return bad(&ps, "the file is larger than %d bytes", TT_REPRO_MAX_BYTES);
	ret = check_bytes(&ps, buf, len);
	if (ret)
		return ret;
	for (ps.line = 1; buf < end; ps.line++) {
		const char *nl = memchr(buf, '\n', (size_t)(end - buf));
		size_t n = nl ? (size_t)(nl - buf) : (size_t)(end - buf);

		memcpy(line, buf, n);
		line[n] = '\0';
		ret = parse_line(&ps, line);
		if (ret)
			return ret;
		buf += n + (nl != NULL);
	}
	if ((ps.seen & REQUIRED_KEYS) != REQUIRED_KEYS) {
		for (int k = 0; k < NR_KEYS; k++)
			if ((REQUIRED_KEYS & ~ps.seen) & (1u << k))
				return bad(&ps, "no '%s' line", key_names[k]);
	}
	return 0;
}

/*
 * The run's parameters from @argv (@r's options and maybe more), which
 * must agree with the keys that repeat them: a file edited on one line
 * only is damaged.
 */
int tt_repro_params(const struct tt_repro *r, int argc, char **argv,
		    struct tt_params *p, char *err, size_t errlen)
{
	if (tt_parse_repro_options(p, argc, argv)) {	/* printed; no --help in a file */
		snprintf(err, errlen, "its options line is not valid");
		return -EINVAL;
	}
	if (p->seed != r->seed || p->serial != r->serial ||
	    (r->serial && (p->strategy != r->strategy || p->pct_depth != r->pct_depth))) {
		snprintf(err, errlen, "the seed, sched, strategy or pct-depth lines "
			 "disagree with the options line");
		return -EPROTO;
	}
	return 0;
}

int tt_repro_load(const char *file, struct tt_repro *r, char *err, size_t errlen)
{
	char *buf = malloc(TT_REPRO_MAX_BYTES + 1);
	FILE *f = fopen(file, "r");
	size_t len;
	int ret;

	if (!buf || !f) {
		ret = buf ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot read it: %s", strerror(-ret));
		goto out;
	}
	len = fread(buf, 1, TT_REPRO_MAX_BYTES + 1, f);
	if (ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "cannot read it");
		goto out;
	}
	ret = tt_repro_parse(buf, len, r, err, errlen);
out:
	if (f)
		fclose(f);
	free(buf);
	return ret;
}

int tt_repro_read(const char *file, struct tt_repro *r)
{
	char err[160];

	if (tt_repro_load(file, r, err, sizeof(err)))
		return ft_usage_error("repro file %s: %s", file, err);
	return 0;
}

int tt_repro_read_params(const char *file, const struct tt_repro *r, int argc,
			 char **argv, struct tt_params *p)
{
	char err[160];
	int ret = tt_repro_params(r, argc, argv, p, err, sizeof(err));

	if (ret == -EINVAL)
		return FT_EXIT_USAGE;	/* the option's own error said why */
	if (ret)
		return ft_usage_error("repro file %s: %s", file, err);
	return 0;
}
