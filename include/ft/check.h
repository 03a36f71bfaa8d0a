/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Oracles that look at the whole machine.  ft_audit() is the
 * stop-the-world audit: with no operation in progress, it walks every page
 * table of the given mms and compares them with every folio they map
 * (rmap spec §8, pagetable spec §9):
 *   I2   each folio's mapcount (and per-page mapcounts, _nr_pages_mapped
 *        under PAGE_MAPCOUNT) equals the PTEs that map it;
 *   I1   refcount = mappings + pins (nothing else holds a reference at rest);
 *   I4, I6 the owner slots: no slot above its MM's mappings, both slots
 *        taken only with SHARED set;
 *   I7   no false negative: SHARED clear with mapcount >= 2 means one MM
 *        (only for a model whose caps claim FT_MC_NO_FALSE_NEGATIVE);
 *   I9   exactness: when the slots count every mapping, SHARED set means
 *        two MMs (only for a model claiming FT_MC_EXACT_TWO_MMS);
 *   I11  a writable anon PTE maps an AnonExclusive page, and such a page is
 *        mapped once;
 *   I4   every contpte block consistent;
 *   I10' rss counters equal the entries counted;
 *   every entry lies in a VMA; a present one maps an allocated folio (or
 *        the zero page), has no right its VMA lacks (no write without
 *        VM_WRITE, not valid in a PROT_NONE VMA), and the rmap reaches it
 *        from its folio's anon_vma (what Z14 breaks); an anon folio and the
 *        VMA mapping it both have an anon_vma (else fork skips the VMA);
 *   the deferred-split queue, under its lock: a sound list, as long as
 *        split_queue_len says, of live anon folios of order > 1, and no
 *        folio linked that is not on it (freed ones included).
 * Each broken rule is reported (ft_report); returns how many.
 */
#ifndef FT_CHECK_H
#define FT_CHECK_H

#include "ft/mm.h"

struct ft_audit_stats {
	u64 ptes;		/* present entries seen */
	u64 migration_entries;
	u64 folios;
	u64 cont_blocks;
};

int ft_audit(struct ft_world *w, struct mm_struct **mms, int nr_mms,
	     struct ft_audit_stats *stats);

/*
 * Shadow memory (COW isolation, DESIGN.md "Oracles"): per mm and word of
 * a page (FT_PAGE_WORDS each; a slot, idx = page * FT_PAGE_WORDS + word),
 * the value the mm must read back.  Values name their writer: the mm's tag
 * (a serial number, never reused, unlike mm ids) in the high 32 bits, the
 * slot and a per-slot write count below, so a foreign value says which mm
 * wrote it.
 *
 * Rules that keep the oracle exact while other operations run:
 *  - one access per (mm, slot) at a time: the worker claims the slot
 *    (a try-claim; a busy slot is skipped, never waited for); two workers
 *    may use the two words of one page at once;
 *  - a zap (MADV_DONTNEED, munmap, MAP_FIXED) of the page may turn the
 *    value into 0: reading 0 is allowed iff a zap of the page began after
 *    the last write was prepared or was in flight then; a zap that ends
 *    with nothing else going on makes 0 the only right value; while a zap
 *    overlaps an access, the value from before the zap (the first of
 *    overlapping zaps) or a later one is allowed too (a stale TLB entry
 *    reaches the old page until the zap's flush, while a fault may already
 *    have mapped and written a new one);
 *    after writes that raced a zap, any of them may be what is left (one
 *    through a translation the zap had not flushed yet into the page it
 *    takes away, an earlier one into the page a fault put in its place);
 *  - fork: writers that prepared a value before the fork began are waited
 *    for, so what the child inherits is exact, except in the slots the
 *    parent changed while it forked (a write, or the first read of a slot
 *    it had itself inherited as unknown): the child may or may not see
 *    those, so its first read there is taken as it comes (and exact
 *    afterwards).  The parent's own values stay exact: a write during a
 *    fork that the parent later misses is a lost write (bug zoo Z14);
 *  - dirty: a PTE written through stays dirty while it maps that page
 *    (checked after each write and before the next access).
 */
struct ft_shadow;

/* @nr_pages pages from @base: nr_pages * FT_PAGE_WORDS slots. */
struct ft_shadow *ft_shadow_alloc(u32 tag, unsigned long base, unsigned long nr_pages);
void ft_shadow_free(struct ft_shadow *sh);
u32 ft_shadow_tag(const struct ft_shadow *sh);
/* The user address of slot @idx. */
unsigned long ft_shadow_addr(const struct ft_shadow *sh, unsigned long idx);

/* Claim slot @idx for one access; false if another worker has it. */
bool ft_shadow_claim(struct ft_shadow *sh, unsigned long idx);
void ft_shadow_release(struct ft_shadow *sh, unsigned long idx);

/* A write in preparation, between ft_shadow_write_begin() and _end(). */
struct ft_shadow_write {
	unsigned long value;	/* what to store */
	u64 zap_started;	/* the slot's zap count when prepared */
	bool zap_inflight;
	bool during_fork;	/* the mm was forking: not waited for */
};

void ft_shadow_write_begin(struct ft_shadow *sh, unsigned long idx,
			   struct ft_shadow_write *wr);
/* @done: the access stored the value (not SIGSEGV or OOM). */
void ft_shadow_write_end(struct ft_shadow *sh, unsigned long idx,
			 const struct ft_shadow_write *wr, bool done);

/* Is @value what a read of slot @idx may return?  Reports if not. */
bool ft_shadow_check_read(struct ft_shadow *sh, unsigned long idx,
			  unsigned long value, struct mm_struct *mm);

/* Around a zap of pages [first, first + nr); _end() takes _begin()'s token
 * and whether the zap was done (munmap can fail before zapping). */
u64 ft_shadow_zap_begin(struct ft_shadow *sh, unsigned long first, unsigned long nr);
void ft_shadow_zap_end(struct ft_shadow *sh, unsigned long first, unsigned long nr,
		       u64 token, bool zapped);

/* With the claim: after the write @wr worked, and before any access. */
void ft_shadow_note_write(struct ft_shadow *sh, unsigned long idx,
			  const struct ft_shadow_write *wr, struct mm_struct *mm);
void ft_shadow_check_dirty(struct ft_shadow *sh, unsigned long idx, struct mm_struct *mm);
/* With the claim: the page was replaced by a clean copy (an unshare). */
void ft_shadow_forget_dirty(struct ft_shadow *sh, unsigned long idx);

/*
 * Around ft_fork() of the parent; _copy() fills the child's before _end(),
 * claiming each of the parent's slots in turn (the caller holds none).
 */
void ft_shadow_fork_begin(struct ft_shadow *parent, struct ft_shadow *child);
void ft_shadow_fork_copy(struct ft_shadow *child, struct ft_shadow *parent);
void ft_shadow_fork_end(struct ft_shadow *parent);

#endif /* FT_CHECK_H */
