// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rmap entry points (mm/rmap.c and the inline half of
 * include/linux/rmap.h, v6.15-v6.18; rmap spec §4), PTE level.
 *
 * Lock ordering (the part this file takes):
 *   PTL (caller)
 *     large-mapcount lock (inside the model's add/sub)
 *     split_queue_lock (deferred_split_folio, after the model's lock is
 *                       dropped)
 *
 * Ordering rules kept from the kernel (rmap spec §4.2): an add updates the
 * per-page counters first and the large mapcount last; a remove updates the
 * large mapcount first and the per-page counters after.  A reader of the
 * large mapcount may therefore see fewer mappings than the per-page counts
 * during a remove, never more.
 *
 * FT-DEVIATION: no PMD/PUD mappings exist in the model, so there is no
 * entire-mapping level; folio_add_new_anon_rmap() maps a PMD-sized folio
 * with PTEs like any mTHP, and _entire_mapcount stays -1.
 */
#include <errno.h>

#include "ft/mapcount.h"

/* __folio_rmap_sanity_checks(): the batch is inside the folio (I14). */
static void folio_rmap_sanity_checks(struct folio *folio, struct page *page,
				     int nr)
{
	VM_WARN_ON_FOLIO(nr <= 0, folio);
	VM_WARN_ON_FOLIO(page_folio(page) != folio, folio);
	VM_WARN_ON_FOLIO(folio_page_idx(folio, page) + (unsigned long)nr >
			 folio_nr_pages(folio), folio);
	/* Every mapping owns a reference (I1): none left means use after free. */
	VM_WARN_ON_FOLIO(folio_ref_count(folio) <= 0, folio);
}

/* Set folio->mapping and ->index for the first anon mapping. */
static void __folio_set_anon(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long address)
{
	/* FT-DEVIATION: no anon_vma root; the VMA's anon_vma is the mapping. */
	WRITE_ONCE(folio->index, address >> PAGE_SHIFT);
	WRITE_ONCE(folio->mapping, (unsigned long)vma->anon_vma | PAGE_MAPPING_ANON);
}

/**
 * folio_add_new_anon_rmap - map a brand-new folio (rmap spec §4.3)
 * @folio: the folio, never mapped before, not yet visible to others
 * @vma: the VMA it is mapped into, with folio_nr_pages() PTEs at once
 * @address: the user address of its first page
 * @flags: RMAP_EXCLUSIVE to mark every page AnonExclusive
 *
 * No lock: nobody else can see the folio yet.  The caller holds the
 * references (one per PTE) already.
 */
void folio_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long address, rmap_t flags)
{
	bool exclusive = flags & RMAP_EXCLUSIVE;
	int nr = (int)folio_nr_pages(folio);

	VM_WARN_ON_FOLIO(folio_ref_count(folio) < nr, folio);
	/* B6's fix: the non-atomic set only when the bit is not set yet. */
	if (!folio_test_swapbacked(folio))
		__folio_set_swapbacked(folio);
	__folio_set_anon(folio, vma, address);

	if (likely(!folio_test_large(folio))) {
		atomic_set(&folio->page->_mapcount, 0);
		if (exclusive)
			SetPageAnonExclusive(folio->page);
	} else {
		for (int i = 0; i < nr; i++) {
			struct page *page = folio_page(folio, i);

			if (folio_uses_page_mapcount(folio))
				atomic_set(&page->_mapcount, 0);
			if (exclusive)
				SetPageAnonExclusive(page);
		}
		folio_mc(folio)->set(folio, nr, vma);
		if (folio_uses_page_mapcount(folio))
			atomic_set(&folio->_nr_pages_mapped, nr);
	}
	VM_WARN_ON_FOLIO(address < vma->vm_start ||
			 address + ((unsigned long)nr << PAGE_SHIFT) > vma->vm_end,
			 folio);
}

/*
 * __folio_add_rmap(), PTE level: returns the number of pages that became
 * mapped (the kernel's NR_*_MAPPED delta).
 */
static int __folio_add_rmap(struct folio *folio, struct page *page, int nr_pages,
			    struct vm_area_struct *vma)
{
	int first = 0, nr = 0;

	folio_rmap_sanity_checks(folio, page, nr_pages);
	if (likely(!folio_test_large(folio)))
		return atomic_inc_and_test(&page->_mapcount);
	if (!folio_uses_page_mapcount(folio)) {
		int total = folio_mc(folio)->add(folio, nr_pages, vma);

		return total == nr_pages ? (int)folio_nr_pages(folio) : 0;
	}
	for (int i = 0; i < nr_pages; i++)
		first += atomic_inc_and_test(&page[i]._mapcount);
	if (first && atomic_add_return_relaxed(first, &folio->_nr_pages_mapped) <
		     ENTIRELY_MAPPED)
		nr = first;
	/* After the per-page counts (rmap spec §4.1). */
	folio_mc(folio)->add(folio, nr_pages, vma);
	return nr;
}

/**
 * folio_add_anon_rmap_ptes - map pages of an anon folio (rmap spec §4.4)
 * @folio: the anon folio
 * @page: the first page, @nr consecutive pages of @folio
 * @nr: the number of PTEs
 * @vma: the VMA they map into
 * @address: the user address of @page
 * @flags: RMAP_EXCLUSIVE if the pages are exclusive to @vma's mm
 *
 * Caller holds the PTL; @nr references are taken already.
 */
void folio_add_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma, unsigned long address,
			      rmap_t flags)
{
	VM_WARN_ON_FOLIO(!folio_test_anon(folio), folio);
	__folio_add_rmap(folio, page, nr, vma);
	for (int i = 0; i < nr; i++) {
		struct page *p = page + i;

		if (flags & RMAP_EXCLUSIVE)
			SetPageAnonExclusive(p);
		/* An exclusive page is mapped once (the kernel's debug check). */
		VM_WARN_ON_FOLIO(PageAnonExclusive(p) &&
				 ((!folio_test_large(folio) && folio_mapcount(folio) > 1) ||
				  (folio_test_large(folio) &&
				   folio_uses_page_mapcount(folio) &&
				   atomic_read(&p->_mapcount) > 0)), folio);
	}
	/* __page_check_anon_rmap(): the page sits at its own index. */
	VM_WARN_ON_FOLIO(READ_ONCE(folio->index) + folio_page_idx(folio, page) !=
			 address >> PAGE_SHIFT, folio);
}

/**
 * folio_add_file_rmap_ptes - map pages of a file folio (rmap spec §4.5)
 * @folio: the file (or shmem) folio
 * @page: the first page
 * @nr: the number of PTEs
 * @vma: the VMA they map into
 *
 * Caller holds the PTL.  An mm may map a file page more than once.
 */
void folio_add_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma)
{
	VM_WARN_ON_FOLIO(folio_test_anon(folio), folio);
	__folio_add_rmap(folio, page, nr, vma);
}

/* The counting half of dup: never a first mapping, so no _nr_pages_mapped. */
static void __folio_dup_rmap(struct folio *folio, struct page *page, int nr,
			     struct vm_area_struct *dst_vma, bool anon)
{
	folio_rmap_sanity_checks(folio, page, nr);
	if (likely(!folio_test_large(folio))) {
		if (anon && PageAnonExclusive(page))
			ClearPageAnonExclusive(page);
		atomic_inc(&page->_mapcount);
		return;
	}
	for (int i = 0; i < nr; i++) {
		if (anon && PageAnonExclusive(page + i))
			ClearPageAnonExclusive(page + i);
		if (folio_uses_page_mapcount(folio))
			atomic_inc(&page[i]._mapcount);
	}
	/* The child's mm id: dst_vma (v3 series, patch 07/20). */
	folio_mc(folio)->add(folio, nr, dst_vma);
}

/**
 * folio_dup_file_rmap_ptes - fork's duplicate of file PTEs (rmap spec §4.6)
 * @folio: the file folio
 * @page: the first page
 * @nr: the number of PTEs copied
 * @dst_vma: the child's VMA
 *
 * Caller holds both PTLs and took @nr references first.
 */
void folio_dup_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *dst_vma)
{
	__folio_dup_rmap(folio, page, nr, dst_vma, false);
}

/**
 * folio_try_dup_anon_rmap_ptes - fork's duplicate of anon PTEs (rmap spec §4.6)
 * @folio: the anon folio
 * @page: the first page
 * @nr: the number of PTEs copied
 * @dst_vma: the child's VMA
 * @src_vma: the parent's VMA
 *
 * Caller holds both PTLs and src mm->write_protect_seq for write, and took
 * @nr references first.  Returns -EBUSY, having changed nothing, when the
 * folio may be pinned and one of the pages is exclusive: the caller drops
 * the references and copies the page instead.  On success the pages are
 * no longer exclusive and must end up read-only in parent and child.
 */
int folio_try_dup_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
				 struct vm_area_struct *dst_vma,
				 struct vm_area_struct *src_vma)
{
	if (folio_needs_cow_for_dma(src_vma, folio)) {
		for (int i = 0; i < nr; i++) {
			if (PageAnonExclusive(page + i))
				return -EBUSY;
		}
	}
	__folio_dup_rmap(folio, page, nr, dst_vma, true);
	return 0;
}

/*
 * __folio_remove_rmap(), PTE level: the pages that became unmapped, and
 * whether the folio is now partially mapped (rmap spec §4.2).
 */
static int __folio_remove_rmap(struct folio *folio, struct page *page,
			       int nr_pages, struct vm_area_struct *vma,
			       bool *partially_mapped)
{
	int last = 0, nr = 0;

	folio_rmap_sanity_checks(folio, page, nr_pages);
	*partially_mapped = false;
	if (likely(!folio_test_large(folio)))
		return atomic_add_negative(-1, &page->_mapcount);
	if (!folio_uses_page_mapcount(folio)) {
		int total = folio_mc(folio)->sub(folio, nr_pages, vma);

		if (total == 0)
			return (int)folio_nr_pages(folio);
		*partially_mapped = total < (int)folio_nr_pages(folio) &&
				    !folio_entire_mapcount(folio);
		return 0;
	}
	/* Before the per-page counts (rmap spec §4.2). */
	folio_mc(folio)->sub(folio, nr_pages, vma);
	for (int i = 0; i < nr_pages; i++)
		last += atomic_add_negative(-1, &page[i]._mapcount);
	if (last && atomic_sub_return_relaxed(last, &folio->_nr_pages_mapped) <
		    ENTIRELY_MAPPED)
		nr = last;
	*partially_mapped = nr && atomic_read(&folio->_nr_pages_mapped);
	return nr;
}

/**
 * folio_remove_rmap_ptes - unmap pages of a folio (rmap spec §4.2)
 * @folio: the folio
 * @page: the first page
 * @nr: the number of PTEs removed
 * @vma: the VMA they were in
 *
 * Caller holds the PTL, cleared the PTEs first and drops the @nr
 * references afterwards (after the TLB flush, for zap).
 */
void folio_remove_rmap_ptes(struct folio *folio, struct page *page, int nr,
			    struct vm_area_struct *vma)
{
	bool partially_mapped;

	__folio_remove_rmap(folio, page, nr, vma, &partially_mapped);
	/* The only place rmap touches the deferred-split queue. */
	if (partially_mapped && folio_test_anon(folio) &&
	    !folio_test_partially_mapped(folio))
		deferred_split_folio(folio, true);
	/* folio->mapping stays: a racing add may have set it already. */
}
