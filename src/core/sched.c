// SPDX-License-Identifier: GPL-2.0-only
/* Break points and their policies (include/ft/sched.h). */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "ft/sched.h"

/* CONT_PTE_SIZE on arm64 with 4K pages; the "aligned" policy's unit. */
#define FT_CONT_BLOCK_SIZE	(16UL << 12)

const char *const ft_break_policy_names[NR_FT_BREAK_POLICIES] = {
	[FT_BREAK_POLICY_KERNEL] = "kernel",
	[FT_BREAK_POLICY_RANDOM] = "random",
	[FT_BREAK_POLICY_ALIGNED] = "aligned",
	[FT_BREAK_POLICY_NEVER] = "never",
};

const char *const ft_break_site_names[NR_FT_BREAK_SITES] = {
	[FT_BREAK_FORK] = "fork",
	[FT_BREAK_ZAP] = "zap",
	[FT_BREAK_COND_RESCHED] = "cond_resched",
	[FT_BREAK_GATHER] = "gather",
	[FT_BREAK_IRQ] = "irq",
};

static _Thread_local struct ft_sched *current_sched;

void ft_sched_set_current(struct ft_sched *s)
{
	current_sched = s;
}

struct ft_sched *ft_sched_current(void)
{
	return current_sched;
}

int ft_break_policy_parse(const char *name, enum ft_break_policy *out)
{
	for (int i = 0; i < NR_FT_BREAK_POLICIES; i++) {
		if (!strcmp(name, ft_break_policy_names[i])) {
			*out = (enum ft_break_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool draw_resched(struct ft_sched *s)
{
	return s->resched_ppm && ft_random_below(&s->rs, 1000000) < s->resched_ppm;
}

static void count(struct ft_sched *s, enum ft_break_site site, unsigned long addr,
		  bool taken)
{
	u64 slot = s->n_history % FT_SCHED_HISTORY;

	WRITE_ONCE(s->n_checks[site], s->n_checks[site] + 1);
	if (!taken)
		return;
	WRITE_ONCE(s->n_breaks[site], s->n_breaks[site] + 1);
	WRITE_ONCE(s->history[slot].site, site);
	WRITE_ONCE(s->history[slot].addr, addr);
	WRITE_ONCE(s->n_history, s->n_history + 1);
}

bool ft_fork_should_break(int *progress, unsigned long addr, bool contended)
{
	struct ft_sched *s = current_sched;
	unsigned int threshold;
	bool brk;

	if (!s || s->policy == FT_BREAK_POLICY_NEVER)
		return false;
	threshold = s->threshold;
	if (s->policy == FT_BREAK_POLICY_RANDOM)
		threshold = 1 + (unsigned int)ft_random_below(&s->rs, 2 * s->threshold);
	if (*progress < (int)threshold)
		return false;
	*progress = 0;
	s->resched_pending = draw_resched(s);
	brk = s->resched_pending || contended;
	if (s->policy == FT_BREAK_POLICY_ALIGNED && (addr & (FT_CONT_BLOCK_SIZE - 1)))
		brk = false;
	count(s, FT_BREAK_FORK, addr, brk);
	if (brk && (addr & (FT_CONT_BLOCK_SIZE - 1)))
		WRITE_ONCE(s->n_fork_breaks_mid_block, s->n_fork_breaks_mid_block + 1);
	return brk;
}

bool ft_need_resched(enum ft_break_site site)
{
	struct ft_sched *s = current_sched;
	bool brk;

	if (!s || s->policy == FT_BREAK_POLICY_NEVER)
		return false;
	brk = draw_resched(s);
	count(s, site, 0, brk);
	return brk;
}

unsigned int ft_gather_capacity(unsigned int capacity)
{
	struct ft_sched *s = current_sched;
	unsigned int c;

	if (!s || s->policy != FT_BREAK_POLICY_RANDOM || capacity <= 1)
		return capacity;
	c = 1 + (unsigned int)ft_random_below(&s->rs, capacity);
	count(s, FT_BREAK_GATHER, 0, c < capacity);
	return c;
}

void ft_fork_count_resume(bool folded_during_break, bool unfolds)
{
	struct ft_sched *s = current_sched;

	if (!s)
		return;
	if (folded_during_break)
		WRITE_ONCE(s->n_fork_break_folds, s->n_fork_break_folds + 1);
	if (unfolds)
		WRITE_ONCE(s->n_fork_resume_unfolds, s->n_fork_resume_unfolds + 1);
}

void ft_irq_window(void)
{
	if (ft_need_resched(FT_BREAK_IRQ) && !current_sched->no_yield)
		sched_yield();
}

/* need_resched() that made fork break is still set here: schedule. */
void cond_resched(void)
{
	struct ft_sched *s = current_sched;

	if (s && s->resched_pending) {
		s->resched_pending = false;
		count(s, FT_BREAK_COND_RESCHED, 0, true);
		if (!s->no_yield)
			sched_yield();
		return;
	}
	if (ft_need_resched(FT_BREAK_COND_RESCHED) && !current_sched->no_yield)
		sched_yield();
}
