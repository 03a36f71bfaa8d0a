// SPDX-License-Identifier: GPL-2.0-only
/*
 * MADV_DONTNEED and MADV_FREE (mm/madvise.c; pagetable spec §7.2, §8.2):
 * under the per-VMA read lock when one VMA covers the range, else under
 * the mmap_lock for read.  Concurrent faults may refill behind them.
 */
#include <errno.h>

#include "internal.h"

typedef void (*madvise_fn)(struct vm_area_struct *vma, unsigned long start,
			   unsigned long end);

/* Apply @fn to every part of [start, start + len) that a VMA covers. */
static int madvise_walk(struct mm_struct *mm, unsigned long start,
			unsigned long len, madvise_fn fn)
{
	unsigned long end = start + len;
	struct vm_area_struct *vmas[MAX_VMAS];
	struct vm_area_struct *vma;
	int n;

	if (!len || (start | len) & (PAGE_SIZE - 1) || end > mm->task_size || end < start)
		return -EINVAL;
	if (mm->world->locking->dontneed_vma_lock) {
		vma = lock_vma_under_rcu(mm, start);
		if (vma) {
			bool covers = end <= vma->vm_end;

			if (covers)
				fn(vma, start, end);
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

		if (s < e)
			fn(vmas[i], s, e);
	}
	mmap_read_unlock(mm);
	return 0;
}

static void madvise_dontneed_single_vma(struct vm_area_struct *vma,
					unsigned long start, unsigned long end)
{
	zap_page_range_single(vma, start, end - start);
}

int ft_madvise_dontneed(struct mm_struct *mm, unsigned long start,
			unsigned long len)
{
	return madvise_walk(mm, start, len, madvise_dontneed_single_vma);
}

/*
 * madvise_free_pte_range(): the folios this MM alone maps become old and
 * clean, so reclaim could drop them (there is no reclaim here: the data
 * stays until the next write or zap).  Upstream splits a large folio that
 * the range covers only in part; the model cannot split and skips it.
 */
static void madvise_free_pte_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
				   unsigned long addr, unsigned long end)
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
		if (!pte_present(ptent))
			continue;
		folio = vm_normal_folio(vma, addr, ptent);
		if (!folio || !folio_test_anon(folio) || folio_maybe_mapped_shared(folio))
			continue;
		if (folio_test_large(folio)) {
			nr = folio_pte_batch(folio, pte, ptent,
					     (unsigned int)((end - addr) >> PAGE_SHIFT));
			if (nr != folio_nr_pages(folio))
				continue;	/* would be split first */
		}
		clear_young_dirty_ptes(vma, addr, pte, nr);
		tlb_remove_tlb_entries(tlb, pte, nr, addr);
	}
	pte_unmap_unlock(start_pte, ptl);
}

static void madvise_free_single_vma(struct vm_area_struct *vma, unsigned long start,
				    unsigned long end)
{
	struct mmu_gather tlb;
	unsigned long next;

	if (!READ_ONCE(vma->anon_vma))		/* a racing fault may set it */
		return;
	/* A clean entry cached writable would let writes skip the dirty bit. */
	tlb_gather_mmu(&tlb, vma->vm_mm);
	for (; start < end; start = next) {
		next = pmd_addr_end(start, end);
		madvise_free_pte_range(&tlb, vma, start, next);
		cond_resched();
	}
	tlb_finish_mmu(&tlb);
}

int ft_madvise_free(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	return madvise_walk(mm, start, len, madvise_free_single_vma);
}
