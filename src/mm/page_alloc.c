// SPDX-License-Identifier: GPL-2.0-only
/*
 * Physical memory: a buddy allocator over a pfn-indexed struct page array,
 * folio preparation (prep_compound_head's initial values, mm/internal.h),
 * and the free path with its "bad page state" checks (I15 in
 * doc/invariants.md) and page poisoning.
 *
 * Lock order: zone_lock is a leaf; the free path takes split_queue_lock
 * (folio_unqueue_deferred_split) before, never inside, zone_lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "ft/folio.h"
#include "ft/mapcount.h"
#include "ft/report.h"

/* ---- Free lists (under zone_lock) --------------------------------------------- */

static void add_to_free_list(struct ft_pmem *pmem, struct page *page,
			     unsigned int order)
{
	set_bit(PG_buddy, &page->flags);
	page->buddy_order = order;
	list_add_tail(&page->buddy_list, &pmem->free_area[order]);
}

static void del_from_free_list(struct page *page)
{
	list_del_init(&page->buddy_list);
	clear_bit(PG_buddy, &page->flags);
}

/* __rmqueue_smallest() + expand(): take a block, return the upper halves. */
static struct page *rmqueue(struct ft_pmem *pmem, unsigned int order)
{
	struct page *page = NULL;
	unsigned int o;

	spin_lock(&pmem->zone_lock);
	for (o = order; o < NR_PAGE_ORDERS; o++) {
		if (!list_empty(&pmem->free_area[o]))
			break;
	}
	if (o < NR_PAGE_ORDERS) {
		page = list_first_entry(&pmem->free_area[o], struct page, buddy_list);
		del_from_free_list(page);
		while (o > order) {
			o--;
			add_to_free_list(pmem, page + (1UL << o), o);
		}
		pmem->nr_free_pages -= 1UL << order;
	}
	spin_unlock(&pmem->zone_lock);
	return page;
}

/* __free_one_page(): merge with free buddies as far as they go. */
static void free_one_block(struct ft_pmem *pmem, unsigned long pfn,
			   unsigned int order)
{
	spin_lock(&pmem->zone_lock);
	pmem->nr_free_pages += 1UL << order;
	while (order < MAX_PAGE_ORDER) {
		unsigned long buddy_pfn = pfn ^ (1UL << order);
		struct page *buddy = pfn_to_page(pmem, buddy_pfn);

		if (!test_bit(PG_buddy, &buddy->flags) || buddy->buddy_order != order)
			break;
		del_from_free_list(buddy);
		pfn &= buddy_pfn;
		order++;
	}
	add_to_free_list(pmem, pfn_to_page(pmem, pfn), order);
	spin_unlock(&pmem->zone_lock);
}

/* ---- Set-up ----------------------------------------------------------------------- */

int ft_pmem_init(struct ft_pmem *pmem, unsigned long nr_pfns,
		 const struct ft_mapcount_ops *mc, bool no_page_mapcount)
{
	const unsigned long block = 1UL << MAX_PAGE_ORDER;

	if (!nr_pfns || nr_pfns % block || !mc)
		return -EINVAL;
	memset(pmem, 0, sizeof(*pmem));
	pmem->pages = calloc(nr_pfns, sizeof(*pmem->pages));
	pmem->folios = calloc(nr_pfns, sizeof(*pmem->folios));
	if (!pmem->pages || !pmem->folios) {
		free(pmem->pages);
		free(pmem->folios);
		return -ENOMEM;
	}
	pmem->nr_pfns = nr_pfns;
	pmem->mc = mc;
	pmem->no_page_mapcount = no_page_mapcount;
	spin_lock_init(&pmem->zone_lock);
	spin_lock_init(&pmem->ds.split_queue_lock);
	INIT_LIST_HEAD(&pmem->ds.split_queue);
	lruvec_init(&pmem->lruvec);
	if (ft_swap_init(pmem)) {
		free(pmem->pages);
		free(pmem->folios);
		return -ENOMEM;
	}
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
		INIT_LIST_HEAD(&pmem->free_area[o]);
	for (unsigned long pfn = 0; pfn < nr_pfns; pfn++) {
		struct page *page = &pmem->pages[pfn];

		page->pfn = pfn;
		fill_page_data(page, PAGE_POISON);
		atomic_set(&page->_mapcount, -1);
		INIT_LIST_HEAD(&page->buddy_list);
		pmem->folios[pfn].page = page;
		pmem->folios[pfn].pmem = pmem;
		INIT_LIST_HEAD(&pmem->folios[pfn]._deferred_list);
		INIT_LIST_HEAD(&pmem->folios[pfn].lru);
	}
	for (unsigned long pfn = 0; pfn < nr_pfns; pfn += block)
		free_one_block(pmem, pfn, MAX_PAGE_ORDER);
	return 0;
}

void ft_pmem_destroy(struct ft_pmem *pmem)
{
	ft_swap_destroy(pmem);
	free(pmem->pages);
	free(pmem->folios);
	pmem->pages = NULL;
	pmem->folios = NULL;
}

unsigned long ft_pmem_nr_used_pages(struct ft_pmem *pmem)
{
	unsigned long nr_free, bad = 0;

	spin_lock(&pmem->zone_lock);
	nr_free = pmem->nr_free_pages;
	spin_unlock(&pmem->zone_lock);
	for (unsigned long pfn = 0; pfn < pmem->nr_pfns; pfn++)
		bad += test_bit(PG_bad, &pmem->pages[pfn].flags);
	return pmem->nr_pfns - nr_free - bad;
}

/* ---- Bad page state ------------------------------------------------------------------ */

/* bad_page(): report, and leak the folio as the kernel does. */
static void bad_page(struct page *page, const char *reason)
{
	char comm[16] = "";

	if (!ft_report_begin("bad page state"))
		return;
	prctl(PR_GET_NAME, comm);
	ft_report_msg("BUG: Bad page state in process %s  pfn:%05lx\n", comm,
		page_to_pfn(page));
	dump_page(stderr, page, reason);
	ft_report_end();
}

/* What free_pages_prepare()/free_tail_page_prepare() would complain about. */
static const char *free_check_reason(struct folio *folio)
{
	const char *reason;

	for (unsigned long i = 0; i < folio_nr_pages(folio); i++) {
		if (atomic_read(&folio_page(folio, i)->_mapcount) != -1)
			return "nonzero mapcount";
	}
	if (test_bit(PG_locked, &folio->page->flags))
		return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
	if (!folio_test_large(folio))
		return NULL;
	if (atomic_read(&folio->_large_mapcount) != -1)
		return "nonzero large_mapcount";
	if (atomic_read(&folio->_entire_mapcount) != -1)
		return "nonzero entire_mapcount";
	if (atomic_read(&folio->_nr_pages_mapped))
		return "nonzero nr_pages_mapped";
	if (atomic_read(&folio->_pincount))
		return "nonzero pincount";
	reason = folio_mc(folio)->free_check(folio);
	if (reason)
		return reason;
	if (folio_on_deferred_list(folio))
		return "on deferred list";
	return NULL;
}

/* Page poisoning: a freed page's content must still be the poison. */
static void check_new_pages(struct page *page, unsigned int order)
{
	for (unsigned long i = 0; i < (1UL << order); i++) {
		for (int w = 0; w < FT_PAGE_WORDS; w++)
			if (READ_ONCE(page[i].data[w]) != PAGE_POISON)
				bad_page(&page[i], "corrupted page poison (write after free)");
		if (READ_ONCE(page[i].flags) & ~BIT(PG_bad))
			bad_page(&page[i], "flags set on a free page");
	}
}

/* prep_new_page() + prep_compound_head(): the kernel's initial values. */
static struct folio *prep_new_folio(struct ft_pmem *pmem, struct page *page,
				    unsigned int order)
{
	struct folio *folio = &pmem->folios[page_to_pfn(page)];

	check_new_pages(page, order);
	WRITE_ONCE(folio->order, order);
	atomic_set(&folio->_refcount, 1);
	WRITE_ONCE(folio->mapping, 0UL);
	WRITE_ONCE(folio->index, 0UL);
	atomic_set(&folio->_large_mapcount, -1);
	atomic_set(&folio->_nr_pages_mapped, 0);
	atomic_set(&folio->_entire_mapcount, -1);
	atomic_set(&folio->_pincount, 0);
	pmem->mc->prep(folio);
	for (unsigned long i = 0; i < (1UL << order); i++) {
		WRITE_ONCE(page[i].flags, 0UL);
		fill_page_data(&page[i], 0UL);	/* a zeroed page */
		atomic_set(&page[i]._mapcount, -1);
		WRITE_ONCE(page[i].folio, folio);
	}
	if (order)
		set_bit(PG_head, &page->flags);
	return folio;
}

struct folio *folio_alloc(struct ft_pmem *pmem, unsigned int order,
			  struct ft_random_state *rs)
{
	struct page *page;
	u32 ppm;

	if (order > MAX_PAGE_ORDER)
		return NULL;
	ppm = READ_ONCE(pmem->fail_ppm[order]);
	if (ppm && rs && ft_random_below(rs, 1000000) < ppm)
		page = NULL;
	else
		page = rmqueue(pmem, order);
	if (!page) {
		__atomic_fetch_add(&pmem->stats.n_alloc_fail[order], 1, __ATOMIC_RELAXED);
		return NULL;
	}
	__atomic_fetch_add(&pmem->stats.n_alloc[order], 1, __ATOMIC_RELAXED);
	return prep_new_folio(pmem, page, order);
}

/* The last reference is gone: check, poison, give back to the buddy. */
void __folio_put(struct folio *folio)
{
	struct ft_pmem *pmem = folio->pmem;
	unsigned int order = folio_order(folio);
	const char *reason;

	__page_cache_release(folio);
	folio_unqueue_deferred_split(folio);
	reason = free_check_reason(folio);
	if (reason) {
		bad_page(folio->page, reason);
		for (unsigned long i = 0; i < folio_nr_pages(folio); i++)
			set_bit(PG_bad, &folio_page(folio, i)->flags);
		__atomic_fetch_add(&pmem->stats.n_bad, 1, __ATOMIC_RELAXED);
		return;
	}
	WRITE_ONCE(folio->mapping, 0UL);
	for (unsigned long i = 0; i < folio_nr_pages(folio); i++) {
		struct page *page = folio_page(folio, i);

		WRITE_ONCE(page->folio, NULL);
		WRITE_ONCE(page->flags, 0UL);	/* AnonExclusive included */
		fill_page_data(page, PAGE_POISON);
	}
	__atomic_fetch_add(&pmem->stats.n_free[order], 1, __ATOMIC_RELAXED);
	free_one_block(pmem, folio_pfn(folio), order);
}

void folio_ref_bug(struct folio *folio, const char *what)
{
	ft_folio_bug(folio, "folio refcount", what, __FILE__, __LINE__);
}
