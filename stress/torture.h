/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to stress/: the mm torture run (the default mode).
 *
 *   torture_opts.c    options, scenario files, the repro line
 *   torture_ops.c     the workers: the population of simulated processes,
 *                     the operations and their shadow-memory checks
 *   torture.c         set-up, the main thread (status, audits, watchdog),
 *                     the verdict
 *   torture_report.c  status lines, the progress line, the flight
 *                     recorder, JSON
 */
#ifndef FT_TORTURE_H
#define FT_TORTURE_H

#include <pthread.h>
#include <stdio.h>

#include "ft/check.h"
#include "ft/mm.h"
#include "ft/pgtable.h"
#include "ft/sched.h"
#include "stress.h"

#define TT_NAME			"foliotorture"
#define TT_MAX_THREADS		256
#define TT_MAX_MMS		64
#define TT_MAX_PINS		4	/* per thread */
#define TT_RECORDER		16	/* flight recorder entries per thread */
#define TT_VA_BASE		(4 * PMD_SIZE)	/* block- and PMD-aligned */
#define TT_MAX_VMA_SIZE		(16UL << 20)	/* the shadow's 4096 pages */

enum tt_op {
	TT_READ, TT_WRITE, TT_FORK, TT_EXIT, TT_MUNMAP, TT_MMAP, TT_DONTNEED,
	TT_LAZYFREE, TT_MPROTECT, TT_MIGRATE, TT_YOUNG, TT_PIN, TT_UNPIN,
	NR_TT_OPS
};

extern const char *const tt_op_names[NR_TT_OPS];

struct tt_params {
	u64 threads;
	u64 duration_ns;
	u64 seed;
	u64 max_mms;
	u64 vma_size;
	unsigned long orders;		/* enabled mTHP orders, bit n = order n */
	u32 weights[NR_TT_OPS];
	char locking[32];
	char model[64];			/* owner_slots[,nopagemapcount] */
	enum ft_break_policy break_policy;
	u64 break_threshold;
	u64 resched_ppm;
	u64 gather_size;
	bool no_gather;
	bool tlb;			/* --tlb */
	u64 page_words;			/* --page-words: words used per page */
	u64 stat_interval_ns;
	u64 audit_interval_ns;
	u64 stall_timeout_ns;
	u64 max_ops;			/* per thread; 0: until --duration */
	bool lockdep;
	u64 long_hold_ns;		/* one write in 4096 holds its PTL this long */
	char inject[256];		/* injections, comma-separated */
	int verbose;			/* -1 quiet, 0, 1 verbose */
	char json[256];
	char scenario[256];
	char repro_file[256];
};

/* A simulated process: its mm, its shadow, and who holds it. */
struct tt_proc {
	int refs;			/* atomic: the slot's and the workers' */
	struct mm_struct *mm;
	struct ft_shadow *shadow;
	u32 tag;			/* never reused, unlike mm ids */
	mm_id_t mm_id;
};

struct tt_slot {
	spinlock_t lock;		/* protects proc */
	struct tt_proc *proc;
};

/* One operation as the flight recorder keeps it.  Relaxed atomics. */
struct tt_record {
	u64 index;
	u32 op;				/* enum tt_op */
	u32 tag;
	mm_id_t mm_id;
	unsigned long addr, len;
	int result;
	int done;
};

struct tt_thread {
	struct torture *t;
	int id;
	pthread_t pthread;
	struct ft_random_state rs;	/* this operation's stream */
	struct ft_sched sched;		/* this thread's break points */
	u64 op_index;			/* progress, for the watchdog */
	u64 trace_hash;
	u64 n_ops[NR_TT_OPS];		/* owner writes, status reads */
	u64 n_fail[NR_TT_OPS];		/* refused: -ENOMEM, SIGSEGV, -EBUSY */
	u64 n_busy;			/* pages skipped: another access had them */
	struct folio *pins[TT_MAX_PINS];
	int nr_pins;
	int parked;			/* atomic */
	struct tt_record rec[TT_RECORDER];
};

/* Sums over the workers and the machine, for status lines and JSON. */
struct tt_totals {
	u64 ns;
	u64 ops[NR_TT_OPS], fails[NR_TT_OPS], busy;
	u64 events[NR_VM_EVENTS];
	u64 checks[NR_FT_BREAK_SITES], breaks[NR_FT_BREAK_SITES];
	u64 breaks_mid_block, break_folds, resume_unfolds;
};

struct torture {
	struct tt_params p;
	struct ft_pmem pmem;
	struct ft_world world;
	unsigned long nr_pages;		/* of a process's window */
	unsigned long task_size;
	struct tt_slot slots[TT_MAX_MMS];
	int nr_procs;			/* atomic */
	u32 next_tag;			/* atomic */
	struct tt_thread *threads;
	int stop;			/* atomic */
	int park;			/* atomic: workers, park now */
	u64 start_ns;
	u64 n_audits, n_audit_failures;
	struct tt_totals last;		/* at the last status line */
	u64 trace_hash;			/* at the end: all threads' */
};

/* torture_opts.c */
int tt_parse_options(struct tt_params *p, int argc, char **argv);
void tt_print_params(FILE *out, const struct tt_params *p);
void tt_print_repro(FILE *out, const struct tt_params *p);
int tt_write_repro_file(const struct tt_params *p, const char *why);

/* torture_ops.c */
void *tt_worker(void *arg);
struct tt_proc *tt_proc_create(struct torture *t);
bool tt_proc_insert(struct torture *t, struct tt_proc *proc);
void tt_proc_put(struct tt_proc *proc);
/* Take every process out of the population (at the end). */
void tt_procs_exit_all(struct torture *t);
int tt_procs_mms(struct torture *t, struct mm_struct **mms);
void tt_unpin_all(struct tt_thread *th);

/* torture_report.c */
void tt_print_status(struct torture *t, u64 elapsed_ns);
void tt_progress_line(struct torture *t, u64 elapsed_ns);
void tt_dump_recorders(struct torture *t, FILE *out);
int tt_write_json(struct torture *t, u64 elapsed_ns, const char *outcome, int code);
u64 tt_total_ops(struct torture *t);

#endif /* FT_TORTURE_H */
