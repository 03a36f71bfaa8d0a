// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the mm torture run tells its user: rcutorture-style status lines,
 * a progress line on a terminal, the flight recorders of a failed run, and
 * the JSON result file.  Counters are per worker and read racily (relaxed
 * atomics), as rcutorture reads its per-CPU statistics.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ft/folio.h"
#include "torture.h"

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

void tt_print_status(struct torture *t, u64 elapsed_ns)
{
	struct tt_totals s, *l = &t->last;
	unsigned long long sec = elapsed_ns / NSEC_PER_SEC;
	u64 ns;

	sum_totals(t, &s);
	ns = s.ns - (l->ns ? l->ns : t->start_ns);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
	printf(TT_NAME ": %llus ops/s:", sec);
	for (int op = 0; op < NR_TT_OPS; op++)
		printf(" %s %llu", tt_op_names[op], rate(s.ops[op], l->ops[op], ns));
	printf("\n" TT_NAME ": %llus PTEs/s: fork-copy %llu zap %llu faults/s %llu "
	       "| mms %d folios %llu cow %llu reuse %llu thp %llu migrate %llu/%llu\n",
	       sec, rate(s.events[FORK_PTE_COPY], l->events[FORK_PTE_COPY], ns),
	       rate(s.events[ZAP_PTE], l->events[ZAP_PTE], ns),
	       rate(s.events[PGFAULT], l->events[PGFAULT], ns),
	       __atomic_load_n(&t->nr_procs, __ATOMIC_RELAXED),
	       (unsigned long long)live_folios(t), (unsigned long long)s.events[COW_COPY],
	       (unsigned long long)s.events[COW_REUSE],
	       (unsigned long long)s.events[THP_FAULT_ALLOC],
	       (unsigned long long)s.events[PGMIGRATE_SUCCESS],
	       (unsigned long long)s.events[PGMIGRATE_FAIL]);
	printf(TT_NAME ": %llus contpte: fold %llu unfold:", sec,
	       (unsigned long long)s.events[CONTPTE_FOLD]);
	for (int e = CONTPTE_UNFOLD_SET_PTE; e <= CONTPTE_UNFOLD_MPROTECT_PARTIAL; e++)
		printf(" %s %llu", vm_event_names[e] + strlen("contpte_unfold_"),
		       (unsigned long long)s.events[e]);
	printf("\n" TT_NAME ": %llus breaks: fork %llu (mid-block %llu, folded meanwhile "
	       "%llu, resume unfolds %llu) zap %llu cond_resched %llu gather %llu | busy "
	       "%llu | audits %llu | failures %llu%s\n", sec,
	       (unsigned long long)s.breaks[FT_BREAK_FORK],
	       (unsigned long long)s.breaks_mid_block, (unsigned long long)s.break_folds,
	       (unsigned long long)s.resume_unfolds,
	       (unsigned long long)s.breaks[FT_BREAK_ZAP],
	       (unsigned long long)s.breaks[FT_BREAK_COND_RESCHED],
	       (unsigned long long)s.breaks[FT_BREAK_GATHER],
	       (unsigned long long)s.busy, (unsigned long long)t->n_audits,
	       (unsigned long long)t->n_audit_failures, t->n_audit_failures ? " !!!" : "");
	fflush(stdout);
	*l = s;
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

static void json_counts(FILE *f, const char *name, const char *const *names,
			const u64 *v, int n)
{
	fprintf(f, "  \"%s\": {", name);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", names[i], (unsigned long long)v[i]);
	fprintf(f, "},\n");
}

int tt_write_json(struct torture *t, u64 elapsed_ns, const char *outcome, int code)
{
	const char *const *sites = ft_break_site_names;
	struct tt_totals s;
	FILE *f;

	if (!t->p.json[0])
		return 0;
	f = fopen(t->p.json, "w");
	if (!f)
		return -errno;
	sum_totals(t, &s);
	fprintf(f, "{\n  \"outcome\": \"%s\",\n  \"exit_code\": %d,\n", outcome, code);
	fprintf(f, "  \"seed\": \"0x%llx\",\n  \"elapsed_s\": %.3f,\n  \"repro\": \""
		TT_NAME " ", (unsigned long long)t->p.seed, (double)elapsed_ns / NSEC_PER_SEC);
	tt_print_params(f, &t->p);
	fprintf(f, "\",\n");
	json_counts(f, "ops", tt_op_names, s.ops, NR_TT_OPS);
	json_counts(f, "refused", tt_op_names, s.fails, NR_TT_OPS);
	json_counts(f, "vm_events", vm_event_names, s.events, NR_VM_EVENTS);
	json_counts(f, "break_checks", sites, s.checks, NR_FT_BREAK_SITES);
	json_counts(f, "breaks", sites, s.breaks, NR_FT_BREAK_SITES);
	fprintf(f, "  \"fork_breaks_mid_block\": %llu,\n  \"fork_break_folds\": %llu,\n"
		"  \"fork_resume_unfolds\": %llu,\n",
		(unsigned long long)s.breaks_mid_block, (unsigned long long)s.break_folds,
		(unsigned long long)s.resume_unfolds);
	fprintf(f, "  \"busy_pages\": %llu,\n  \"shadow_widened\": %llu,\n"
		"  \"audits\": %llu,\n  \"audit_failures\": %llu,\n"
		"  \"trace_hash\": \"0x%016llx\"\n}\n", (unsigned long long)s.busy,
		(unsigned long long)ft_shadow_widened(),
		(unsigned long long)t->n_audits, (unsigned long long)t->n_audit_failures,
		(unsigned long long)t->trace_hash);
	return fclose(f) ? -EIO : 0;
}
