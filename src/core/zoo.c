// SPDX-License-Identifier: GPL-2.0-only
/*
 * The injection registry (include/ft/zoo.h): each with the oracles that
 * must catch it, by the name their reports give.
 */
#include <errno.h>
#include <string.h>

#include "ft/zoo.h"

const struct ft_injection ft_injections[FT_NR_INJECTIONS] = {
	[FT_INJ_MAPCOUNT_UNLOCKED] = {
		"mapcount-unlocked", "H1",
		"large mapcount and owner slots updated without the bit lock",
		{ "owner slots" },
	},
	[FT_INJ_SHARED_CLEARED_EARLY] = {
		"shared-bit-cleared-early", "H2",
		"SHARED cleared on a sub that leaves the MM's slot mapped, "
		"without the equality check",
		{ "owner slots" },
	},
	[FT_INJ_CONT_COPIED_TO_CHILD] = {
		"cont-copied-to-child", "Z15",
		"set_ptes keeps a CONT bit from its template instead of letting "
		"the contpte layer decide",
		{ "contpte block" },
	},
	[FT_INJ_WRPROTECT_PARTIAL_NO_UNFOLD] = {
		"wrprotect-partial-no-unfold", "Z16",
		"wrprotect_ptes of part of a CONT block without unfolding it",
		{ "contpte block" },
	},
	[FT_INJ_PTE_RMW_NOT_ATOMIC] = {
		"pte-rmw-not-atomic", "Z10",
		"read-modify-write of a live PTE as a load and a store, losing "
		"hardware a/d",
		{ "dirty bit" },
	},
	[FT_INJ_CONVERT_DROPS_AD] = {
		"convert-drops-ad", "Z18",
		"contpte_convert reads the entries instead of clearing them, so a "
		"racing a/d update is lost",
		{ "dirty bit" },
	},
	[FT_INJ_LOCKLESS_NO_RETRY] = {
		"lockless-read-no-retry", "Z19",
		"ptep_get_lockless ORs the block's a/d without checking that the "
		"block stayed consistent",
		{ "dirty bit" },
	},
	[FT_INJ_BATCHZAP_S390] = {
		"batchzap-s390", "Z1",
		"zap hands a batch's references to the gather (NO_GATHER frees at "
		"once) before removing its rmap",
		{ "bad page state" },
	},
	[FT_INJ_FORK_MAP_BEFORE_REF] = {
		"fork-map-before-ref", "Z2",
		"fork raises the mapcount of a batch before its references",
		{ "owner slots", "rmap_id" },
	},
	[FT_INJ_BATCH_PAST_FOLIO] = {
		"batch-past-folio", "Z3/B3",
		"folio_pte_batch without the folio-end clamp; the advanced PTE "
		"past the folio is none (XEN PV)",
		/* An rmap batch past the folio trips the sanity check.  The
		 * batches with no rmap call show it later: mremap's maps the
		 * pages past the folio at the destination uncounted (their
		 * folio's slots), MADV_FREE's cleans the empty entries after it
		 * into garbage (a bad swap entry at the next fault). */
		{ "VM_WARN_ON_FOLIO", "owner slots", "bad swap entry" },
	},
	[FT_INJ_BATCH_OVER_HOLE] = {
		"batch-over-hole", "review",
		"fork sizes a batch from the folio instead of scanning the PTEs, "
		"copying across a none PTE (write-protected into a bad swap "
		"entry) and giving every entry the first one's dirty bit",
		{ "shadow memory", "bad page state", "VM_WARN_ON_FOLIO", "dirty bit",
		  "bad swap entry" },
	},
	[FT_INJ_EBUSY_NO_REF_ROLLBACK] = {
		"ebusy-no-ref-rollback", "Z24/H3",
		"fork keeps a batch's references when the dup fails with -EBUSY",
		{ "audit" },
	},
	[FT_INJ_DUP_WITH_PARENT_MM_ID] = {
		"dup-with-parent-mm-id", "B11",
		"fork accounts the child's mappings to the parent's mm id",
		{ "owner slots", "bad page state", "audit", "shadow memory" },
	},
	[FT_INJ_MPROTECT_WRITE_MERGE] = {
		"mprotect-write-merge", "B12/Z7",
		"mprotect batches ignore the write bit and count AnonExclusive "
		"runs from the folio's first page, not the batch's",
		{ "shadow memory", "VM_WARN_ON_FOLIO", "audit" },
	},
	[FT_INJ_FORK_NO_VMA_LOCK] = {
		"fork-no-vma-lock", "Z14",
		"dup_mmap does not write-lock the parent's VMAs: per-VMA-locked "
		"faults run during fork (v6.4)",
		{ "shadow memory" },
	},
	[FT_INJ_BREAK_INSIDE_BATCH] = {
		"break-inside-batch", "Z22",
		"fork's progress break taken inside a batch, after the whole "
		"batch's references and mapcounts",
		{ "owner slots", "audit", "VM_WARN_ON_FOLIO" },
	},
	[FT_INJ_REUSE_CHECKS_BEFORE_LOCK] = {
		"reuse-checks-before-lock", "B2",
		"large-folio COW reuse runs its sanity checks before mapcount and "
		"refcount are stable",
		{ "owner slots" },
	},
	[FT_INJ_MADV_FLUSH_MISS] = {
		"madv-flush-miss", "Z25",
		"tlb_finish_mmu without the nested-gather flush: a second MADV_DONTNEED "
		"or MADV_FREE that finds the entries already changed returns before "
		"the first one's flush",
		{ "tlb" },
	},
	[FT_INJ_GUP_FAST_FORK_RACE] = {
		"gup-fast-fork-race", "G2",
		"GUP-fast without the write_protect_seq check (before 57efa1fe5957): "
		"a pin taken while fork shares the page with the child",
		{ "pin coherence", "shadow memory" },
	},
	[FT_INJ_REUSE_WARN_REVERSED] = {
		"reuse-warn-reversed", "B1",
		"large-folio COW reuse warns when the mapcount is below the refcount "
		"under the lock, a normal state with a swap cache or reclaim reference",
		{ "owner slots" },
	},
	[FT_INJ_LAZYFREE_BATCH_CROSSES_TABLE] = {
		"lazyfree-batch-crosses-table", "B4",
		"reclaim's batched lazyfree unmap sized from the folio, not bounded by "
		"the page table or the VMA",
		{ "VM_WARN_ON_FOLIO" },
	},
	[FT_INJ_LAZYFREE_NO_REF_CHECK] = {
		"lazyfree-no-ref-check", "B13",
		"reclaim discards a clean lazyfree folio without comparing its "
		"refcount with its mapcount (before 6c8e2a256915): a page pinned for "
		"DMA is unmapped under the pin",
		{ "pin coherence", "shadow memory" },
	},
	[FT_INJ_GUP_FAST_PIN_NO_BARRIER] = {
		"gup-fast-pin-no-barrier", "G3",
		"GUP-fast pins a large folio without smp_mb__after_atomic() before "
		"re-reading the PTE, and the PageAnonExclusive clearing side trusts "
		"the TLB flush (before 088b8aa537c2): migration sees no pin, shares "
		"a page RCU GUP-fast keeps pinned.  Shows only in serial runs, through "
		"a delayed store: on x86 the pin is a locked RMW, never reordered",
		{ "pin coherence" },
	},
	[FT_INJ_MREMAP_BATCH_IGNORES_WRITE] = {
		"mremap-batch-ignores-write", "Z8",
		"mremap's PTE batch ignores the write bit (flags 0, before "
		"04d1c9d60c6e), so set_ptes gives the first entry's write bit to "
		"read-only COW-shared entries of the folio",
		{ "audit" },
	},
	[FT_INJ_FORK_DIRTY_BEFORE_WRPROTECT] = {
		"fork-dirty-before-wrprotect", "Z26",
		"fork gives the child the dirty bit it read before write-protecting "
		"the parent, as v6.18 does: a first write racing fork leaves the child "
		"clean, the parent's COW or exit drops the only dirty entry, and "
		"reclaim frees the page without writing it (a stale swap copy, or a "
		"discarded lazyfree page)",
		{ "shadow memory" },
	},
	[FT_INJ_LAZYFREE_RESTORE_IGNORES_WRITE] = {
		"lazyfree-restore-ignores-write", "B14",
		"reclaim's lazyfree batch ignores the write bit (354dffd29575 to "
		"29f40594a281), so a failed discard sets the whole batch back from "
		"its first entry: read-only entries of pages that are not "
		"AnonExclusive come back writable",
		{ "audit", "pin coherence", "shadow memory", "VM_WARN_ON_FOLIO" },
	},
	[FT_INJ_SEQCOUNT_EXCLUSIVE_IGNORES_SHARED] = {
		"seqcount-exclusive-ignores-shared", "H4",
		"the rmap_id model's atomic seqcount lets a writer go exclusive when "
		"only shared writers are active, testing the exclusive bit alone: "
		"its plain updates of the total mapcount and rmap values lose theirs",
		{ "bad page state", "audit", "rmap_id" },
	},
	[FT_INJ_RMAP_VAL_EXCLUSIVE_NO_COUNT] = {
		"rmap-val-exclusive-no-count", "B15",
		"the rmap_id model's exclusive writer adds an order-2 folio's sub-ID "
		"once whatever the number of pages (the posted series' patch 17), so "
		"the value no longer says which MM maps the folio",
		{ "bad page state", "audit" },
	},
};

unsigned long ft_injected_mask;

bool ft_injection_caught_by(const struct ft_injection *inj, const char *oracle)
{
	for (int i = 0; inj->caught_by[i]; i++)
		if (!strcmp(inj->caught_by[i], oracle))
			return true;
	return false;
}

/*
 * Beside the table: most injections are in no model's code.  B1 and B2
 * are in the COW reuse the two owner-slot models share (owner_slots.h).
 */
static const char *const injection_models[FT_NR_INJECTIONS] = {
	[FT_INJ_MAPCOUNT_UNLOCKED] = "owner_slots",
	[FT_INJ_SHARED_CLEARED_EARLY] = "owner_slots",
	[FT_INJ_REUSE_CHECKS_BEFORE_LOCK] = "owner_slots,owner_slots_v1",
	[FT_INJ_REUSE_WARN_REVERSED] = "owner_slots,owner_slots_v1",
	[FT_INJ_SEQCOUNT_EXCLUSIVE_IGNORES_SHARED] = "rmap_id",
	[FT_INJ_RMAP_VAL_EXCLUSIVE_NO_COUNT] = "rmap_id",
};

const char *ft_injection_models(const struct ft_injection *inj)
{
	return injection_models[inj - ft_injections];
}

bool ft_injection_in_model(const struct ft_injection *inj, const char *model, size_t len)
{
	const char *list = ft_injection_models(inj);

	while (list) {
		size_t n = strcspn(list, ",");

		if (n == len && !strncmp(list, model, len))
			return true;
		list = list[n] ? list + n + 1 : NULL;
	}
	return !ft_injection_models(inj);
}

const struct ft_injection *ft_injection_find(const char *name)
{
	for (int i = 0; i < FT_NR_INJECTIONS; i++)
		if (!strcmp(ft_injections[i].name, name))
			return &ft_injections[i];
	return NULL;
}

int ft_inject_enable(const char *name)
{
	const struct ft_injection *inj = ft_injection_find(name);

	if (!inj)
		return -EINVAL;
	WRITE_ONCE(ft_injected_mask, ft_injected_mask | BIT(inj - ft_injections));
	return 0;
}

void ft_inject_clear(void)
{
	WRITE_ONCE(ft_injected_mask, 0UL);
}
