/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Break points: every place where the kernel may drop its locks or
 * reschedule asks here (DESIGN.md "Concurrency, locking modes and break
 * points").  The answer comes from the calling thread's policy and its own
 * random stream, so it replays from the seed:
 *
 *   kernel   fork breaks at progress >= 32 when "need_resched" (drawn with
 *            probability resched_ppm) or a PTL is contended (a real
 *            signal from the lock model); zap's need_resched likewise
 *   random   the fork threshold is drawn per check from [1, 2 * threshold],
 *            and each mmu_gather's capacity from [1, capacity], so "batch
 *            full" comes at random points too
 *   aligned  as kernel, but fork breaks only at CONT-aligned addresses
 *            (OPPO's change, pagetable spec §6)
 *   never    no break at all, contention included
 *
 * A thread without a context of its own (tests, set-up) uses "never".
 */
#ifndef FT_SCHED_H
#define FT_SCHED_H

#include "ft/core.h"

enum ft_break_site {
	FT_BREAK_FORK,		/* copy_pte_range: progress >= threshold */
	FT_BREAK_ZAP,		/* zap_pte_range: need_resched() */
	FT_BREAK_COND_RESCHED,	/* cond_resched() between tables */
	FT_BREAK_GATHER,	/* tlb_gather_mmu: a smaller batch (random policy) */
	FT_BREAK_IRQ,		/* an interrupt between two instructions */
	NR_FT_BREAK_SITES
};

enum ft_break_policy {
	FT_BREAK_POLICY_KERNEL,
	FT_BREAK_POLICY_RANDOM,
	FT_BREAK_POLICY_ALIGNED,
	FT_BREAK_POLICY_NEVER,
	NR_FT_BREAK_POLICIES
};

extern const char *const ft_break_policy_names[NR_FT_BREAK_POLICIES];
extern const char *const ft_break_site_names[NR_FT_BREAK_SITES];

#define FT_SCHED_HISTORY	16

struct ft_sched {
	enum ft_break_policy policy;
	unsigned int threshold;		/* fork's progress threshold (32) */
	u32 resched_ppm;		/* need_resched() per check, per million */
	struct ft_random_state rs;	/* this thread's break stream */
	/* cond_resched() only draws, never yields: for single-threaded
	 * tests, where a yield gains nothing and costs a time slice on a
	 * loaded machine (a break still drops and retakes the locks). */
	bool no_yield;
	bool resched_pending;		/* fork broke for it: cond_resched() yields */
	/* statistics (this thread's, read racily by status lines) */
	u64 n_checks[NR_FT_BREAK_SITES];
	u64 n_breaks[NR_FT_BREAK_SITES];
	u64 n_fork_breaks_mid_block;	/* fork breaks at a non-CONT-aligned addr */
	/* The mid-block break experiment (pagetable spec §6): after a break
	 * inside a block, the parent's block was folded when fork resumed,
	 * and fork's partial write-protect had to unfold it again. */
	u64 n_fork_break_folds;
	u64 n_fork_resume_unfolds;
	/* The last breaks taken, for the flight recorder: ring of
	 * FT_SCHED_HISTORY, n_history entries written so far. */
	struct {
		enum ft_break_site site;
		unsigned long addr;
	} history[FT_SCHED_HISTORY];
	u64 n_history;
};

/* Install @s as the calling thread's context (NULL: back to "never"). */
void ft_sched_set_current(struct ft_sched *s);
struct ft_sched *ft_sched_current(void);
int ft_break_policy_parse(const char *name, enum ft_break_policy *out);

/*
 * copy_pte_range's test, made between batches: if *@progress reached the
 * threshold, reset it and say whether to break now at @addr.  @contended:
 * spin_needbreak() of either PTL, a real signal from the lock model.
 */
bool ft_fork_should_break(int *progress, unsigned long addr, bool contended);
/* The mmu_gather's "batch full" point: its capacity for this gather. */
unsigned int ft_gather_capacity(unsigned int capacity);
/* copy_pte_range's mid-block resume statistics (see struct ft_sched). */
void ft_fork_count_resume(bool folded_during_break, bool unfolds);
/*
 * An interrupt may arrive here (interrupts are on, as under a spinlock):
 * with the need_resched probability the thread is delayed for a moment.
 * Placed only where the window matters, e.g. between the load and the
 * store of a non-atomic PTE update, where hardware a/d updates land.
 */
void ft_irq_window(void);
/* need_resched() at @site. */
bool ft_need_resched(enum ft_break_site site);
/* cond_resched(): maybe give the CPU away. */
void cond_resched(void);

#endif /* FT_SCHED_H */
