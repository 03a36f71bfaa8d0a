// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reclaim (mm/vmscan.c v6.18: isolate_lru_folios(), shrink_folio_list(),
 * folio_check_references()), run by a torture operation in kswapd's
 * place so that a serial run stays one schedule.  Anon folios only: a
 * lazyfree one (MADV_FREE, no PG_swapbacked) is discarded if no mapping
 * wrote it again; any other goes to the swap cache (a large one whole, as
 * v6.18 does when a cluster of its order is free), is unmapped to swap
 * entries, written out and freed when no other reference remains.
 *
 * Lock ordering: lru_lock alone to isolate; then, per folio, the folio
 * lock (a trylock), the anon_vma lock and each mapping's PTL (the rmap
 * walk).  Nothing is held across folios.
 *
 * DAMON's physical-address pageout (mm/damon/paddr.c) reaches a folio by
 * its pfn, holding nothing of the mms that map it, and reclaims it the
 * same way: ft_pageout_folio().
 */
#include "internal.h"

/*
 * isolate_lru_folios(): up to @nr folios from the tail, each with a
 * reference and PG_lru cleared, onto @dst.  A folio whose last reference
 * is being dropped is passed over; the free path takes it off the list.
 */
static unsigned long isolate_lru_folios(struct lruvec *lruvec, unsigned long nr,
					struct list_head *dst)
{
	unsigned long taken = 0, scanned = 0;

	spin_lock(&lruvec->lru_lock);
	while (taken < nr && scanned++ < 2 * nr && !list_empty(&lruvec->list)) {
		struct folio *folio = list_last_entry(&lruvec->list, struct folio, lru);

		if (!folio_try_get(folio)) {
			list_move(&folio->lru, &lruvec->list);
			continue;
		}
		folio_clear_lru(folio);
		list_move(&folio->lru, dst);
		lruvec->nr--;
		taken++;
	}
	spin_unlock(&lruvec->lru_lock);
	return taken;
}

/*
 * The lazyfree folio is unmapped: free it if reclaim's reference is the
 * only one left (a GUP pin or a racing lookup keeps it).
 */
static bool discard_lazyfree(struct folio *folio)
{
	/* A speculative reference may come in now. */
	ft_irq_window(FT_WIN_RECLAIM, NULL, 0, 0, folio);
	if (!folio_ref_freeze(folio, 1))
		return false;
	count_vm_events(folio->pmem, PGLAZYFREED, folio_nr_pages(folio));
	return true;
}

/*
 * shrink_folio_list() for one isolated folio: true if it was freed (the
 * isolation's reference frozen), else it is back on the list.
 * folio_check_references(): a folio some mapping used since the last
 * scan stays; the young bits are cleared, so it goes next time unless it
 * is used again.  FT-DEVIATION: no active list and no PG_referenced, so
 * activating and keeping are one (upstream activates a folio referenced
 * twice or by several PTEs).
 */
/*
 * An anon folio to swap out: into the swap cache first.  FT-DEVIATION:
 * upstream splits a partially mapped large folio, and a large folio for
 * which no cluster of its order is free; the model cannot split and
 * keeps them.
 */
static bool swap_out_prepare(struct folio *folio)
{
	if (folio_test_swapcache(folio))
		return true;
	if (folio_test_large(folio) && folio_test_partially_mapped(folio))
		return false;
	return add_to_swap(folio);
}

static bool shrink_folio(struct folio *folio)
{
	if (!folio_trylock(folio))
		goto keep;
	/* A swap cache folio read in but never mapped is not anon yet. */
	if (!folio_test_anon(folio) && !folio_test_swapcache(folio))
		goto keep_locked;
	if (folio_referenced(folio))
		goto keep_locked;
	if (folio_test_swapbacked(folio) && !swap_out_prepare(folio))
		goto keep_locked;
	if (folio_mapped(folio)) {
		try_to_unmap(folio);
		if (folio_mapped(folio))
			goto keep_locked;
	}
	if (folio_test_swapcache(folio)) {
		/*
		 * pageout() starts the write; the folio is freed by a later
		 * pass, when the write is done and nothing used it meanwhile
		 * (a swap-in may find it in the cache until then).
		 * FT-DEVIATION: the write completes at once, no PG_writeback.
		 */
		if (folio_test_dirty(folio)) {
			swap_writepage(folio);
			goto keep_locked;
		}
		if (!remove_mapping_swapcache(folio))
			goto keep_locked;
		count_vm_events(folio->pmem, PSWPOUT, folio_nr_pages(folio));
	} else if (folio_test_swapbacked(folio) || !discard_lazyfree(folio)) {
		/* Written again since MADV_FREE: swap-backed from now on. */
		goto keep_locked;
	}
	folio_unlock(folio);
	__folio_put(folio);
	return true;
keep_locked:
	folio_unlock(folio);
keep:
	folio_putback_lru(folio);
	return false;
}

unsigned long ft_shrink_lru(struct ft_world *w, unsigned long nr)
{
	struct lruvec *lruvec = &w->pmem->lruvec;
	unsigned long reclaimed = 0, taken;
	struct list_head isolated;

	INIT_LIST_HEAD(&isolated);
	taken = isolate_lru_folios(lruvec, nr, &isolated);
	count_vm_events(w->pmem, PGSCAN, taken);
	while (!list_empty(&isolated)) {
		struct folio *folio = list_first_entry(&isolated, struct folio, lru);

		list_del_init(&folio->lru);
		reclaimed += shrink_folio(folio);
		cond_resched();
	}
	return reclaimed;
}

/*
 * damon_get_folio(): a reference on the folio found at a pfn, if it is
 * still on the LRU.  The walker holds no lock on it: it may be freed, or
 * reallocated from another head, before the reference is taken.
 */
static bool damon_get_folio(struct folio *folio)
{
	if (!folio_test_lru(folio) || !folio_try_get(folio))
		return false;
	if (page_folio(folio->page) == folio && folio_test_lru(folio))
		return true;
	folio_put(folio);
	return false;
}

/* folio_isolate_lru(): off the list, with a reference of its own. */
static bool folio_isolate_lru(struct folio *folio)
{
	struct lruvec *lruvec = &folio->pmem->lruvec;
	bool isolated = false;

	spin_lock(&lruvec->lru_lock);
	if (folio_test_lru(folio)) {
		folio_clear_lru(folio);
		folio_get(folio);
		list_del_init(&folio->lru);
		lruvec->nr--;
		isolated = true;
	}
	spin_unlock(&lruvec->lru_lock);
	return isolated;
}

unsigned long ft_pageout_folio(struct folio *folio)
{
	bool isolated;

	if (!damon_get_folio(folio))
		return 0;
	isolated = folio_isolate_lru(folio);
	folio_put(folio);
	/* reclaim_pages(): shrink_folio_list() of the one folio. */
	return isolated ? shrink_folio(folio) : 0;
}
