// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the mm torture run tells its user: rcutorture-style status lines,
 * a progress line on a terminal, the flight recorders of a failed run, and
 * the JSON result file.  Counters are per worker and read racily (relaxed
 * atomics), as rcutorture reads its per-CPU statistics.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ft/folio.h"
#include "ft_version.h"
#include "torture.h"

/* Add @ns of waiting for lock class @class (by name: every thread and
 * every lock of a class share the name). */
static void sum_lock_class(struct tt_totals *s, const char *class, u64 ns)
{
	int i;

	for (i = 0; i < s->nr_lock; i++)
		if (!strcmp(s->lock[i].class, class))
			break;
	if (i == s->nr_lock) {
		if (s->nr_lock == TT_LOCK_CLASSES)
			i--;		/* the last takes the rest */
		else
			s->lock[s->nr_lock++].class = class;
	}
	s->lock[i].ns += ns;
}

/* A thread's wall-clock time so far, 0 before it started. */
static u64 thread_wall_ns(const struct ft_time_acct *a, u64 now)
{
	u64 start = READ_ONCE(a->start_ns), end = READ_ONCE(a->end_ns);

	if (!start)
		return 0;
	return (end ? end : now) - start;
}

/* A worker's CPU time so far: its own figure once it ended (it may have
 * been joined), else its thread's CPU clock. */
static u64 thread_cpu_ns(const struct tt_thread *th)
{
	const struct ft_time_acct *a = &th->sched.time;
	struct timespec ts;
	clockid_t clock;

	if (READ_ONCE(a->end_ns))
		return READ_ONCE(a->cpu_ns);
	if (!READ_ONCE(a->start_ns) || pthread_getcpuclockid(th->pthread, &clock) ||
	    clock_gettime(clock, &ts))
		return 0;
	return (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
}

static void sum_time(const struct tt_thread *th, struct tt_totals *s)
{
	const struct ft_time_acct *a = &th->sched.time;

	s->wall_ns += thread_wall_ns(a, s->ns);
	s->cpu_ns += thread_cpu_ns(th);
	for (int c = 0; c < NR_FT_TIME_CAUSES; c++)
		s->time_ns[c] += READ_ONCE(a->ns[c]);
	for (int p = 0; p < NR_FT_PERTURBS; p++)
		s->perturb_ns[p] += READ_ONCE(a->perturb_ns[p]);
	for (int i = 0; i < FT_TIME_LOCK_CLASSES; i++) {
		const char *class = READ_ONCE(a->lock[i].class);

		if (class)
			sum_lock_class(s, class, READ_ONCE(a->lock[i].ns));
	}
}

static void sum_totals(struct torture *t, struct tt_totals *s)
{
	memset(s, 0, sizeof(*s));
	s->ns = ft_now_ns();
	for (u64 i = 0; i < t->p.threads; i++) {
		struct tt_thread *th = &t->threads[i];

		for (int op = 0; op < NR_TT_OPS; op++) {
			s->ops[op] += READ_ONCE(th->n_ops[op]);
			s->fails[op] += READ_ONCE(th->n_fail[op]);
		}
		s->busy += READ_ONCE(th->n_busy);
		for (int site = 0; site < NR_FT_BREAK_SITES; site++) {
			s->checks[site] += READ_ONCE(th->sched.n_checks[site]);
			s->breaks[site] += READ_ONCE(th->sched.n_breaks[site]);
		}
		s->breaks_mid_block += READ_ONCE(th->sched.n_fork_breaks_mid_block);
		s->break_folds += READ_ONCE(th->sched.n_fork_break_folds);
		s->resume_unfolds += READ_ONCE(th->sched.n_fork_resume_unfolds);
		for (int k = 0; k < NR_FT_WINDOWS; k++) {
			s->windows[k] += READ_ONCE(th->sched.n_windows[k]);
			s->aimed[k] += READ_ONCE(th->n_aimed[k]);
			s->arrived[k] += READ_ONCE(th->n_arrived[k]);
		}
		s->window_holds += READ_ONCE(th->sched.n_window_holds);
		sum_time(th, s);
	}
	for (int e = 0; e < NR_VM_EVENTS; e++)
		s->events[e] = ft_vm_event(&t->pmem, (enum vm_event_item)e);
}

u64 tt_total_ops(struct torture *t)
{
	struct tt_totals s;
	u64 n = 0;

	sum_totals(t, &s);
	for (int op = 0; op < NR_TT_OPS; op++)
		n += s.ops[op];
	return n;
}

static u64 live_folios(struct torture *t)
{
	u64 n = 0;

	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		n += READ_ONCE(t->pmem.stats.n_alloc[o]) - READ_ONCE(t->pmem.stats.n_free[o]);
	return n;
}

static unsigned long long rate(u64 now, u64 then, u64 ns)
{
	return ns ? (unsigned long long)((now - then) * NSEC_PER_SEC / ns) : 0;
}

/* Windows opened/aimed at/aimed operations that arrived, by kind. */
static void print_windows(const struct tt_totals *s, unsigned long long sec)
{
	printf(TT_NAME ": %llus totals: windows opened/aimed/arrived:", sec);
	for (int k = 0; k < NR_FT_WINDOWS; k++)
		printf(" %s %llu/%llu/%llu", ft_window_names[k], (unsigned long long)s->windows[k],
		       (unsigned long long)s->aimed[k], (unsigned long long)s->arrived[k]);
	printf(" | held %llu\n", (unsigned long long)s->window_holds);
}

static double share(u64 ns, u64 wall)
{
	return wall ? 100.0 * (double)ns / (double)wall : 0;
}

/* Lock class @i's waiting since the last block. */
static u64 lock_delta(const struct tt_totals *s, const struct tt_totals *l, int i)
{
	for (int j = 0; j < l->nr_lock; j++)
		if (!strcmp(l->lock[j].class, s->lock[i].class))
			return s->lock[i].ns - l->lock[j].ns;
	return s->lock[i].ns;
}

/* The lock classes of the interval, most waited for first: at most five,
 * each at least 0.1% of the workers' time. */
static void print_lock_classes(const struct tt_totals *s, const struct tt_totals *l,
			       u64 wall)
{
	bool shown[TT_LOCK_CLASSES] = { false };
	int n;

	for (n = 0; n < 5; n++) {
		int best = -1;
		u64 best_ns = 0;

		for (int i = 0; i < s->nr_lock; i++) {
			u64 ns = lock_delta(s, l, i);

			if (!shown[i] && ns > best_ns) {
				best = i;
				best_ns = ns;
			}
		}
		if (best < 0 || share(best_ns, wall) < 0.1)
			break;
		shown[best] = true;
		printf("%s%s %.1f%%", n ? ", " : " (", s->lock[best].class,
		       share(best_ns, wall));
	}
	if (n)
		printf(")");
}

static void print_perturb(const struct tt_totals *s, const struct tt_totals *l, u64 wall)
{
	for (int p = 0; p < NR_FT_PERTURBS; p++)
		printf("%s%s %.1f%%", p ? ", " : " (", ft_perturb_names[p],
		       share(s->perturb_ns[p] - l->perturb_ns[p], wall));
	printf(")");
}

/* The workers' time since the last block, by cause (struct ft_time_acct). */
static void print_time(const struct tt_totals *s, const struct tt_totals *l,
		       unsigned long long sec)
{
	u64 wall = s->wall_ns - l->wall_ns, waited = 0;

	for (int c = 0; c < NR_FT_TIME_CAUSES; c++)
		waited += s->time_ns[c] - l->time_ns[c];
	printf(TT_NAME ": %llus time: on cpu %.1f%% | work %.1f%%", sec,
	       share(s->cpu_ns - l->cpu_ns, wall),
	       waited < wall ? share(wall - waited, wall) : 0.0);
	for (int c = 0; c < NR_FT_TIME_CAUSES; c++) {
		printf(" %s %.1f%%", ft_time_cause_names[c],
		       share(s->time_ns[c] - l->time_ns[c], wall));
		if (c == FT_TIME_PERTURB)
			print_perturb(s, l, wall);
		if (c == FT_TIME_LOCK)
			print_lock_classes(s, l, wall);
	}
	printf("\n");
}

/*
 * Six lines a block, each starting with the run's age: rates per second
 * since the last block are marked "/s", everything else is a total since
 * the start ("now:" figures are the present state).  The first line says
 * the wall-clock time, for matching a long run's log against other logs.
 */
void tt_print_status(struct torture *t, u64 elapsed_ns)
{
	struct tt_totals s, *l = &t->last;
	unsigned long long sec = elapsed_ns / NSEC_PER_SEC;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	u64 ns;

	sum_totals(t, &s);
	ns = s.ns - (l->ns ? l->ns : t->start_ns);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
	printf(TT_NAME ": %llus %s ops/s:", sec, when);
	for (int op = 0; op < NR_TT_OPS; op++)
		printf(" %s %llu", tt_op_names[op], rate(s.ops[op], l->ops[op], ns));
	printf("\n" TT_NAME ": %llus PTEs/s: fork-copy %llu zap %llu | faults/s %llu "
	       "| now: mms %d folios %llu | totals: cow %llu reuse %llu thp %llu "
	       "migrated %llu migrate-failed %llu\n",
	       sec, rate(s.events[FORK_PTE_COPY], l->events[FORK_PTE_COPY], ns),
	       rate(s.events[ZAP_PTE], l->events[ZAP_PTE], ns),
	       rate(s.events[PGFAULT], l->events[PGFAULT], ns),
	       __atomic_load_n(&t->nr_procs, __ATOMIC_RELAXED),
	       (unsigned long long)live_folios(t), (unsigned long long)s.events[COW_COPY],
	       (unsigned long long)s.events[COW_REUSE],
	       (unsigned long long)s.events[THP_FAULT_ALLOC],
	       (unsigned long long)s.events[PGMIGRATE_SUCCESS],
	       (unsigned long long)s.events[PGMIGRATE_FAIL]);
	printf(TT_NAME ": %llus totals: contpte fold %llu unfold:", sec,
	       (unsigned long long)s.events[CONTPTE_FOLD]);
	for (int e = CONTPTE_UNFOLD_SET_PTE; e <= CONTPTE_UNFOLD_MPROTECT_PARTIAL; e++)
		printf(" %s %llu", vm_event_names[e] + strlen("contpte_unfold_"),
		       (unsigned long long)s.events[e]);
	printf("\n" TT_NAME ": %llus totals: breaks: fork %llu (mid-block %llu, folded "
	       "meanwhile %llu, resume unfolds %llu) zap %llu cond_resched %llu gather %llu "
	       "| busy %llu | audits %llu | failures %llu%s\n", sec,
	       (unsigned long long)s.breaks[FT_BREAK_FORK],
	       (unsigned long long)s.breaks_mid_block, (unsigned long long)s.break_folds,
	       (unsigned long long)s.resume_unfolds,
	       (unsigned long long)s.breaks[FT_BREAK_ZAP],
	       (unsigned long long)s.breaks[FT_BREAK_COND_RESCHED],
	       (unsigned long long)s.breaks[FT_BREAK_GATHER],
	       (unsigned long long)s.busy, (unsigned long long)t->n_audits,
	       (unsigned long long)ft_report_failures(), ft_report_failures() ? " !!!" : "");
	print_windows(&s, sec);
	print_time(&s, l, sec);
	fflush(stdout);
	*l = s;
}

/* The end of a run: each operation's count, refusals and mean rate. */
void tt_print_totals(struct torture *t, FILE *out)
{
	double sec = (double)(ft_now_ns() - t->start_ns) / NSEC_PER_SEC;
	struct tt_totals s;

	sum_totals(t, &s);
	fprintf(out, TT_NAME ": totals over %.1f s:\n  %-10s %12s %10s %10s\n", sec,
		"operation", "done", "refused", "per s");
	for (int op = 0; op < NR_TT_OPS; op++)
		fprintf(out, "  %-10s %12llu %10llu %10.0f\n", tt_op_names[op],
			(unsigned long long)s.ops[op], (unsigned long long)s.fails[op],
			sec > 0 ? (double)s.ops[op] / sec : 0.0);
	fprintf(out, "  PTEs copied by fork %llu, zapped %llu; faults %llu; COW copies %llu, "
		"reuses %llu; contpte folds %llu; migrations %llu (failed %llu); pins: "
		"GUP-fast %llu, slow %llu\n",
		(unsigned long long)s.events[FORK_PTE_COPY], (unsigned long long)s.events[ZAP_PTE],
		(unsigned long long)s.events[PGFAULT], (unsigned long long)s.events[COW_COPY],
		(unsigned long long)s.events[COW_REUSE], (unsigned long long)s.events[CONTPTE_FOLD],
		(unsigned long long)s.events[PGMIGRATE_SUCCESS],
		(unsigned long long)s.events[PGMIGRATE_FAIL],
		(unsigned long long)s.events[GUP_FAST_PIN],
		(unsigned long long)s.events[GUP_SLOW_PIN]);
	fprintf(out, "  breaks: fork %llu zap %llu cond_resched %llu gather %llu; busy pages "
		"%llu; audits %llu; failures %llu\n",
		(unsigned long long)s.breaks[FT_BREAK_FORK], (unsigned long long)s.breaks[FT_BREAK_ZAP],
		(unsigned long long)s.breaks[FT_BREAK_COND_RESCHED],
		(unsigned long long)s.breaks[FT_BREAK_GATHER], (unsigned long long)s.busy,
		(unsigned long long)t->n_audits, (unsigned long long)ft_report_failures());
}

/* "[ 12s / 60s ] 123456 ops/s" on a terminal, rewritten in place. */
void tt_progress_line(struct torture *t, u64 elapsed_ns)
{
	static u64 last_ops, last_ns;
	u64 ops, now = ft_now_ns();

	if (!isatty(STDERR_FILENO))
		return;
	ops = tt_total_ops(t);
	fprintf(stderr, "\r\033[K[ %llus / %llus ] %llu ops/s",
		(unsigned long long)(elapsed_ns / NSEC_PER_SEC),
		(unsigned long long)(t->p.duration_ns / NSEC_PER_SEC),
		rate(ops, last_ops, last_ns ? now - last_ns : elapsed_ns));
	last_ops = ops;
	last_ns = now;
}

/* ---- The flight recorder ------------------------------------------------------------- */

static void dump_thread(struct tt_thread *th, FILE *out)
{
	u64 next = READ_ONCE(th->op_index), n_hist = READ_ONCE(th->sched.n_history);

	fprintf(out, "ft-%d: %llu operations; the last ones:\n", th->id,
		(unsigned long long)next);
	for (u64 i = next > TT_RECORDER - 1 ? next - (TT_RECORDER - 1) : 0; i <= next; i++) {
		struct tt_record *r = &th->rec[i % TT_RECORDER];
		u32 op = READ_ONCE(r->op);

		if (READ_ONCE(r->index) != i || op >= NR_TT_OPS)
			continue;
		fprintf(out, "  #%llu %-8s mm id %u (tag %u)", (unsigned long long)i,
			tt_op_names[op], READ_ONCE(r->mm_id), READ_ONCE(r->tag));
		if (READ_ONCE(r->done))
			fprintf(out, " %#lx+%#lx: %d\n", READ_ONCE(r->addr),
				READ_ONCE(r->len), READ_ONCE(r->result));
		else
			fprintf(out, ": in progress\n");
	}
	fprintf(out, "  breaks (last %d of %llu):", FT_SCHED_HISTORY,
		(unsigned long long)n_hist);
	for (u64 i = n_hist > FT_SCHED_HISTORY ? n_hist - FT_SCHED_HISTORY : 0; i < n_hist; i++) {
		u64 slot = i % FT_SCHED_HISTORY;
		enum ft_break_site site = READ_ONCE(th->sched.history[slot].site);

		/* Only fork's break point knows its address. */
		if (site == FT_BREAK_FORK)
			fprintf(out, " fork@%#lx", READ_ONCE(th->sched.history[slot].addr));
		else
			fprintf(out, " %s", site == FT_BREAK_ZAP ? "zap" : "resched");
	}
	fprintf(out, "\n");
}

void tt_dump_recorders(struct torture *t, FILE *out)
{
	if (!t->threads)
		return;
	fprintf(out, "\nFlight recorder (per worker: operation, mm, range: result):\n");
	for (u64 i = 0; i < t->p.threads; i++)
		dump_thread(&t->threads[i], out);
}

/* ---- JSON --------------------------------------------------------------------------- */

/*
 * The results' format, documented key by key in doc/json.md and checked
 * against doc/result.schema.json by tests/stress/json_schema.sh.  Bump
 * the version when a key changes meaning or goes; adding one is compatible.
 */
#define TT_JSON_SCHEMA		1

const char *const tt_outcome_names[NR_TT_OUTCOMES] = {
	[TT_OUTCOME_RUNNING] = "RUNNING", [TT_OUTCOME_SUCCESS] = "SUCCESS",
	[TT_OUTCOME_FAILURE] = "FAILURE", [TT_OUTCOME_INTERRUPTED] = "INTERRUPTED",
};

static int json_stdout = -1;	/* --json=-: the real standard output */

int tt_json_claim_stdout(const struct tt_params *p)
{
	if (strcmp(p->json, "-"))
		return 0;
	fflush(stdout);
	json_stdout = dup(STDOUT_FILENO);
	if (json_stdout < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		return ft_usage_error("--json=-: %s", strerror(errno));
	return 0;
}

static FILE *json_open(const char *file)
{
	int fd;

	if (strcmp(file, "-"))
		return fopen(file, "w");
	fd = json_stdout < 0 ? -1 : dup(json_stdout);
	return fd < 0 ? NULL : fdopen(fd, "w");
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_counts(FILE *f, const char *name, const char *const *names,
			const u64 *v, int n)
{
	fprintf(f, "  \"%s\": {", name);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", names[i], (unsigned long long)v[i]);
	fprintf(f, "},\n");
}

/* The repro line's options as an object: "--k=v" is "k": "v", "--k" true. */
static void json_options(FILE *f, const struct tt_params *p)
{
	char buf[TT_REPRO_MAX_LINE], *save, *tok;
	FILE *m = fmemopen(buf, sizeof(buf), "w");
	const char *sep = "";

	if (!m)
		return;
	tt_print_params(m, p);
	if (fputc('\0', m) == EOF) {
		fclose(m);
		return;
	}
	fclose(m);
	fprintf(f, "  \"options\": {");
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (strncmp(tok, "--", 2))
			continue;
		if (eq)
			*eq = '\0';
		fprintf(f, "%s", sep);
		json_string(f, tok + 2);
		fprintf(f, ": ");
		if (eq)
			json_string(f, eq + 1);
		else
			fprintf(f, "true");
		sep = ", ";
	}
	fprintf(f, "},\n");
}

static void json_failure(FILE *f, const struct tt_params *p, const struct tt_outcome *o)
{
	if (o->outcome != TT_OUTCOME_FAILURE) {
		fprintf(f, "  \"failure\": null,\n");
		return;
	}
	fprintf(f, "  \"failure\": {\n    \"invariant\": ");
	json_string(f, o->invariant);
	fprintf(f, ",\n    \"message\": ");
	json_string(f, o->message);
	if (o->worker < 0)
		fprintf(f, ",\n    \"worker\": null");
	else
		fprintf(f, ",\n    \"worker\": \"ft-%d\"", o->worker);
	if (o->op < 0)
		fprintf(f, ",\n    \"operation\": null,\n    \"operation_index\": null");
	else
		fprintf(f, ",\n    \"operation\": \"%s\",\n    \"operation_index\": %llu",
			tt_op_names[o->op], (unsigned long long)o->op_index);
	if (o->step)
		fprintf(f, ",\n    \"step\": %llu", (unsigned long long)o->step);
	else
		fprintf(f, ",\n    \"step\": null");
	fprintf(f, ",\n    \"repro_file\": ");
	if (p->repro_file[0])
		json_string(f, p->repro_file);
	else
		fprintf(f, "null");
	/* The line tt_json_finish() replaces once --escalate has run. */
	fprintf(f, ",\n    \"escalation\": null\n  },\n");
}

static void json_replay(FILE *f, const struct torture *t, const struct tt_outcome *o,
			int code)
{
	bool asked = t->expect && t->expect->outcome == TT_OUTCOME_FAILURE &&
		     o->outcome != TT_OUTCOME_INTERRUPTED;

	if (!asked) {
		fprintf(f, "  \"replay\": null,\n");
		return;
	}
	fprintf(f, "  \"replay\": {\"expected\": ");
	json_string(f, t->expect->invariant);
	fprintf(f, ", \"verdict\": \"%s\"},\n",
		code == FT_EXIT_NOT_REPRODUCED ? "NOT REPRODUCED" : "REPRODUCED");
}

static void json_run(FILE *f, struct torture *t, const struct tt_outcome *o, int code)
{
	const struct tt_params *p = &t->p;

	fprintf(f, "{\n  \"schema\": %d,\n  \"program\": {\"name\": \"" TT_NAME "\", "
		"\"version\": \"%s\", \"commit\": \"%s\"},\n", TT_JSON_SCHEMA, FT_VERSION,
		FT_GIT_COMMIT);
	fprintf(f, "  \"outcome\": \"%s\",\n  \"exit_code\": %d,\n",
		tt_outcome_names[o->outcome], code);
	if (o->outcome == TT_OUTCOME_INTERRUPTED)
		fprintf(f, "  \"signal\": %d,\n", t->interrupted);
	else
		fprintf(f, "  \"signal\": null,\n");
	fprintf(f, "  \"sched\": \"%s\",\n  \"seed\": \"0x%llx\",\n",
		tt_sched_mode_names[p->serial], (unsigned long long)p->seed);
	fprintf(f, "  \"requested_duration_s\": %.3f,\n  \"elapsed_s\": %.3f,\n",
		(double)p->duration_ns / NSEC_PER_SEC, (double)o->elapsed_ns / NSEC_PER_SEC);
	if (p->max_ops)
		fprintf(f, "  \"requested_max_ops\": %llu,\n", (unsigned long long)p->max_ops);
	else
		fprintf(f, "  \"requested_max_ops\": null,\n");
	fprintf(f, "  \"max_worker_ops\": %llu,\n  \"total_ops\": %llu,\n",
		(unsigned long long)o->ops, (unsigned long long)tt_total_ops(t));
	json_options(f, p);
	fprintf(f, "  \"command\": \"" TT_NAME " ");
	tt_print_params(f, p);
	fprintf(f, "\",\n");
	json_failure(f, p, o);
	json_replay(f, t, o, code);
}

static void json_windows(FILE *f, const struct tt_totals *s)
{
	fprintf(f, "  \"windows\": {");
	for (int k = 0; k < NR_FT_WINDOWS; k++)
		fprintf(f, "%s\"%s\": {\"opened\": %llu, \"aimed\": %llu, \"arrived\": %llu}",
			k ? ", " : "", ft_window_names[k], (unsigned long long)s->windows[k],
			(unsigned long long)s->aimed[k], (unsigned long long)s->arrived[k]);
	fprintf(f, "},\n  \"window_holds\": %llu,\n", (unsigned long long)s->window_holds);
}

/* One set of causes in ns; "work" is the wall time no cause took. */
static void json_time_causes(FILE *f, u64 wall, u64 cpu, const u64 *time_ns)
{
	u64 waited = 0;

	for (int c = 0; c < NR_FT_TIME_CAUSES; c++)
		waited += time_ns[c];
	fprintf(f, "{\"wall\": %llu, \"cpu\": %llu, \"work\": %llu",
		(unsigned long long)wall, (unsigned long long)cpu,
		(unsigned long long)(waited < wall ? wall - waited : 0));
	for (int c = 0; c < NR_FT_TIME_CAUSES; c++)
		fprintf(f, ", \"%s\": %llu", ft_time_cause_names[c],
			(unsigned long long)time_ns[c]);
}

/* Time by cause in ns: the workers' sum, lock waits by class, each worker. */
static void json_time(FILE *f, struct torture *t, const struct tt_totals *s)
{
	fprintf(f, "  \"time_ns\": ");
	json_time_causes(f, s->wall_ns, s->cpu_ns, s->time_ns);
	fprintf(f, ", \"perturb_by\": {");
	for (int p = 0; p < NR_FT_PERTURBS; p++)
		fprintf(f, "%s\"%s\": %llu", p ? ", " : "", ft_perturb_names[p],
			(unsigned long long)s->perturb_ns[p]);
	fprintf(f, "}, \"lock_classes\": {");
	for (int i = 0; i < s->nr_lock; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", s->lock[i].class,
			(unsigned long long)s->lock[i].ns);
	fprintf(f, "}, \"threads\": [");
	for (u64 i = 0; i < t->p.threads; i++) {
		const struct ft_time_acct *a = &t->threads[i].sched.time;
		u64 ns[NR_FT_TIME_CAUSES];

		for (int c = 0; c < NR_FT_TIME_CAUSES; c++)
			ns[c] = READ_ONCE(a->ns[c]);
		fprintf(f, "%s", i ? ", " : "");
		json_time_causes(f, thread_wall_ns(a, s->ns), thread_cpu_ns(&t->threads[i]), ns);
		fprintf(f, "}");
	}
	fprintf(f, "]},\n");
}

static void json_counters(FILE *f, struct torture *t)
{
	const char *const *sites = ft_break_site_names;
	struct tt_totals s;

	sum_totals(t, &s);
	json_counts(f, "ops", tt_op_names, s.ops, NR_TT_OPS);
	json_counts(f, "refused", tt_op_names, s.fails, NR_TT_OPS);
	json_counts(f, "vm_events", vm_event_names, s.events, NR_VM_EVENTS);
	json_counts(f, "break_checks", sites, s.checks, NR_FT_BREAK_SITES);
	json_counts(f, "breaks", sites, s.breaks, NR_FT_BREAK_SITES);
	fprintf(f, "  \"fork_breaks_mid_block\": %llu,\n  \"fork_break_folds\": %llu,\n"
		"  \"fork_resume_unfolds\": %llu,\n",
		(unsigned long long)s.breaks_mid_block, (unsigned long long)s.break_folds,
		(unsigned long long)s.resume_unfolds);
	json_windows(f, &s);
	json_time(f, t, &s);
	fprintf(f, "  \"maybe_shared_truth\": {\"checked\": %llu, \"false_positives\": %llu, "
		"\"false_negatives\": %llu},\n", (unsigned long long)t->n_shared_checked,
		(unsigned long long)t->n_false_positives,
		(unsigned long long)t->n_false_negatives);
	fprintf(f, "  \"busy_pages\": %llu,\n  \"shadow_widened\": %llu,\n"
		"  \"audits\": %llu,\n  \"audit_failures\": %llu,\n  \"failures\": %llu,\n"
		"  \"trace_hash\": \"0x%016llx\"\n}\n", (unsigned long long)s.busy,
		(unsigned long long)ft_shadow_widened(),
		(unsigned long long)t->n_audits, (unsigned long long)t->n_audit_failures,
		(unsigned long long)ft_report_failures(), (unsigned long long)t->trace_hash);
}

/* @code: the process's exit code (a replay's verdict may differ from o's). */
int tt_write_json(struct torture *t, const struct tt_outcome *o, int code)
{
	FILE *f;

	if (!t->p.json[0])
		return 0;
	f = json_open(t->p.json);
	if (!f)
		return -errno;
	json_run(f, t, o, code);
	json_counters(f, t);
	return fclose(f) ? -EIO : 0;
}

static void json_escalation(FILE *f, const struct tt_params *p, const struct tt_escalation *e)
{
	static const char *const rules[NR_TT_KERNEL_RULES] = {
		[TT_KERNEL_RULE_UNKNOWN] = "null", [TT_KERNEL_RULE_REACHABLE] = "\"reachable\"",
		[TT_KERNEL_RULE_NOT_SHOWN] = "\"not shown\"",
	};

	fprintf(f, "    \"escalation\": {\"result\": \"%s\", \"attempts\": %llu, "
		"\"elapsed_s\": %.3f, \"serial_repro_file\": ", e->reproduced ? "REPRODUCED" :
		e->interrupted ? "INTERRUPTED" : "NOT REPRODUCED",
		(unsigned long long)e->attempts, (double)e->elapsed_ns / NSEC_PER_SEC);
	if (e->reproduced)
		json_string(f, p->repro_file);
	else
		fprintf(f, "null");
	if (e->reproduced)
		fprintf(f, ", \"serial_step\": %llu", (unsigned long long)e->step);
	else
		fprintf(f, ", \"serial_step\": null");
	fprintf(f, ", \"kernel_break_rule\": %s}\n", rules[e->kernel_rule]);
}

int tt_json_finish(const struct tt_params *p, const char *from, const struct tt_escalation *e)
{
	FILE *in = fopen(from, "r"), *out = in ? json_open(p->json) : NULL;
	char line[TT_REPRO_MAX_LINE * 2];
	int ret = 0;

	if (!in || !out)
		ret = -errno;
	while (!ret && fgets(line, sizeof(line), in)) {
		if (e && !strcmp(line, "    \"escalation\": null\n"))
			json_escalation(out, p, e);
		else
			fputs(line, out);
	}
	if (in)
		fclose(in);
	if (out && fclose(out))
		ret = -EIO;
	return ret;
}
