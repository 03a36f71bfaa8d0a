// SPDX-License-Identifier: GPL-2.0-only
/*
 * The swap device and the swap cache (include/ft/swap.h): mm/swapfile.c's
 * swap map (folio_alloc_swap(), swap_duplicate(), swap_free_nr(),
 * free_swap_and_cache_nr(), folio_free_swap()) and mm/swap_state.c's
 * cache (add_to_swap_cache(), __delete_from_swap_cache(),
 * swap_cache_get_folio(), __read_swap_cache_async()), v6.18.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ft/swap.h"
#include "internal.h"

int ft_swap_init(struct ft_pmem *pmem)
{
	struct swap_info_struct *si = calloc(1, sizeof(*si));

	if (!si)
		return -ENOMEM;
	si->max = pmem->nr_pfns;
	si->swap_map = calloc(si->max, sizeof(*si->swap_map));
	si->cache = calloc(si->max, sizeof(*si->cache));
	si->data = calloc(si->max, sizeof(*si->data));
	if (!si->swap_map || !si->cache || !si->data) {
		pmem->si = si;
		ft_swap_destroy(pmem);
		return -ENOMEM;
	}
	spin_lock_init(&si->swap_lock);
	pmem->si = si;
	return 0;
}

void ft_swap_destroy(struct ft_pmem *pmem)
{
	struct swap_info_struct *si = pmem->si;

	if (!si)
		return;
	free(si->swap_map);
	free(si->cache);
	free(si->data);
	free(si);
	pmem->si = NULL;
}

/*
 * The swap map's own VM_WARN (upstream's WARN in swap_entry_put_locked()
 * and swap_duplicate(): "Bad swap offset entry"): a count taken from a
 * free slot or dropped below zero.
 */
static void swap_bug(unsigned long offset, unsigned short count, const char *what)
{
	if (!ft_report_begin("VM_WARN_ON_FOLIO"))
		return;
	fprintf(stderr, "------------[ cut here ]------------\n");
	ft_report_msg("WARNING: swap slot %#lx (count %#x): %s\n", offset, count, what);
	fprintf(stderr, "---[ end trace ]---\n");
	ft_report_end();
}

/* A slot's count reached 0 with no cache: it is free (under swap_lock). */
static void swap_slot_put(struct swap_info_struct *si, unsigned long offset,
			  unsigned short count)
{
	WRITE_ONCE(si->swap_map[offset], count);
	if (!count)
		si->inuse_pages--;
}

/* nr free slots, aligned to nr (a cluster of that order), under swap_lock. */
static long swap_find_slots(struct swap_info_struct *si, unsigned long nr)
{
	for (unsigned long n = 0; n < si->max; n += nr) {
		unsigned long start = (si->cursor + n) % si->max & ~(nr - 1), i;

		for (i = 0; i < nr && !si->swap_map[start + i]; i++)
			;
		if (i == nr) {
			si->cursor = start + nr;
			return (long)start;
		}
	}
	return -ENOSPC;
}

bool add_to_swap(struct folio *folio)
{
	struct swap_info_struct *si = folio->pmem->si;
	unsigned long nr = folio_nr_pages(folio);
	long start;

	spin_lock(&si->swap_lock);
	start = swap_find_slots(si, nr);
	if (start >= 0) {
		for (unsigned long i = 0; i < nr; i++) {
			WRITE_ONCE(si->swap_map[start + i], SWAP_HAS_CACHE);
			WRITE_ONCE(si->cache[start + i], folio);
		}
		si->inuse_pages += nr;
		/* The cache's references, before a lookup can find it. */
		folio_ref_add(folio, (int)nr);
		WRITE_ONCE(folio->swap, (unsigned long)start);
		folio_set_swapcache(folio);
	}
	spin_unlock(&si->swap_lock);
	if (start < 0)
		return false;
	/* Its PTEs may be clean (a folio read from swap, or MADV_FREE'd and
	 * written through a pin): the device has no copy yet. */
	folio_mark_dirty(folio);
	return true;
}

struct folio *swap_cache_get_folio(struct ft_pmem *pmem, unsigned long offset)
{
	struct swap_info_struct *si = pmem->si;
	struct folio *folio;

	spin_lock(&si->swap_lock);
	folio = READ_ONCE(si->cache[offset]);
	if (folio && !folio_try_get(folio))
		folio = NULL;		/* frozen by reclaim: being removed */
	spin_unlock(&si->swap_lock);
	return folio;
}

struct folio *swapin_folio(struct ft_pmem *pmem, unsigned long offset,
			   struct ft_random_state *rs, bool *oom)
{
	struct swap_info_struct *si = pmem->si;
	struct folio *folio = folio_alloc(pmem, 0, rs);
	unsigned short count;

	*oom = !folio;
	if (!folio)
		return NULL;
	/* Locked before anyone can find it: the read is not done yet. */
	__set_bit(PG_locked, &folio->page->flags);
	__folio_set_swapbacked(folio);
	spin_lock(&si->swap_lock);
	count = READ_ONCE(si->swap_map[offset]);
	/* swapcache_prepare(): freed meanwhile, or another folio has it. */
	if (!(count & SWAP_COUNT_MASK) || (count & SWAP_HAS_CACHE)) {
		spin_unlock(&si->swap_lock);
		folio_unlock(folio);
		folio_put(folio);
		return NULL;
	}
	WRITE_ONCE(si->swap_map[offset], count | SWAP_HAS_CACHE);
	folio_ref_add(folio, 1);		/* the cache's */
	WRITE_ONCE(folio->swap, offset);
	folio_set_swapcache(folio);
	WRITE_ONCE(si->cache[offset], folio);
	for (int w = 0; w < FT_PAGE_WORDS; w++)
		WRITE_ONCE(folio->page->data[w], READ_ONCE(si->data[offset][w]));
	spin_unlock(&si->swap_lock);
	folio_add_lru(folio);
	folio_unlock(folio);
	return folio;
}

void swap_duplicate(struct ft_pmem *pmem, unsigned long offset)
{
	struct swap_info_struct *si = pmem->si;
	unsigned short count;

	spin_lock(&si->swap_lock);
	count = READ_ONCE(si->swap_map[offset]);
	if (!count || (count & SWAP_COUNT_MASK) == SWAP_COUNT_MASK)
		swap_bug(offset, count, "swap_duplicate of a free or full slot");
	else
		WRITE_ONCE(si->swap_map[offset], count + 1);
	spin_unlock(&si->swap_lock);
}

/* One entry of @offset gone, under swap_lock: the count left. */
static unsigned short swap_entry_put_locked(struct swap_info_struct *si,
					    unsigned long offset)
{
	unsigned short count = READ_ONCE(si->swap_map[offset]);

	if (!(count & SWAP_COUNT_MASK)) {
		swap_bug(offset, count, "a swap entry put on a slot with no entries");
		return count;
	}
	swap_slot_put(si, offset, --count);
	return count;
}

void swap_free_nr(struct ft_pmem *pmem, unsigned long offset, unsigned int nr)
{
	struct swap_info_struct *si = pmem->si;

	spin_lock(&si->swap_lock);
	for (unsigned int i = 0; i < nr; i++)
		swap_entry_put_locked(si, offset + i);
	spin_unlock(&si->swap_lock);
}

void free_swap_and_cache_nr(struct ft_pmem *pmem, unsigned long offset,
			    unsigned int nr)
{
	struct swap_info_struct *si = pmem->si;
	bool only_cache = false;

	spin_lock(&si->swap_lock);
	for (unsigned int i = 0; i < nr; i++)
		only_cache |= swap_entry_put_locked(si, offset + i) == SWAP_HAS_CACHE;
	spin_unlock(&si->swap_lock);
	/* __try_to_reclaim_swap(TTRS_UNMAPPED): only a folio nothing maps. */
	for (unsigned int i = 0; only_cache && i < nr; i++) {
		struct folio *folio = swap_cache_get_folio(pmem, offset + i);

		if (!folio)
			continue;
		free_swap_cache(folio);
		folio_put(folio);
	}
}

bool folio_swapped(struct folio *folio)
{
	struct swap_info_struct *si = folio->pmem->si;
	unsigned long start = READ_ONCE(folio->swap);
	bool swapped = false;

	spin_lock(&si->swap_lock);
	for (unsigned long i = 0; i < folio_nr_pages(folio) && !swapped; i++)
		swapped = READ_ONCE(si->swap_map[start + i]) & SWAP_COUNT_MASK;
	spin_unlock(&si->swap_lock);
	return swapped;
}

/* __delete_from_swap_cache() and put_swap_folio(): the cache's hold ends. */
static void delete_from_swap_cache_locked(struct swap_info_struct *si,
					  struct folio *folio)
{
	unsigned long start = READ_ONCE(folio->swap);

	for (unsigned long i = 0; i < folio_nr_pages(folio); i++) {
		VM_WARN_ON_FOLIO(READ_ONCE(si->cache[start + i]) != folio, folio);
		WRITE_ONCE(si->cache[start + i], NULL);
		swap_slot_put(si, start + i,
			      READ_ONCE(si->swap_map[start + i]) & ~SWAP_HAS_CACHE);
	}
	folio_clear_swapcache(folio);
}

bool folio_free_swap(struct folio *folio)
{
	struct swap_info_struct *si = folio->pmem->si;

	VM_WARN_ON_FOLIO(!folio_test_locked(folio), folio);
	if (!folio_test_swapcache(folio) || folio_swapped(folio))
		return false;
	spin_lock(&si->swap_lock);
	delete_from_swap_cache_locked(si, folio);
	spin_unlock(&si->swap_lock);
	folio_ref_sub(folio, (int)folio_nr_pages(folio));
	/* The device's copy is gone: only the folio has the data now. */
	folio_set_dirty(folio);
	return true;
}

void free_swap_cache(struct folio *folio)
{
	if (folio_test_swapcache(folio) && !folio_mapped(folio) &&
	    folio_trylock(folio)) {
		folio_free_swap(folio);
		folio_unlock(folio);
	}
}

void swap_writepage(struct folio *folio)
{
	struct swap_info_struct *si = folio->pmem->si;
	unsigned long start = READ_ONCE(folio->swap);

	folio_clear_dirty(folio);
	for (unsigned long i = 0; i < folio_nr_pages(folio); i++)
		for (int w = 0; w < FT_PAGE_WORDS; w++)
			WRITE_ONCE(si->data[start + i][w],
				   READ_ONCE(folio_page(folio, i)->data[w]));
}

bool remove_mapping_swapcache(struct folio *folio)
{
	struct swap_info_struct *si = folio->pmem->si;
	int refs = 1 + (int)folio_nr_pages(folio);

	/* A lookup or a pin may come in now. */
	ft_irq_window(FT_WIN_RECLAIM, NULL, 0, 0, folio);
	if (!folio_ref_freeze(folio, refs))
		return false;
	/* Dirtied meanwhile (through a pin): the device's copy is stale. */
	if (folio_test_dirty(folio)) {
		atomic_set(&folio->_refcount, refs);
		return false;
	}
	spin_lock(&si->swap_lock);
	delete_from_swap_cache_locked(si, folio);
	spin_unlock(&si->swap_lock);
	return true;
}
