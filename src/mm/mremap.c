// SPDX-License-Identifier: GPL-2.0-only
/*
 * mremap(2) (mm/mremap.c, v6.17-v6.18): shrink and grow in place, and the
 * move to a fixed address of a range within one VMA or, since 6.17, of
 * every VMA in a range (remap_move(): each piece moved on its own, the gaps
 * kept).  A move is move_vma(): the source VMA write-locked, copy_vma()
 * (a new VMA with the page offset of the moved part, linked to every
 * anon_vma of the old one, after it in each anon_vma's list), then
 * move_page_tables() -> move_ptes() under both PTLs with the PTE batch of
 * 6.17 (mremap_folio_pte_batch(): get-and-clear the batch, set_ptes() at
 * the new address), the old range flushed before the PTLs go, and the
 * source unmapped under the write lock.
 *
 * Lock ordering: mmap_lock (write), VMA write locks, then the old table's
 * PTL and the new one's nested (SINGLE_DEPTH_NESTING; the exclusive
 * mmap_lock rules out a second mover taking them the other way round).
 *
 * FT-DEVIATION: no move_normal_pmd()/move_huge_pmd(): PTE tables are never
 * freed for a range in the model (ft_munmap keeps them), so a destination
 * PMD is rarely empty, and every move goes entry by entry, as on an
 * architecture without CONFIG_HAVE_MOVE_PMD.
 * FT-DEVIATION: no get_unmapped_area(): a move needs MREMAP_FIXED; growing
 * without room with only MREMAP_MAYMOVE is -ENOMEM.
 * arm64 has no soft-dirty tracking, so move_soft_dirty_pte() is the
 * identity there and is left out.
 */
#include <errno.h>

#include "internal.h"

/* The moving of one extent of page tables (struct pagetable_move_control). */
struct pagetable_move_control {
	struct vm_area_struct *old, *new;
	unsigned long old_addr, old_end, new_addr;
	bool need_rmap_locks;
};

/*
 * Only a CONT entry can start a batch worth the folio lookup (the hint).
 * Z8 (04d1c9d60c6e, fixing f822a9a81a31): the batch ignored the write bit,
 * so set_ptes() gave the first entry's write bit to read-only entries of
 * the same folio.
 */
static unsigned int mremap_folio_pte_batch(struct vm_area_struct *vma,
					   unsigned long addr, pte_t *ptep,
					   pte_t pte, unsigned int max_nr)
{
	struct folio *folio;

	if (max_nr == 1 || pte_batch_hint(ptep, pte) == 1)
		return 1;
	folio = vm_normal_folio(vma, addr, pte);
	if (!folio || !folio_test_large(folio))
		return 1;
	if (ft_injected(FT_INJ_MREMAP_BATCH_IGNORES_WRITE))
		return folio_pte_batch(folio, ptep, pte, max_nr);
	return folio_pte_batch_flags(folio, ptep, &pte, max_nr, FPB_RESPECT_WRITE);
}

/*
 * take_rmap_locks(): the anon_vma lock, so that an rmap walk sees either
 * the old or the new entries.  Only the revert of a failed move needs it
 * in the model: a new VMA is always after the old one in every anon_vma's
 * list (anon_vma_clone() appends), so a walk that misses the old entry
 * finds the new one.
 */
static void take_rmap_locks(struct vm_area_struct *vma)
{
	if (vma->anon_vma)
		anon_vma_lock_write(vma->anon_vma);
}

static void drop_rmap_locks(struct vm_area_struct *vma)
{
	if (vma->anon_vma)
		anon_vma_unlock_write(vma->anon_vma);
}

/* VM_WARN_ON_ONCE(!pte_none(*new_ptep)): the destination was unmapped. */
static void check_new_pte_none(pte_t *new_ptep, unsigned long new_addr)
{
	pte_t pte = __ptep_get(new_ptep);

	if (unlikely(!pte_none(pte)) && ft_report_begin("VM_WARN_ON_ONCE")) {
		ft_report_msg("WARNING: mremap destination %#lx not empty: %#llx\n",
			      new_addr, (unsigned long long)pte_val(pte));
		ft_report_end();
	}
}

static int move_ptes(struct pagetable_move_control *pmc, unsigned long extent,
		     pmd_t *old_pmd, pmd_t *new_pmd)
{
	struct vm_area_struct *vma = pmc->old;
	struct mm_struct *mm = vma->vm_mm;
	unsigned long old_addr = pmc->old_addr, new_addr = pmc->new_addr;
	unsigned long old_end = old_addr + extent;
	spinlock_t *old_ptl, *new_ptl;
	pte_t *old_ptep, *new_ptep;
	bool force_flush = false;
	unsigned int nr;
	int err = 0;

	if (pmc->need_rmap_locks)
		take_rmap_locks(vma);
	old_ptep = pte_offset_map_lock(mm, old_pmd, old_addr, &old_ptl);
	if (!old_ptep) {
		err = -EAGAIN;
		goto out;
	}
	/* The new table is stable under the exclusive mmap_lock: no recheck. */
	new_ptep = pte_offset_map_nolock(mm, new_pmd, new_addr, &new_ptl);
	if (!new_ptep) {
		pte_unmap_unlock(old_ptep, old_ptl);
		err = -EAGAIN;
		goto out;
	}
	/* Either order over time; the exclusive mmap_lock rules out two. */
	if (new_ptl != old_ptl)
		spin_lock_nested_serialized(new_ptl, SINGLE_DEPTH_NESTING);
	for (; old_addr < old_end; old_ptep += nr, old_addr += nr * PAGE_SIZE,
				   new_ptep += nr, new_addr += nr * PAGE_SIZE) {
		unsigned int max_nr = (unsigned int)((old_end - old_addr) >> PAGE_SHIFT);
		pte_t old_pte = ptep_get(old_ptep), pte;

		nr = 1;
		check_new_pte_none(new_ptep, new_addr);
		if (pte_none(old_pte))
			continue;
		/* A present entry moved: flush the old range before either
		 * PTL goes (the old one against folio_mkclean(), the new one
		 * so the page stays until the old translation is gone). */
		if (pte_present(old_pte)) {
			nr = mremap_folio_pte_batch(vma, old_addr, old_ptep, old_pte,
						    max_nr);
			force_flush = true;
		}
		/* Non-present entries (migration, swap) move as they are. */
		pte = get_and_clear_full_ptes(mm, old_addr, old_ptep, nr, 0);
		set_ptes(mm, new_addr, new_ptep, pte, nr);
	}
	if (force_flush)
		flush_tlb_range(mm, pmc->old_addr, old_end);
	if (new_ptl != old_ptl)
		spin_unlock(new_ptl);
	pte_unmap_unlock(old_ptep - 1, old_ptl);
out:
	if (pmc->need_rmap_locks)
		drop_rmap_locks(vma);
	return err;
}

/* get_extent(NORMAL_PMD): up to the next table boundary of either side. */
static unsigned long get_extent(struct pagetable_move_control *pmc)
{
	unsigned long extent = pmd_addr_end(pmc->old_addr, pmc->old_end) - pmc->old_addr;

	return min(extent, ((pmc->new_addr + PMD_SIZE) & PMD_MASK) - pmc->new_addr);
}

/* How much of [old_addr, old_end) moved: all of it unless a table could
 * not be allocated. */
static unsigned long move_page_tables(struct pagetable_move_control *pmc)
{
	struct mm_struct *mm = pmc->old->vm_mm;
	unsigned long old_start = pmc->old_addr, extent;

	for (; pmc->old_addr < pmc->old_end; pmc->old_addr += extent,
					     pmc->new_addr += extent) {
		pmd_t *old_pmd = pmd_off(mm, pmc->old_addr);
		pmd_t *new_pmd = pmd_off(mm, pmc->new_addr);

		cond_resched();
		extent = get_extent(pmc);
		if (!pmdp_get_lockless(old_pmd))
			continue;
		if (pte_alloc(mm, new_pmd, pmc->new_addr))
			break;
		/* -EAGAIN: the old table went meanwhile, nothing to move. */
		move_ptes(pmc, extent, old_pmd, new_pmd);
	}
	return pmc->old_addr - old_start;
}

/*
 * copy_vma(): the new VMA for [@addr, @addr + @len) with @pgoff, linked to
 * @vma's anon_vmas.  The model merges no VMAs, so the new one is always
 * after @vma in rmap order and the PTE moves need no rmap locks.
 */
static struct vm_area_struct *copy_vma(struct vm_area_struct *vma, unsigned long addr,
				       unsigned long len, unsigned long pgoff)
{
	struct vm_area_struct *new = vma_alloc(vma->vm_mm);

	if (!new)
		return NULL;
	vma_set_range(new, addr, addr + len, pgoff, vma->vm_flags);
	WRITE_ONCE(new->anon_vma, vma->anon_vma);	/* vm_area_dup()'s copy */
	if (anon_vma_clone(new, vma))
		return NULL;
	vma_mark_attached(new);
	return new;
}

/*
 * SPF: speculative faults back off while either VMA's entries move.  Raw,
 * as the SPF series' move_vma() has it (vm_raw_write_begin()): two counts
 * of one class held at once, under the mmap_lock.
 */
static unsigned long move_page_tables_seq(struct pagetable_move_control *pmc)
{
	unsigned long moved;

	raw_write_seqcount_begin(&pmc->old->vm_seq);
	raw_write_seqcount_begin(&pmc->new->vm_seq);
	moved = move_page_tables(pmc);
	raw_write_seqcount_end(&pmc->new->vm_seq);
	raw_write_seqcount_end(&pmc->old->vm_seq);
	return moved;
}

/*
 * move_vma(): [@addr, @addr + @old_len) of @vma to @new_addr, the new VMA
 * @new_len long.  On a short move the entries go back and the new VMA is
 * unmapped instead of the old range (copy_vma_and_data()).
 */
static int move_vma(struct vm_area_struct *vma, unsigned long addr,
		    unsigned long old_len, unsigned long new_addr,
		    unsigned long new_len)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	struct pagetable_move_control pmc = {
		.old = vma, .old_addr = addr, .old_end = addr + old_len,
		.new_addr = new_addr,
	};
	unsigned long moved;

	vma_start_write(vma);		/* no racing faults */
	pmc.new = copy_vma(vma, new_addr, new_len, pgoff);
	if (!pmc.new)
		return -ENOMEM;
	moved = move_page_tables_seq(&pmc);
	if (moved < old_len) {
		struct pagetable_move_control back = {
			.old = pmc.new, .new = vma, .old_addr = new_addr,
			.old_end = new_addr + moved, .new_addr = addr,
			.need_rmap_locks = true,
		};

		move_page_tables_seq(&back);
		do_vmi_munmap(mm, new_addr, new_addr + new_len, false);
		return -ENOMEM;
	}
	/* unmap_source_vma(): nothing is mapped there any more. */
	return do_vmi_munmap(mm, addr, addr + old_len, false);
}

static bool ranges_overlap(unsigned long a, unsigned long alen, unsigned long b,
			   unsigned long blen)
{
	return a < b + blen && b < a + alen;
}

/* A piece moved: no translation of either range older than @since is
 * left (the flushes were done under the PTLs and by the unmaps). */
static void tlb_done_moved(struct mm_struct *mm, unsigned long addr,
			   unsigned long old_len, unsigned long new_addr,
			   unsigned long new_len, u64 since)
{
	ft_tlb_done(mm, addr, addr + old_len, FT_TLB_UNMAPPED, since);
	ft_tlb_done(mm, new_addr, new_addr + new_len, FT_TLB_UNMAPPED, since);
}

/*
 * remap_move(): every VMA in [@addr, @addr + @len) to the same offset from
 * @new_addr, each destination piece unmapped first; no gap at the start,
 * gaps after it kept (and whatever is mapped in them).  Caller holds the
 * mmap_lock for write.
 */
static int remap_move(struct mm_struct *mm, unsigned long addr, unsigned long len,
		      unsigned long new_addr, u64 since)
{
	unsigned long end = addr + len, pos = addr;

	if (!find_vma(mm, addr))
		return -EFAULT;
	while (pos < end) {
		struct vm_area_struct *all[MAX_VMAS], *vma = NULL;
		unsigned long piece;
		int n = mm_vmas_sorted(mm, all), ret;

		for (int i = 0; i < n && !vma; i++)
			if (all[i]->vm_end > pos && all[i]->vm_start < end)
				vma = all[i];
		if (!vma)
			break;
		pos = max(pos, vma->vm_start);
		piece = min(end, vma->vm_end) - pos;
		ret = do_vmi_munmap(mm, new_addr + (pos - addr),
				    new_addr + (pos - addr) + piece, false);
		if (!ret)
			ret = move_vma(find_vma(mm, pos), pos, piece,
				       new_addr + (pos - addr), piece);
		if (ret)
			return ret;
		tlb_done_moved(mm, pos, piece, new_addr + (pos - addr), piece, since);
		pos += piece;
	}
	return 0;
}

/* Grow [@addr, @addr + @old_len), the end of @vma, in place if free. */
static int expand_in_place(struct vm_area_struct *vma, unsigned long addr,
			   unsigned long old_len, unsigned long new_len)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long end = addr + new_len;
	struct vm_area_struct *all[MAX_VMAS];
	int n = mm_vmas_sorted(mm, all);

	if (addr + old_len != vma->vm_end || end > mm->task_size)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		if (ranges_overlap(all[i]->vm_start, all[i]->vm_end - all[i]->vm_start,
				   vma->vm_end, end - vma->vm_end))
			return -ENOMEM;
	vma_start_write(vma);
	if (vma->anon_vma)
		anon_vma_lock_write(vma->anon_vma);
	write_seqcount_begin(&vma->vm_seq);
	WRITE_ONCE(vma->vm_end, end);
	write_seqcount_end(&vma->vm_seq);
	if (vma->anon_vma)
		anon_vma_unlock_write(vma->anon_vma);
	return 0;
}

static int check_mremap_params(struct mm_struct *mm, unsigned long addr,
			       unsigned long old_len, unsigned long new_len,
			       unsigned long flags, unsigned long new_addr)
{
	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	/* old_len 0 duplicates a shared mapping; the model has none. */
	if ((addr | old_len | new_len) & (PAGE_SIZE - 1) || !old_len || !new_len)
		return -EINVAL;
	if (old_len > mm->task_size || addr > mm->task_size - old_len)
		return -EFAULT;
	if (!(flags & MREMAP_FIXED))
		return 0;
	if (new_addr & (PAGE_SIZE - 1) || new_len > mm->task_size ||
	    new_addr > mm->task_size - new_len ||
	    ranges_overlap(addr, old_len, new_addr, new_len))
		return -EINVAL;
	return 0;
}

/* mremap_to(): the destination unmapped, the source shrunk, then moved. */
static int mremap_to(struct mm_struct *mm, unsigned long addr, unsigned long old_len,
		     unsigned long new_len, unsigned long new_addr, u64 since)
{
	struct vm_area_struct *vma = find_vma(mm, addr);
	unsigned long len = min(old_len, new_len);
	int ret;

	if (old_len == new_len && (!vma || old_len > vma->vm_end - addr))
		return remap_move(mm, addr, old_len, new_addr, since);
	if (!vma || old_len > vma->vm_end - addr)
		return -EFAULT;
	ret = do_vmi_munmap(mm, new_addr, new_addr + new_len, false);
	if (!ret && old_len > new_len)
		ret = do_vmi_munmap(mm, addr + new_len, addr + old_len, false);
	if (!ret)
		ret = move_vma(find_vma(mm, addr), addr, len, new_addr, new_len);
	if (!ret)
		tlb_done_moved(mm, addr, old_len, new_addr, new_len, since);
	return ret;
}

int ft_mremap(struct mm_struct *mm, unsigned long addr, unsigned long old_len,
	      unsigned long new_len, unsigned long flags, unsigned long new_addr)
{
	struct vm_area_struct *vma;
	u64 since;
	int ret = check_mremap_params(mm, addr, old_len, new_len, flags, new_addr);

	if (ret)
		return ret;
	since = ft_tlb_call_begin(mm);
	mmap_write_lock(mm);
	if (flags & MREMAP_FIXED) {
		ret = mremap_to(mm, addr, old_len, new_len, new_addr, since);
		mmap_write_unlock(mm);
		return ret;
	}
	vma = find_vma(mm, addr);
	if (!vma || old_len > vma->vm_end - addr) {
		mmap_write_unlock(mm);
		return -EFAULT;
	}
	if (new_len < old_len) {
		/* shrink_vma(): munmap's own downgrade and unlock. */
		ret = do_vmi_munmap(mm, addr + new_len, addr + old_len, true);
		if (!ret)
			ft_tlb_done(mm, addr + new_len, addr + old_len,
				    FT_TLB_UNMAPPED, since);
		return ret;
	}
	if (new_len > old_len)
		ret = expand_in_place(vma, addr, old_len, new_len);
	mmap_write_unlock(mm);
	return ret;
}
