// SPDX-License-Identifier: GPL-2.0-only
/*
 * The LRU list (mm/swap.c, include/linux/mm_inline.h): folio_add_lru()
 * when a new folio is mapped, folio_mark_lazyfree() for MADV_FREE, and
 * the free path's __page_cache_release().  The list holds no reference:
 * reclaim takes one when it isolates a folio (src/mm/vmscan.c).
 *
 * Lock ordering: lru_lock is taken under the PTL (the faults add under
 * it, as upstream's folio_add_lru_vma() does) and is a leaf: nothing is
 * taken inside it, and the reference it takes is a speculative one.
 */
#include "internal.h"

void lruvec_init(struct lruvec *lruvec)
{
	spin_lock_init(&lruvec->lru_lock);
	INIT_LIST_HEAD(&lruvec->list);
	lruvec->nr = 0;
}

/* FT-DEVIATION: at once, not through a per-CPU folio batch. */
void folio_add_lru(struct folio *folio)
{
	struct lruvec *lruvec = &folio->pmem->lruvec;

	spin_lock(&lruvec->lru_lock);
	VM_WARN_ON_FOLIO(folio_test_lru(folio), folio);
	folio_set_lru(folio);
	list_add(&folio->lru, &lruvec->list);
	lruvec->nr++;
	spin_unlock(&lruvec->lru_lock);
}

/* Back on the list after reclaim kept it (move_folios_to_lru()). */
void folio_putback_lru(struct folio *folio)
{
	folio_add_lru(folio);
	folio_put(folio);		/* the isolation's reference */
}

/*
 * __page_cache_release(): the last reference is gone; a folio still on
 * the list comes off (reclaim, which saw a zero refcount, left it there).
 */
void __page_cache_release(struct folio *folio)
{
	struct lruvec *lruvec = &folio->pmem->lruvec;

	if (!folio_test_lru(folio))
		return;
	spin_lock(&lruvec->lru_lock);
	list_del_init(&folio->lru);
	lruvec->nr--;
	folio_clear_lru(folio);
	spin_unlock(&lruvec->lru_lock);
}

/*
 * folio_mark_lazyfree() and lru_lazyfree(): a clean exclusive anon folio
 * loses PG_swapbacked, so reclaim may drop it instead of swapping it out,
 * unless it is written again first.  Only a folio on the list: one that
 * reclaim has isolated is skipped, as upstream's lru_lazyfree() does.
 * FT-DEVIATION: upstream moves it to the inactive file list, which
 * reclaim scans separately; the model's one list puts it at the tail,
 * next in line.
 */
void folio_mark_lazyfree(struct folio *folio)
{
	struct lruvec *lruvec = &folio->pmem->lruvec;

	if (!folio_test_anon(folio) || !folio_test_swapbacked(folio) ||
	    folio_test_swapcache(folio))
		return;
	spin_lock(&lruvec->lru_lock);
	if (folio_test_lru(folio) && folio_test_swapbacked(folio)) {
		folio_clear_swapbacked(folio);
		list_move_tail(&folio->lru, &lruvec->list);
		count_vm_events(folio->pmem, PGLAZYFREE, folio_nr_pages(folio));
	}
	spin_unlock(&lruvec->lru_lock);
}
