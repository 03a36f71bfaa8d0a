// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_fork_dirty [--inject]: a process's first write to a page racing its
 * fork (Z26, doc/invariants.md).
 *
 * The page comes back from swap by a read fault: its swap cache folio still
 * holds the slot, it is clean, and the entry is writable and clean.  Thread
 * 0 forks the process while thread 1 writes the page; the serial scheduler
 * interleaves them, one schedule per scheduler seed (PCT, depth 2).
 * Then, single-threaded: the child reads the page (the racing write, or the
 * value before it), the parent writes it again (a COW copy: its entry
 * goes), reclaim runs until the folio is gone, and the child reads it back.
 *
 * KTAP: for every seed the child reads back what it read after the fork.
 * With --inject (fork-dirty-before-wrprotect, v6.18's copy) a seed whose
 * write lands between fork's read of the entry and its write-protect gives
 * the child a clean entry, the folio is freed unwritten, and the child
 * reads the stale swap copy: that check fails, the negative control.
 */
#include "ft/swap.h"
#include "ft/zoo.h"
#include "mm_test.h"

#define NR_PFNS		(4UL << MAX_PAGE_ORDER)
#define NR_SEEDS	256
/* PCT's one change point falls among fork's first scheduling points, where
 * it reads the entry and write-protects it: 5 of the 256 seeds land the
 * write in between. */
#define PCT_STEPS	60
#define V_SWAPPED	0x51UL		/* in the swap slot */
#define V_RACING	0x52UL		/* the write that races fork */
#define V_PARENT	0x53UL		/* the parent's write after the fork */

static struct ft_pmem pmem;
static struct ft_world w;

struct fork_race {
	struct mm_struct *parent, *child;
};

static void racer_fn(struct test_racer *r)
{
	struct fork_race *f = r->arg;

	if (r->id == 0)
		f->child = ft_fork(f->parent);
	else if (!test_put(f->parent, 0, V_RACING, &r->rs))
		abort();
}

/* Reclaim until page 0 of @mm is a swap entry whose folio left the cache. */
static void swap_out(struct mm_struct *mm)
{
	pte_t pte;

	for (int pass = 0; pass < 4; pass++)
		ft_shrink_lru(&w, 64);
	pte = test_pte(mm, 0);
	if (!is_swapfile_entry(pte) || READ_ONCE(pmem.si->cache[pte_swp_offset(pte)]))
		abort();
}

/* The fork and the write under serial scheduler seed @seed: the child. */
static struct mm_struct *race(struct mm_struct *parent, u64 seed)
{
	struct fork_race f = { .parent = parent };

	test_race(seed, PCT_STEPS, 1, racer_fn, &f);
	return f.child;
}

/* One schedule: true if the child read back what it saw after the fork. */
static bool one_seed(u64 seed, struct ft_random_state *rs, int *raced)
{
	struct mm_struct *parent = test_new_mm(&w), *child;
	unsigned long seen, back;
	pte_t pte;

	test_put(parent, 0, V_SWAPPED, rs);
	swap_out(parent);
	/* Read back: the writable clean entry of a swap cache folio. */
	if (test_get(parent, 0, rs) != V_SWAPPED)
		abort();
	pte = test_pte(parent, 0);
	if (!pte_write(pte) || pte_dirty(pte))
		abort();
	child = race(parent, seed);
	seen = test_get(child, 0, rs);
	*raced += seen == V_RACING;
	test_put(parent, 0, V_PARENT, rs);
	swap_out(child);
	back = test_get(child, 0, rs);
	if (back != seen)
		fprintf(stderr, "# seed %llu: the child read %#lx after the fork, %#lx "
			"after reclaim\n", (unsigned long long)seed, seen, back);
	mmput(child);
	mmput(parent);
	return back == seen;
}

int main(int argc, char **argv)
{
	bool inject = ft_test_flag(argc, argv, "--inject");
	struct ft_random_state rs;
	struct ft_ktap k = { 0 };
	int bad = 0, raced = 0;

	test_world_init(&pmem, &w, NR_PFNS, "test_fork_dirty");
	if (inject && ft_inject_enable("fork-dirty-before-wrprotect"))
		abort();
	ft_random_init(&rs, 1, 0, 0, 0);
	for (u64 seed = 1; seed <= NR_SEEDS; seed++)
		bad += !one_seed(seed, &rs, &raced);
	ft_ktap_start(3);
	ft_ktap_result(&k, bad == 0, "the child reads back what it read after the fork "
		       "(%d of %d schedules did not)", bad, NR_SEEDS);
	ft_ktap_result(&k, raced > 0, "the racing write reached the child in %d of %d "
		       "schedules", raced, NR_SEEDS);
	test_world_done(&k, &pmem, &w);
	return ft_ktap_finish(&k);
}
