// SPDX-License-Identifier: GPL-2.0-only
/*
 * The deferred-split queue (mm/huge_memory.c): partially mapped anon
 * folios wait here to be split.  Nothing splits them in the model; what
 * matters is who may queue and unqueue (__folio_remove_rmap() in
 * mm/rmap.c; B5 and B7 in doc/invariants.md).
 */
#include "ft/folio.h"

void deferred_split_folio(struct folio *folio, bool partially_mapped)
{
	struct deferred_split *ds = &folio->pmem->ds;

	/* Order-1 folios have no _deferred_list; swapcache is split by reclaim. */
	if (folio_order(folio) <= 1 || folio_test_swapcache(folio))
		return;
	spin_lock(&ds->split_queue_lock);
	if (partially_mapped) {
		if (!folio_test_partially_mapped(folio))
			folio_set_partially_mapped(folio);
	} else {
		VM_WARN_ON_FOLIO(folio_test_partially_mapped(folio), folio);
	}
	if (list_empty(&folio->_deferred_list)) {
		list_add_tail(&folio->_deferred_list, &ds->split_queue);
		ds->split_queue_len++;
	}
	spin_unlock(&ds->split_queue_lock);
}

/*
 * __folio_unqueue_deferred_split(): only when nobody else can reach the
 * folio (refcount 0 on the free path, B7's rule).
 */
bool folio_unqueue_deferred_split(struct folio *folio)
{
	struct deferred_split *ds = &folio->pmem->ds;
	bool unqueued = false;

	if (folio_order(folio) <= 1)
		return false;
	VM_WARN_ON_FOLIO(folio_ref_count(folio), folio);
	spin_lock(&ds->split_queue_lock);
	if (!list_empty(&folio->_deferred_list)) {
		ds->split_queue_len--;
		folio_clear_partially_mapped(folio);
		list_del_init(&folio->_deferred_list);
		unqueued = true;
	}
	spin_unlock(&ds->split_queue_lock);
	return unqueued;
}

bool folio_on_deferred_list(struct folio *folio)
{
	struct deferred_split *ds = &folio->pmem->ds;
	bool queued;

	if (folio_order(folio) <= 1)
		return false;
	spin_lock(&ds->split_queue_lock);
	queued = !list_empty(&folio->_deferred_list);
	spin_unlock(&ds->split_queue_lock);
	return queued;
}
