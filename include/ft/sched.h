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
 *   random   the fork threshold is drawn per check from [1, 2 * threshold]
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
	/* statistics (this thread's, read racily by status lines) */
	u64 n_checks[NR_FT_BREAK_SITES];
	u64 n_breaks[NR_FT_BREAK_SITES];
	u64 n_fork_breaks_mid_block;	/* fork breaks at a non-CONT-aligned addr */
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
/* need_resched() at @site. */
bool ft_need_resched(enum ft_break_site site);
/* cond_resched(): maybe give the CPU away. */
void cond_resched(void);

#endif /* FT_SCHED_H */
