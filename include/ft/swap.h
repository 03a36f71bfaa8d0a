/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Swap: one swap device with its swap map and its swap cache
 * (mm/swapfile.c, mm/swap_state.c v6.18, reduced to what anon reclaim
 * and swap-in need).  A slot's count is the number of swap entries
 * (PTEs) that refer to it, plus SWAP_HAS_CACHE while a folio in the swap
 * cache holds it; the swap cache holds one folio reference per page.
 *
 * FT-DEVIATION: one device as large as physical memory, one lock for the
 * map and the cache (upstream: cluster locks and the swap cache's xarray
 * lock), counts in 15 bits with no continuation pages, and synchronous
 * I/O: a write-out copies the folio's content into the slots at once.
 *
 * Lock ordering: swap_lock is taken under the PTL (fork's swap_duplicate,
 * zap's free_swap_and_cache, try_to_unmap_one) and under the folio lock;
 * it is a leaf (the references it takes are speculative).
 */
#ifndef FT_SWAP_H
#define FT_SWAP_H

#include "ft/folio.h"

#define SWAP_HAS_CACHE		0x8000	/* a swap cache folio holds the slot */
#define SWAP_COUNT_MASK		0x7fff

struct swap_info_struct {
	spinlock_t swap_lock;		/* protects everything below */
	unsigned long max;		/* slots */
	unsigned short *swap_map;	/* count | SWAP_HAS_CACHE; 0: free */
	struct folio **cache;		/* the swap cache, by slot */
	unsigned long (*data)[FT_PAGE_WORDS];	/* the device's content */
	unsigned long inuse_pages;
	unsigned long cursor;		/* where allocation looks first */
};

/* folio_alloc_swap() and add_to_swap_cache() (add_to_swap()): the folio,
 * locked and not yet in the swap cache, gets nr aligned slots.  false if
 * there are none (upstream then splits a large folio). */
bool add_to_swap(struct folio *folio);
/* The swap cache's folio for slot @offset, with a reference, or NULL. */
struct folio *swap_cache_get_folio(struct ft_pmem *pmem, unsigned long offset);
/*
 * __read_swap_cache_async(): a new order-0 folio for slot @offset, read
 * from the device, in the swap cache and on the LRU, with a reference.
 * FT-DEVIATION: no readahead, and never a large folio (v6.18 swaps in
 * mTHP on SWP_SYNCHRONOUS_IO devices, alloc_swap_folio()); a large folio
 * is found whole only while reclaim has not freed it yet.
 * NULL and *@oom false if the slot is freed or another folio is being
 * added (the fault retries); NULL and *@oom true if no memory.
 */
struct folio *swapin_folio(struct ft_pmem *pmem, unsigned long offset,
			   struct ft_random_state *rs, bool *oom);
/* One more swap entry refers to @offset (fork, try_to_unmap_one). */
void swap_duplicate(struct ft_pmem *pmem, unsigned long offset);
/* @nr entries from @offset are gone (swap-in mapped them). */
void swap_free_nr(struct ft_pmem *pmem, unsigned long offset, unsigned int nr);
/*
 * free_swap_and_cache_nr(): @nr swap entries from @offset were zapped;
 * a swap cache folio no entry refers to any more, and that nothing maps,
 * is removed from the cache if its lock can be had.  Under the PTL.
 */
void free_swap_and_cache_nr(struct ft_pmem *pmem, unsigned long offset,
			    unsigned int nr);
/* Some swap entry still refers to a slot of the (swap cache) folio. */
bool folio_swapped(struct folio *folio);
/*
 * folio_free_swap(): the folio, locked, leaves the swap cache if no swap
 * entry refers to it any more, and becomes dirty (the device's copy is
 * gone).  True if it left.
 */
bool folio_free_swap(struct folio *folio);
/* free_swap_cache(): folio_free_swap() of an unmapped folio, if its lock
 * can be had (the mmu_gather's free path and wp_page_copy). */
void free_swap_cache(struct folio *folio);
/* swap_writepage(), synchronous: the content to the slots; clean. */
void swap_writepage(struct folio *folio);
/*
 * __remove_mapping() for a swap cache folio, locked, isolated: freeze
 * the references (reclaim's and the cache's), take it out of the cache
 * and give its slots up.  False if another reference exists or it was
 * dirtied again.  The caller frees it (refcount 0).
 */
bool remove_mapping_swapcache(struct folio *folio);

#endif /* FT_SWAP_H */
