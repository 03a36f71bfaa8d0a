/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to stress/: the mm torture run (the default mode).
 *
 *   torture_opts.c    options, scenario files, the repro line
 *   torture_ops.c     the workers: the population of simulated processes,
 *                     the operations and their shadow-memory checks
 *   torture_aim.c     aimed interference: operations aimed at other
 *                     workers' open windows (--aim)
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
#include "ft/report.h"
#include "ft/sched.h"
#include "stress.h"

#define TT_NAME			"foliotorture"
#define TT_MAX_THREADS		256
#define TT_MAX_MMS		64
#define TT_MAX_PINS		4	/* per thread */
#define TT_RECORDER		16	/* flight recorder entries per thread */
#define TT_VA_BASE		(4 * PMD_SIZE)	/* block- and PMD-aligned */
#define TT_RECLAIM_BATCH	32	/* SWAP_CLUSTER_MAX: folios per reclaim */
#define TT_MREMAP_VMA_ROOM	8	/* VMAs a move may need: op_mremap() */
#define TT_MAX_VMA_SIZE		(16UL << 20)	/* the shadow's 4096 pages */

/* Scheduling points per operation, for PCT's k when --pct-steps is not
 * given: 132 and 134 measured on the default mix at --aim=0.5 (seeds 1
 * and 0x5eed, 4 threads, 2000 operations each), 168 in a short run (3
 * threads, 300 operations each: its first faults weigh more; 160 and less
 * at --aim=0.25, whose windows linger less), 22 to 167 on the shipped
 * scenarios; the end of a serial run says what its own run measured. */
#define TT_STEPS_PER_OP_ESTIMATE	180
#define TT_OPS_ESTIMATE			10000	/* per thread, without --max-ops */

enum tt_op {
	TT_READ, TT_WRITE, TT_FORK, TT_EXIT, TT_MUNMAP, TT_MMAP, TT_DONTNEED,
	TT_LAZYFREE, TT_MPROTECT, TT_MIGRATE, TT_YOUNG, TT_PIN, TT_UNPIN,
	TT_RECLAIM, TT_MREMAP, TT_MEMSET, NR_TT_OPS
};

extern const char *const tt_op_names[NR_TT_OPS];
extern const char *const tt_sched_mode_names[2];	/* by tt_params.serial */

/*
 * --aim's default, half the operations: a sweep of the bug zoo at 0, 0.25,
 * 0.5 and 1 found the races that need a second thread sooner the more
 * operations aim, while aiming every time slowed the races that are
 * sequences of random operations up to twice (README, "What aiming can
 * speed up").
 */
#define TT_AIM_DEFAULT_PPM	500000

/*
 * --perturb: how a perturbation (a break's cond_resched(), an interrupt
 * window's delay, a window waiting for an aimer) gives the CPU away.
 */
enum tt_perturb {
	TT_PERTURB_AUTO,	/* spin with one worker, else yield */
	TT_PERTURB_YIELD,	/* sched_yield() */
	TT_PERTURB_SPIN,	/* a short spin of random length */
	NR_TT_PERTURBS
};

extern const char *const tt_perturb_names[NR_TT_PERTURBS];

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
	bool gup_fast_rcu;		/* --gup-fast=rcu, else ipi */
	u64 page_words;			/* --page-words: words used per page */
	u64 aim_ppm;			/* --aim: operations aimed, per million */
	enum tt_perturb perturb;	/* --perturb */
	u64 stat_interval_ns;
	u64 audit_interval_ns;
	u64 stall_timeout_ns;
	u64 max_ops;			/* per thread; 0: until --duration */
	bool lockdep;
	u64 long_hold_ns;		/* one write in 4096 holds its PTL this long */
	char inject[256];		/* injections, comma-separated */
	u32 break_sites;		/* --break-sites: FT_BREAK_SITES_ALL */
	bool serial;			/* --sched=serial */
	enum ft_sched_strategy strategy;
	u64 pct_depth;
	u64 pct_steps;			/* 0: estimated from the run's size */
	bool pct_steps_guessed;		/* nor --max-ops: a time-bounded guess */
	u64 sched_seed;			/* the scheduler's own stream */
	bool sched_seed_set;		/* else --seed's */
	u64 audit_steps;		/* serial mode's audit interval */
	u64 escalate_ns;		/* parallel failure: serial re-runs (0: none) */
	int verbose;			/* -1 quiet, 0, 1 verbose */
	char json[256];			/* "-": standard output */
	char scenario[256];
	char repro_file[256];
	bool repro_asked;		/* --repro-file given: kept after a pass */
};

/* A simulated process: its mm, its shadow, and who holds it. */
struct tt_proc {
	int refs;			/* atomic: the slot's and the workers' */
	struct mm_struct *mm;
	struct ft_shadow *shadow;
	/* The shadow's, not the kernel's: fork (read) and mremap (write)
	 * keep apart from before their shadow events to after them.  In the
	 * kernel both hold the mmap_lock for write, so no race is lost. */
	struct rw_semaphore move_lock;
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

/*
 * A pin held across operations: the page pinned in the process @tag at
 * page @idx of its window.  @zaps: the page's zap count at the pin;
 * @checkable: no zap overlapped the pin, so until the count moves the pin
 * oracle (ft_check_pin()) applies.
 */
struct tt_pin {
	struct page *page;
	u32 tag;
	unsigned long idx;
	unsigned int flags;		/* FOLL_WRITE, FOLL_LONGTERM */
	u64 zaps;
	bool checkable;
};

/* The window an operation is aimed at: pages [first, first + nr). */
struct tt_aim {
	bool on;
	bool partial;			/* a range covers the block in part */
	struct ft_window_view view;
	unsigned long first, nr;
	u64 busy;			/* th->n_busy when it was aimed */
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
	struct tt_pin pins[TT_MAX_PINS];
	int nr_pins;
	struct tt_aim aim;		/* this operation's, if aimed */
	u64 n_aimed[NR_FT_WINDOWS];	/* aimed operations, by window */
	u64 n_arrived[NR_FT_WINDOWS];	/* ... at its page, over before it closed */
	int parked;			/* atomic */
	struct tt_record rec[TT_RECORDER];
};

/* Sums over the workers and the machine, for status lines and JSON. */
#define TT_LOCK_CLASSES	32	/* lock classes the time totals tell apart */

struct tt_totals {
	u64 ns;
	u64 ops[NR_TT_OPS], fails[NR_TT_OPS], busy;
	u64 events[NR_VM_EVENTS];
	u64 checks[NR_FT_BREAK_SITES], breaks[NR_FT_BREAK_SITES];
	u64 breaks_mid_block, break_folds, resume_unfolds;
	u64 windows[NR_FT_WINDOWS], aimed[NR_FT_WINDOWS], arrived[NR_FT_WINDOWS];
	u64 window_holds;
	/* Time by cause (struct ft_time_acct), summed over the workers:
	 * their wall-clock time, each cause's share, lock waits by class. */
	u64 wall_ns, cpu_ns, time_ns[NR_FT_TIME_CAUSES], perturb_ns[NR_FT_PERTURBS];
	struct {
		const char *class;
		u64 ns;
	} lock[TT_LOCK_CLASSES];
	int nr_lock;
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
	int interrupted;		/* the signal that ended the run early */
	u64 start_ns;
	u64 n_audits, n_audit_failures;
	/* Summed over audits: the model's sharing answers against the tables. */
	u64 n_shared_checked, n_false_positives, n_false_negatives;
	u64 next_audit_step;		/* serial mode: by the turn holder */
	struct tt_totals last;		/* at the last status line */
	u64 trace_hash;			/* at the end: all threads' */
	const struct tt_repro *expect;	/* --replay: the failure expected */
};

/* What a run came to, for its repro file (torture_repro.c). */
enum tt_outcome_kind {
	TT_OUTCOME_RUNNING, TT_OUTCOME_SUCCESS, TT_OUTCOME_FAILURE,
	TT_OUTCOME_INTERRUPTED,	/* a signal ended it early; nothing found */
	NR_TT_OUTCOMES
};

struct tt_outcome {
	enum tt_outcome_kind outcome;
	int exit_code;
	char invariant[128];	/* the oracle, splat or stall; "" if none */
	char message[FT_REPORT_MSG_LEN];	/* its headline */
	u64 step;		/* serial mode: the scheduling point; 0 unknown */
	u64 ops;		/* operations the busiest worker had started */
	int worker;		/* the worker that detected it; -1: the main thread */
	int op;			/* the operation it was in; -1: between two */
	u64 op_index;
	u64 elapsed_ns;
};

#define TT_REPRO_MAGIC		TT_NAME "-repro"
#define TT_REPRO_VERSION	1
#define TT_REPRO_MAX_BYTES	65536
#define TT_REPRO_MAX_LINE	4096
#define TT_REPRO_MAX_ARGS	128

/*
 * Escalation of a failure under --break-policy=random, which may break fork
 * where the kernel never does: was it reproduced under the kernel's rule?
 */
enum tt_kernel_rule {
	TT_KERNEL_RULE_UNKNOWN,		/* not asked (another policy) */
	TT_KERNEL_RULE_REACHABLE,	/* a --break-policy=kernel run failed so */
	TT_KERNEL_RULE_NOT_SHOWN,	/* none did within --escalate */
	NR_TT_KERNEL_RULES
};

/* What --escalate made of a parallel failure, for the JSON results. */
struct tt_escalation {
	bool reproduced, interrupted;
	u64 attempts, step;
	u64 elapsed_ns;
	enum tt_kernel_rule kernel_rule;
};

/* A parsed repro file; argv points into args. */
struct tt_repro {
	enum tt_outcome_kind outcome;
	enum tt_kernel_rule kernel_rule;
	int exit_code;
	char invariant[128];
	u64 step, ops, seed, pct_depth;
	u64 elapsed_ns;		/* from the start of the test to the report */
	bool serial;
	enum ft_sched_strategy strategy;
	int argc;
	char *argv[TT_REPRO_MAX_ARGS + 1];
	char args[TT_REPRO_MAX_LINE];
};

/* torture_repro.c */
int tt_repro_write(const char *file, const struct tt_params *p,
		   const struct tt_outcome *o);
/* Escalation's answer, added to the repro file it leaves. */
int tt_repro_add_kernel_rule(const char *file, enum tt_kernel_rule rule);
/* 0, or -EINVAL with the reason in @err; never prints. */
int tt_repro_parse(const char *buf, size_t len, struct tt_repro *r, char *err,
		   size_t errlen);
/* Read and parse @file; 0, or -errno with the reason in @err.  Quiet. */
int tt_repro_load(const char *file, struct tt_repro *r, char *err, size_t errlen);
/* @p from @argv (@r's options and maybe more), checked against @r's keys:
 * 0, -EINVAL (the option parser printed why) or -EPROTO (@err says). */
int tt_repro_params(const struct tt_repro *r, int argc, char **argv,
		    struct tt_params *p, char *err, size_t errlen);
/* The same two, with the one-line error: 0 or an exit code. */
int tt_repro_read(const char *file, struct tt_repro *r);
int tt_repro_read_params(const char *file, const struct tt_repro *r, int argc,
			 char **argv, struct tt_params *p);

/* torture_opts.c */
bool tt_option_replayable(const char *name, size_t len);
/* --aim: a probability 0..1 with at most six decimals, per million. */
int tt_aim_parse(const char *arg, u64 *ppm);
int tt_perturb_parse(const char *arg, enum tt_perturb *out);
/* A shipped scenario's file (stress/scenarios/NAME, or installed): 0 or -ENOENT. */
int tt_scenario_lookup(const char *name, char *path, size_t size);
/* Make explicit what the options left open (the scheduler's seed, PCT's k). */
void tt_resolve_params(struct tt_params *p);
/* 0, 1 after --help, or an exit code. */
int tt_parse_options(struct tt_params *p, int argc, char **argv);
/* The same for a repro file's options, which state every parameter, read
 * by this run or not: none is refused for being unused. */
int tt_parse_repro_options(struct tt_params *p, int argc, char **argv);
void tt_print_params(FILE *out, const struct tt_params *p);
void tt_print_repro(FILE *out, const struct tt_params *p);

/* torture.c */
/* The audit itself, the workers parked. */
void tt_audit(struct torture *t);
/* One run; @expect: --replay's expected failure, or NULL. */
int tt_run(const struct tt_params *p, const struct tt_repro *expect);

/* torture_replay.c */
/* A parallel run that, if it fails, is tried in serial mode (--escalate). */
int tt_run_escalating(const struct tt_params *p);

/* torture_aim.c */
/* With --aim's probability, aim this operation: its op and process (with
 * a reference) from another worker's open window, th->aim its pages. */
bool tt_aim_pick(struct tt_thread *th, enum tt_op *op, struct tt_proc **proc);
/* The aimed operation is over (@result): count it, and whether it arrived. */
void tt_aim_done(struct tt_thread *th, int result);

/* torture_ops.c */
void *tt_worker(void *arg);
/* A random live process for @op, with a reference (one whose mmap_lock a
 * writer holds only if @op need not wait for it, or all are held); a new
 * one if none is left. */
struct tt_proc *tt_proc_pick(struct tt_thread *th, enum tt_op op);
/* The live process of @mm, with a reference, or NULL. */
struct tt_proc *tt_proc_find_mm(struct torture *t, const void *mm);
/* The first live process from slot @start on that @match accepts, with a
 * reference, or NULL. */
struct tt_proc *tt_proc_find(struct torture *t, u64 start,
			     bool (*match)(const struct tt_proc *, const void *),
			     const void *arg);
struct tt_proc *tt_proc_create(struct torture *t);
bool tt_proc_insert(struct torture *t, struct tt_proc *proc);
void tt_proc_put(struct tt_proc *proc);
/* Take every process out of the population (at the end). */
void tt_procs_exit_all(struct torture *t);
int tt_procs_mms(struct torture *t, struct mm_struct **mms);
void tt_unpin_all(struct tt_thread *th);
/* The world's unmap_hook: tells the mm's shadow (its hook_data). */
void tt_unmap_hook(struct mm_struct *mm, unsigned long addr, unsigned long nr,
		   enum ft_unmap_kind kind);

/* torture_report.c */
void tt_print_status(struct torture *t, u64 elapsed_ns);
void tt_progress_line(struct torture *t, u64 elapsed_ns);
void tt_dump_recorders(struct torture *t, FILE *out);
void tt_print_totals(struct torture *t, FILE *out);
/* --json=-: the results get standard output, everything else stderr. */
int tt_json_claim_stdout(const struct tt_params *p);
int tt_write_json(struct torture *t, const struct tt_outcome *o, int code);
/* Copy a run's JSON results from @from to @p->json, with @e (NULL: none). */
int tt_json_finish(const struct tt_params *p, const char *from,
		   const struct tt_escalation *e);
extern const char *const tt_outcome_names[NR_TT_OUTCOMES];
u64 tt_total_ops(struct torture *t);

#endif /* FT_TORTURE_H */
