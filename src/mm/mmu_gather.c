// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mmu_gather (mm/mmu_gather.c): zapped pages' references wait here
 * until the TLB flush, so no CPU can reach a page through a stale
 * translation after its last reference is gone.
 *
 * FT-DEVIATION: one batch of world->gather_capacity entries (a page and a
 * count each) instead of a chain of page-sized batches; "full" is what
 * matters, and a small capacity makes it frequent.  NO_GATHER (s390) frees
 * at once, after a synchronous flush, as s390 does when it clears a PTE.
 */
#include <stdlib.h>

#include "internal.h"

#define TLB_LOCAL_ENTRIES	8	/* the kernel's on-stack batch */

/* A page of entries, as the kernel's mmu_gather_batch: from a per-thread
 * cache, as its batch pages come from the per-CPU page lists.  A larger
 * --gather-size takes its batch from malloc. */
#define TLB_BATCH_ENTRIES	(PAGE_SIZE / sizeof(struct mmu_gather_entry))

struct tlb_batch {
	struct mmu_gather_entry entries[TLB_BATCH_ENTRIES];
};

static struct kmem_cache tlb_batch_cache =
	KMEM_CACHE_INIT("mmu_gather_batch", struct tlb_batch, 0);

static struct mmu_gather_entry *tlb_entries(unsigned int capacity)
{
	struct tlb_batch *b;

	if (capacity > TLB_BATCH_ENTRIES)
		return malloc(capacity * sizeof(struct mmu_gather_entry));
	b = kmem_cache_alloc(&tlb_batch_cache);
	return b ? b->entries : NULL;
}

static void tlb_entries_free(struct mmu_gather_entry *entries, unsigned int capacity)
{
	if (capacity > TLB_BATCH_ENTRIES)
		free(entries);
	else
		kmem_cache_free(&tlb_batch_cache,
				container_of(entries, struct tlb_batch, entries[0]));
}

static void __tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm,
			     bool fullmm)
{
	tlb->mm = mm;
	tlb->fullmm = fullmm;
	tlb->delayed_rmap = false;
	tlb->start = ~0UL;
	tlb->end = 0;
	tlb->nr = 0;
	inc_tlb_flush_pending(mm);
	tlb->capacity = ft_gather_capacity(max(mm->world->gather_capacity, 1U));
	tlb->entries = tlb_entries(tlb->capacity);
	if (!tlb->entries) {
		/* GFP_NOWAIT failed: make do with the small local batch. */
		tlb->capacity = min(tlb->capacity, TLB_LOCAL_ENTRIES);
		tlb->entries = tlb->local;
	}
}

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm)
{
	__tlb_gather_mmu(tlb, mm, false);
}

void tlb_gather_mmu_fullmm(struct mmu_gather *tlb, struct mm_struct *mm)
{
	__tlb_gather_mmu(tlb, mm, true);
}

void tlb_remove_tlb_entries(struct mmu_gather *tlb, pte_t *ptep,
			    unsigned int nr, unsigned long addr)
{
	(void)ptep;
	tlb->start = min(tlb->start, addr);
	tlb->end = max(tlb->end, addr + nr * PAGE_SIZE);
}

void tlb_flush_mmu_tlbonly(struct mmu_gather *tlb)
{
	if (tlb->start >= tlb->end)
		return;
	flush_tlb_range(tlb->mm, tlb->start, tlb->end);
	tlb->start = ~0UL;
	tlb->end = 0;
}

/* Delayed rmap removal: after the TLB flush, still under the PTL. */
void tlb_flush_rmaps(struct mmu_gather *tlb, struct vm_area_struct *vma)
{
	if (!tlb->delayed_rmap)
		return;
	for (unsigned int i = 0; i < tlb->nr; i++) {
		struct mmu_gather_entry *e = &tlb->entries[i];

		if (!e->delay_rmap)
			continue;
		folio_remove_rmap_ptes(page_folio(e->page), e->page, (int)e->nr, vma);
		e->delay_rmap = false;
	}
	tlb->delayed_rmap = false;
}

/* free_pages_and_swap_cache() -> folios_put_refs(): after the flush. */
static void tlb_batch_pages_flush(struct mmu_gather *tlb)
{
	for (unsigned int i = 0; i < tlb->nr; i++) {
		struct folio *folio = page_folio(tlb->entries[i].page);

		free_swap_cache(folio);
		folio_put_refs(folio, (int)tlb->entries[i].nr);
	}
	tlb->nr = 0;
}

void tlb_flush_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu_tlbonly(tlb);
	tlb_batch_pages_flush(tlb);
}

bool __tlb_remove_folio_pages(struct mmu_gather *tlb, struct page *page,
			      unsigned int nr, bool delay_rmap)
{
	if (tlb->mm->world->no_gather) {
		/* s390: the TLB is flushed synchronously; free right away. */
		tlb_flush_mmu_tlbonly(tlb);
		folio_put_refs(page_folio(page), (int)nr);
		return false;
	}
	tlb->entries[tlb->nr++] = (struct mmu_gather_entry){ page, nr, delay_rmap };
	if (delay_rmap)
		tlb->delayed_rmap = true;
	return tlb->nr >= tlb->capacity;
}

/*
 * Another gather of this mm at the same time (two MADV_DONTNEED or
 * MADV_FREE callers under the read locks) may have changed entries that we
 * then found none or clean and left out of our range: its flush may still
 * be pending when we return.  Flush the whole mm, as upstream does since
 * 99baac21e458 ("mm: fix MADV_[FREE|DONTNEED] TLB flush miss problem"):
 * the bug zoo's madv-flush-miss is the code before it.
 */
void tlb_finish_mmu(struct mmu_gather *tlb)
{
	if (mm_tlb_flush_nested(tlb->mm) && !ft_injected(FT_INJ_MADV_FLUSH_MISS)) {
		tlb->fullmm = true;
		tlb->start = 0;
		tlb->end = tlb->mm->task_size;
	}
	tlb_flush_mmu(tlb);
	if (tlb->entries != tlb->local)
		tlb_entries_free(tlb->entries, tlb->capacity);
	dec_tlb_flush_pending(tlb->mm);
}
