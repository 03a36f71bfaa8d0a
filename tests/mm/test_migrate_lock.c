// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_migrate_lock: MADV_FREE racing a migration's restore of its entries.
 *
 * A page written by the parent X, shared with its child R through fork,
 * comes back from swap by read faults in both and leaves the swap cache:
 * both entries are clean, and PG_dirty alone says the folio holds the only
 * copy.  Thread 0 migrates it while thread 1 runs MADV_FREE over X's page;
 * the serial scheduler interleaves them, one schedule per scheduler seed
 * (PCT, depth 2).  Then, single-threaded, reclaim runs and R reads the page.
 *
 * The migration restores X's entry before R's.  In between, the new folio
 * is mapped once, by X, which is as many times as it has pages: if
 * MADV_FREE could take the folio lock then, it would clear PG_dirty, R's
 * entry would come back clean from its migration entry, and reclaim would
 * discard the folio under R.  The folio lock, taken on the new folio before
 * any entry maps it (upstream's migrate_folio_unmap()), keeps MADV_FREE
 * off until every entry is restored.
 *
 * KTAP: in every schedule R reads back what X wrote; some schedules run
 * MADV_FREE wholly inside that window (so the first check could fail: it
 * did, in 5 of 256 schedules, before the new folio was locked); no oracle
 * fired and nothing leaked.
 */
#include "ft/swap.h"
#include "mm_test.h"

#define NR_PFNS		(4UL << MAX_PAGE_ORDER)
#define NR_SEEDS	256
#define PCT_STEPS	80
#define V_WRITTEN	0x61UL

static struct ft_pmem pmem;
static struct ft_world w;

struct migrate_race {
	struct mm_struct *x, *r;
	unsigned long old_pfn;	/* the folio X maps before the migration */
	bool inside;		/* thread 1: MADV_FREE ran inside the window */
};

/* X maps the new folio, R still has its migration entry. */
static bool half_restored(struct mm_struct *x, struct mm_struct *r, unsigned long old_pfn)
{
	pte_t px = test_pte(x, 0);

	return pte_present(px) && pte_pfn(px) != old_pfn && is_migration_entry(test_pte(r, 0));
}

static void racer_fn(struct test_racer *t)
{
	struct migrate_race *m = t->arg;
	bool before;

	if (t->id == 0) {
		ft_migrate_at(m->x, test_va(0), &t->rs);
	} else {
		/* One thread runs at a time: R's entry, a migration entry
		 * before and after, was one throughout. */
		before = half_restored(m->x, m->r, m->old_pfn);
		ft_madvise_free(m->x, test_va(0), PAGE_SIZE);
		m->inside = before && is_migration_entry(test_pte(m->r, 0));
	}
}

/* The migration and the MADV_FREE under scheduler seed @seed. */
static bool race(struct mm_struct *x, struct mm_struct *r, u64 seed)
{
	struct migrate_race m = { .x = x, .r = r, .old_pfn = pte_pfn(test_pte(x, 0)) };

	test_race(seed, PCT_STEPS, 2, racer_fn, &m);
	return m.inside;
}

/* Both entries clean, the folio dirty and out of the swap cache. */
static void clean_entries_dirty_folio(struct mm_struct *x, struct mm_struct *r,
				      struct ft_random_state *rs)
{
	struct folio *folio;

	for (int pass = 0; pass < 4; pass++)
		ft_shrink_lru(&w, 64);
	if (!is_swapfile_entry(test_pte(x, 0)) || !is_swapfile_entry(test_pte(r, 0)))
		abort();
	if (test_get(x, 0, rs) != V_WRITTEN || test_get(r, 0, rs) != V_WRITTEN)
		abort();
	/* The swap cache's part, as a COW fault's reuse check may drop it. */
	folio = ft_folio_at(x, test_va(0));
	if (!folio || !folio_trylock(folio) || !folio_free_swap(folio))
		abort();
	folio_unlock(folio);
	if (pte_dirty(test_pte(x, 0)) || pte_dirty(test_pte(r, 0)) || !folio_test_dirty(folio))
		abort();
	folio_put(folio);
}

/* One schedule: true if R read back X's write after reclaim. */
static bool one_seed(u64 seed, struct ft_random_state *rs, int *inside)
{
	struct mm_struct *x = test_new_mm(&w), *r;
	unsigned long back;

	test_put(x, 0, V_WRITTEN, rs);
	r = ft_fork(x);
	if (!r)
		abort();
	clean_entries_dirty_folio(x, r, rs);
	*inside += race(x, r, seed);
	for (int pass = 0; pass < 4; pass++)
		ft_shrink_lru(&w, 64);
	back = test_get(r, 0, rs);
	if (back != V_WRITTEN)
		fprintf(stderr, "# seed %llu: R read %#lx after reclaim\n",
			(unsigned long long)seed, back);
	mmput(r);
	mmput(x);
	return back == V_WRITTEN;
}

int main(void)
{
	struct ft_random_state rs;
	struct ft_ktap k = { 0 };
	int bad = 0, inside = 0;

	test_world_init(&pmem, &w, NR_PFNS, "test_migrate_lock");
	ft_random_init(&rs, 1, 0, 0, 0);
	for (u64 seed = 1; seed <= NR_SEEDS; seed++)
		bad += !one_seed(seed, &rs, &inside);
	ft_ktap_start(3);
	ft_ktap_result(&k, bad == 0, "R reads back X's write after reclaim (%d of %d "
		       "schedules did not)", bad, NR_SEEDS);
	ft_ktap_result(&k, inside > 0, "MADV_FREE ran while X's entry was restored and "
		       "R's not, in %d of %d schedules", inside, NR_SEEDS);
	test_world_done(&k, &pmem, &w);
	return ft_ktap_finish(&k);
}
