// SPDX-License-Identifier: GPL-2.0-only
/*
 * MADV_DONTNEED and MADV_FREE (mm/madvise.c v6.16: madvise_dontneed_free(),
 * madvise_free_pte_range(), get_lock_mode()): under the per-VMA read lock
 * when one VMA covers the range, else under the mmap_lock for read.
 * Concurrent faults may refill behind them, and two calls may work on one
 * range at once: tlb_finish_mmu()'s nested-gather flush is what makes the
 * second one's return mean "flushed".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One call (upstream's struct madvise_behavior, reduced to what we use). */
struct madvise_behavior {
	unsigned long start;
	/*
	 * The TLB oracle (--tlb): the pages MADV_FREE looked at, which its
	 * return leaves with no writable translation from before the call;
	 * not the large folios it skipped.  NULL without the oracle.
	 */
	unsigned long *examined;
};

typedef void (*madvise_fn)(struct vm_area_struct *vma, unsigned long start,
			   unsigned long end, struct madvise_behavior *b);

/*
 * Apply @fn to every part of [start, start + len) that a VMA covers: 0, or
 * -ENOMEM if some of the range is not mapped (after doing the rest, as
 * madvise(2) does), -EINVAL for a bad range.
 */
static int madvise_walk(struct mm_struct *mm, unsigned long start,
			unsigned long len, madvise_fn fn, struct madvise_behavior *b)
{
	unsigned long end = start + len, done = start;
	struct vm_area_struct *vmas[MAX_VMAS];
	struct vm_area_struct *vma;
	bool hole = false;
	int n;

	if (!len || (start | len) & (PAGE_SIZE - 1) || end > mm->task_size || end < start)
		return -EINVAL;
	if (mm->world->locking->dontneed_vma_lock) {
		vma = lock_vma_under_rcu(mm, start);
		if (vma) {
			bool covers = end <= vma->vm_end;

			if (covers)
				fn(vma, start, end, b);
			vma_end_read(vma);
			if (covers)
				return 0;
		}
	}
	mmap_read_lock(mm);
	n = mm_vmas_sorted(mm, vmas);
	for (int i = 0; i < n; i++) {
		unsigned long s = max(start, vmas[i]->vm_start);
		unsigned long e = min(end, vmas[i]->vm_end);

		if (s >= e)
			continue;
		hole |= s > done;
		fn(vmas[i], s, e, b);
		done = e;
	}
	mmap_read_unlock(mm);
	return hole || done < end ? -ENOMEM : 0;
}

static void madvise_dontneed_single_vma(struct vm_area_struct *vma,
					unsigned long start, unsigned long end,
					struct madvise_behavior *b)
{
	(void)b;
	zap_page_range_single(vma, start, end - start);
}

int ft_madvise_dontneed(struct mm_struct *mm, unsigned long start,
			unsigned long len)
{
	u64 since = ft_tlb_call_begin(mm);
	int ret = madvise_walk(mm, start, len, madvise_dontneed_single_vma, NULL);

	if (!ret)
		ft_tlb_done(mm, start, start + len, FT_TLB_UNMAPPED, since);
	return ret;
}

/* The oracle's bitmap: MADV_FREE did not look at [addr, addr + nr pages). */
static void madvise_skipped(struct madvise_behavior *b, unsigned long addr,
			    unsigned int nr)
{
	unsigned long first = (addr - b->start) >> PAGE_SHIFT;

	if (!b->examined)
		return;
	for (unsigned long i = first; i < first + nr; i++)
		b->examined[i / BITS_PER_LONG] &= ~BIT(i % BITS_PER_LONG);
}

/* madvise_folio_pte_batch(): the batch's young and dirty merged in. */
static unsigned int madvise_folio_pte_batch(unsigned long addr, unsigned long end,
					    struct folio *folio, pte_t *ptep,
					    pte_t *ptentp)
{
	return folio_pte_batch_flags(folio, ptep, ptentp,
				     (unsigned int)((end - addr) >> PAGE_SHIFT),
				     FPB_MERGE_YOUNG_DIRTY);
}

/*
 * A folio whose content is newer than any copy (PG_dirty) loses that only
 * if it is exclusive and fully mapped here: then the entries below are
 * all there is to clean.  False to skip it.
 */
static bool madvise_free_clean_folio(struct folio *folio)
{
	if (!folio_test_swapcache(folio) && !folio_test_dirty(folio))
		return true;
	if (!folio_trylock(folio))
		return false;
	if (folio_mapcount(folio) != (int)folio_nr_pages(folio) ||
	    (folio_test_swapcache(folio) && !folio_free_swap(folio))) {
		folio_unlock(folio);
		return false;
	}
	folio_clear_dirty(folio);
	folio_unlock(folio);
	return true;
}

/*
 * A swapped-out page's content is dropped, as upstream's MADV_FREE does:
 * the entry goes, and so does the slot if nothing else refers to it.
 * FT-DEVIATION: one entry at a time (upstream batches with
 * swap_pte_batch()).
 */
static void madvise_free_swap_entry(struct vm_area_struct *vma, unsigned long addr,
				    pte_t *pte, pte_t ptent)
{
	struct mm_struct *mm = vma->vm_mm;

	free_swap_and_cache_nr(mm->pmem, pte_swp_offset(ptent), 1);
	ptep_get_and_clear(mm, addr, pte);
	add_mm_counter(mm, MM_SWAPENTS, -1);
	if (mm->world->unmap_hook)
		mm->world->unmap_hook(mm, addr, 1, FT_UNMAP_DISCARD);
}

/*
 * madvise_free_pte_range(): the entries of each folio become old and
 * clean, and those that were young or dirty go into the flush range; the
 * folio becomes lazyfree, so reclaim drops it unless it is written again.
 */
static void madvise_free_pte_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
				   unsigned long addr, unsigned long end,
				   struct madvise_behavior *b)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pte_t *start_pte = pte_offset_map_lock(mm, pmd_off(mm, addr), addr, &ptl);
	pte_t *pte = start_pte;

	if (!pte)
		return;
	for (unsigned int nr; addr != end; pte += nr, addr += nr * PAGE_SIZE) {
		pte_t ptent = ptep_get(pte);
		struct folio *folio;

		nr = 1;
		if (is_swapfile_entry(ptent)) {
			madvise_free_swap_entry(vma, addr, pte, ptent);
			continue;
		}
		if (!pte_present(ptent))
			continue;
		folio = vm_normal_folio(vma, addr, ptent);
		if (!folio)
			continue;
		if (folio_test_large(folio)) {
			nr = madvise_folio_pte_batch(addr, end, folio, pte, &ptent);
			/*
			 * FT-DEVIATION: upstream splits a large folio that the
			 * range covers only in part (unless it may be shared
			 * or is locked); the model cannot split and skips it.
			 */
			if (nr < folio_nr_pages(folio)) {
				madvise_skipped(b, addr, nr);
				continue;
			}
		}
		if (!madvise_free_clean_folio(folio)) {
			madvise_skipped(b, addr, nr);
			continue;
		}
		if (pte_young(ptent) || pte_dirty(ptent)) {
			clear_young_dirty_ptes(vma, addr, pte, nr);
			tlb_remove_tlb_entries(tlb, pte, nr, addr);
		}
		folio_mark_lazyfree(folio);
	}
	pte_unmap_unlock(start_pte, ptl);
}

static void madvise_free_single_vma(struct vm_area_struct *vma, unsigned long start,
				    unsigned long end, struct madvise_behavior *b)
{
	struct mmu_gather tlb;
	unsigned long next;

	if (!READ_ONCE(vma->anon_vma))		/* a racing fault may set it */
		return;
	tlb_gather_mmu(&tlb, vma->vm_mm);
	for (; start < end; start = next) {
		next = pmd_addr_end(start, end);
		madvise_free_pte_range(&tlb, vma, start, next, b);
		cond_resched();
	}
	tlb_finish_mmu(&tlb);
}

int ft_madvise_free(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	unsigned long nr = len >> PAGE_SHIFT;
	struct madvise_behavior b = { .start = start };
	u64 since = ft_tlb_call_begin(mm);
	int ret;

	/* Without the bitmap (no --tlb, or no memory) the oracle learns nothing. */
	if (mm->tlb_done && nr <= mm->task_size >> PAGE_SHIFT) {
		b.examined = malloc(BITS_TO_LONGS(nr) * sizeof(long));
		if (b.examined)
			memset(b.examined, 0xff, BITS_TO_LONGS(nr) * sizeof(long));
	}
	ret = madvise_walk(mm, start, len, madvise_free_single_vma, &b);
	for (unsigned long i = 0; !ret && b.examined && i < nr; i++)
		if (b.examined[i / BITS_PER_LONG] & BIT(i % BITS_PER_LONG))
			ft_tlb_done(mm, start + i * PAGE_SIZE, start + (i + 1) * PAGE_SIZE,
				    FT_TLB_WRPROTECTED, since);
	free(b.examined);
	return ret;
}
