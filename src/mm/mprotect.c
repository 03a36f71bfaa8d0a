// SPDX-License-Identifier: GPL-2.0-only
/*
 * mprotect (mm/mprotect.c, batched since ~v6.17): change_pte_range()
 * batches a folio's PTEs respecting write and soft-dirty, and a write
 * upgrade of a private mapping makes writable only the runs of
 * AnonExclusive pages, counted from the batch's own first page.
 */
#include <errno.h>

#include "internal.h"

static void prot_commit_flush_ptes(struct mmu_gather *tlb,
				   struct vm_area_struct *vma, unsigned long addr,
				   pte_t *ptep, pte_t oldpte, pte_t ptent,
				   unsigned int nr, unsigned int idx, bool set_write)
{
	ptent = pte_advance_pfn(ptent, idx);
	if (set_write)
		ptent = pte_mkwrite_novma(ptent);
	modify_prot_commit_ptes(vma, addr + idx * PAGE_SIZE, ptep + idx, oldpte,
				ptent, nr);
	tlb_remove_tlb_entries(tlb, ptep + idx, nr, addr + idx * PAGE_SIZE);
}

/*
 * A private mapping becoming writable: split the batch into runs of equal
 * AnonExclusive, counted from the batch's own first page (Z7: not the
 * folio's), and make only the exclusive runs writable, as the write fault
 * would (can_change_private_pte_writable()).
 */
static void set_write_prot_commit_flush_ptes(struct mmu_gather *tlb,
					     struct vm_area_struct *vma,
					     unsigned long addr, pte_t *ptep,
					     pte_t oldpte, pte_t ptent,
					     unsigned int nr)
{
	struct page *first = vm_normal_page(vma, addr, ptent);
	unsigned int idx = 0;

	if (!first || !folio_test_anon(page_folio(first)) ||
	    (vma->vm_flags & VM_SHARED)) {
		prot_commit_flush_ptes(tlb, vma, addr, ptep, oldpte, ptent, nr, 0, false);
		return;
	}
	/* Z7: v5 6/7 counted from the folio's head, wrong mid-folio. */
	if (ft_injected(FT_INJ_MPROTECT_WRITE_MERGE))
		first = page_folio(first)->page;
	while (idx < nr) {
		bool exclusive = PageAnonExclusive(first + idx);
		unsigned int len = 1;

		while (idx + len < nr && PageAnonExclusive(first + idx + len) == exclusive)
			len++;
		prot_commit_flush_ptes(tlb, vma, addr, ptep, oldpte, ptent, len, idx,
				       exclusive);
		idx += len;
	}
}

/* B12: before FPB_RESPECT_WRITE the batch merged the write bit. */
static unsigned int mprotect_batch_flags(void)
{
	if (ft_injected(FT_INJ_MPROTECT_WRITE_MERGE))
		return FPB_RESPECT_SOFT_DIRTY | FPB_MERGE_WRITE;
	return FPB_RESPECT_SOFT_DIRTY | FPB_RESPECT_WRITE;
}

static long change_pte_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
			     pmd_t *pmd, unsigned long addr, unsigned long end,
			     pgprot_t newprot, unsigned long cp_flags)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	long pages = 0;

	if (!pte)
		return 0;
	do {
		unsigned int nr = 1;
		pte_t oldpte = ptep_get(pte), ptent;

		if (pte_present(oldpte)) {
			struct folio *folio = vm_normal_folio(vma, addr, oldpte);
			unsigned int max_nr = (unsigned int)((end - addr) >> PAGE_SHIFT);

			if (folio && folio_test_large(folio) && max_nr > 1)
				nr = folio_pte_batch_flags(folio, pte, &oldpte, max_nr,
							   mprotect_batch_flags());
			oldpte = modify_prot_start_ptes(vma, addr, pte, nr);
			ptent = pte_modify(oldpte, newprot);
			if ((cp_flags & MM_CP_TRY_CHANGE_WRITABLE) && !pte_write(ptent))
				set_write_prot_commit_flush_ptes(tlb, vma, addr, pte,
								 oldpte, ptent, nr);
			else
				prot_commit_flush_ptes(tlb, vma, addr, pte, oldpte,
						       ptent, nr, 0, false);
			pages += nr;
		} else if (is_writable_migration_entry(oldpte)) {
			/* Hard to check the new protection: just drop write. */
			set_pte_at(mm, addr, pte,
				   make_migration_pte(pte_pfn(oldpte),
						      SWP_MIGRATION_READ_EXCLUSIVE, oldpte));
			pages++;
		}
		pte += nr;
		addr += nr * PAGE_SIZE;
	} while (addr != end);
	pte_unmap_unlock(pte, ptl);
	return pages;
}

long change_protection(struct mmu_gather *tlb, struct vm_area_struct *vma,
		       unsigned long start, unsigned long end,
		       unsigned long cp_flags)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long addr, next;
	long pages = 0;

	vma_assert_write_locked(vma);
	for (addr = start; addr < end; addr = next) {
		next = pmd_addr_end(addr, end);
		pages += change_pte_range(tlb, vma, pmd_off(mm, addr), addr, next,
					  vma->vm_page_prot, cp_flags);
	}
	return pages;
}

/*
 * mprotect(2) (mm/mprotect.c do_mprotect_pkey(), mprotect_fixup()):
 * mmap_lock for write, each VMA split and write-locked, its flags changed,
 * its PTEs changed; the TLB flush before the mmap_lock is released.
 */
int ft_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len,
		unsigned long vm_flags)
{
	unsigned long end = start + len;
	struct vm_area_struct *vmas[MAX_VMAS];
	struct mmu_gather tlb;
	u64 since;
	int n;

	if (!len || (start | len) & (PAGE_SIZE - 1) || end > mm->task_size ||
	    end < start || (vm_flags & ~(VM_READ | VM_WRITE)))
		return -EINVAL;
	since = ft_tlb_call_begin(mm);
	mmap_write_lock(mm);
	n = vma_split_range(mm, start, end, vmas);
	if (n < 0) {
		mmap_write_unlock(mm);
		return n;
	}
	tlb_gather_mmu(&tlb, mm);
	for (int i = 0; i < n; i++) {
		struct vm_area_struct *vma = vmas[i];

		vma_start_write(vma);
		write_seqcount_begin(&vma->vm_seq);
		WRITE_ONCE(vma->vm_flags, vm_flags | VM_MAYREAD | VM_MAYWRITE);
		WRITE_ONCE(vma->vm_page_prot.pgprot, pgprot_val(vm_get_page_prot(vm_flags)));
		write_seqcount_end(&vma->vm_seq);
		change_protection(&tlb, vma, vma->vm_start, vma->vm_end,
				  (vm_flags & VM_WRITE) ? MM_CP_TRY_CHANGE_WRITABLE : 0);
	}
	tlb_finish_mmu(&tlb);
	mmap_write_unlock(mm);
	if (!(vm_flags & VM_WRITE))
		ft_tlb_done(mm, start, end, FT_TLB_WRPROTECTED, since);
	return 0;
}
