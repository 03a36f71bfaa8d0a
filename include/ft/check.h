/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Oracles that look at the whole machine.  ft_audit() is the
 * stop-the-world audit: with no operation in progress, it walks every page
 * table of the given mms and compares them with every folio they map (the
 * ids are doc/invariants.md's):
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
 *   T4   every contpte block consistent;
 *   T10  rss counters equal the entries counted;
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
#include "ft/pgtable.h"

struct ft_audit_stats {
	u64 ptes;		/* present entries seen */
	u64 migration_entries;
	u64 folios;
	u64 cont_blocks;
	/* The model's "maybe mapped shared" against the tables, for large
	 * folios mapped at least twice: the truth --compare-models reports. */
	u64 shared_checked;
	u64 false_positives;	/* said shared, one MM maps it */
	u64 false_negatives;	/* said exclusive, several MMs map it */
};

int ft_audit(struct ft_world *w, struct mm_struct **mms, int nr_mms,
	     struct ft_audit_stats *stats);

/*
 * Shadow memory (COW isolation): per mm and word of a page (FT_PAGE_WORDS
 * each; a slot, idx = page * FT_PAGE_WORDS + word), the values the mm may
 * read back.  Values name their writer: the mm's tag (a serial number,
 * never reused, unlike mm ids) in the high 32 bits, the slot and a
 * per-slot write count below, so a foreign value says which mm wrote it.
 *
 * The rules (src/check/shadow.c has the argument for each):
 *  - one access per (mm, slot) at a time: the worker claims the slot
 *    (a try-claim; a busy slot is skipped, never waited for); two workers
 *    may use the two words of one page at once;
 *  - a read returns the last write, exactly;
 *  - or zero, if a zap (munmap, MADV_DONTNEED, MAP_FIXED) of the page began
 *    after the last write was prepared or was in flight then; a zap that
 *    ends with nothing else going on makes zero the only value;
 *  - fork: the child reads what the parent held when the fork began, or a
 *    write the parent made while its page tables were being copied (up to
 *    the count when ft_fork() returned), or zero if a zap overlapped that;
 *    anything else, another mm's value above all, is a COW-isolation
 *    failure.  The parent's own values stay exact;
 *  - with --tlb, and only for an access through a stale translation (its
 *    page already unmapped, not yet flushed: ft_hw_stale_translation()):
 *    a write may be lost, so the value before it stays possible; a read
 *    may see what the slot held when the zaps in flight began, or an own
 *    write made since.  The TLB oracle ends both at the zap's flush;
 *  - MADV_FREE changes no value; it ends the dirty rule, and a page it
 *    cleaned may read zero once reclaim discarded it (ft_shadow_discard(),
 *    the discard seen under the PTL); a page written since may not;
 *  - mremap moves a range's values (and dirty expectation) to where it
 *    moved the entries; the old range reads as unmapped, then zero;
 *  - dirty: a PTE written through stays dirty while it maps that page and
 *    no zap or MADV_FREE of it has begun (checked after each write and
 *    before the next access), in the parent and in a child that fork gave
 *    the same entry.
 * A slot whose history outgrows its set is widened to any write of it
 * (ft_shadow_widened() counts them; the run's summary shows a nonzero count).
 */
struct ft_shadow;

/* @nr_pages pages from @base: nr_pages * FT_PAGE_WORDS slots; @tlb: the
 * CPUs cache translations (stale accesses need more state). */
struct ft_shadow *ft_shadow_alloc(u32 tag, unsigned long base, unsigned long nr_pages,
				  bool tlb);
void ft_shadow_free(struct ft_shadow *sh);
u32 ft_shadow_tag(const struct ft_shadow *sh);
/* The user address of slot @idx. */
unsigned long ft_shadow_addr(const struct ft_shadow *sh, unsigned long idx);
/* Slots, of every shadow, whose value set had to be widened. */
u64 ft_shadow_widened(void);

/* Claim slot @idx for one access; false if another worker has it. */
bool ft_shadow_claim(struct ft_shadow *sh, unsigned long idx);
void ft_shadow_release(struct ft_shadow *sh, unsigned long idx);

/* A write in preparation, between ft_shadow_write_begin() and _end(). */
struct ft_shadow_write {
	unsigned long value;	/* what to store */
	u64 zap_started;	/* the slot's zap count when prepared */
	bool zap_inflight;
	u64 clean_started;	/* and its MADV_FREE count */
	bool clean_inflight;
	u64 discards;		/* and its reclaim discard count */
	u64 swapouts;		/* and its swap-out count */
};

void ft_shadow_write_begin(struct ft_shadow *sh, unsigned long idx,
			   struct ft_shadow_write *wr);
/* @done: the access stored the value (not SIGSEGV or OOM); @stale: through
 * a stale translation (ft_hw_stale_translation()). */
void ft_shadow_write_end(struct ft_shadow *sh, unsigned long idx,
			 const struct ft_shadow_write *wr, bool done, bool stale);

/* Is @value what a read of slot @idx may return?  Reports if not. */
bool ft_shadow_check_read(struct ft_shadow *sh, unsigned long idx,
			  unsigned long value, bool stale, struct mm_struct *mm);

/* Around a zap of pages [first, first + nr); @zapped: it was done (munmap
 * and madvise can fail before zapping). */
void ft_shadow_zap_begin(struct ft_shadow *sh, unsigned long first, unsigned long nr);
void ft_shadow_zap_end(struct ft_shadow *sh, unsigned long first, unsigned long nr,
		       bool zapped);
/* Reclaim discarded a clean lazyfree folio's mapping of [first, first + nr):
 * a read may return zero if MADV_FREE began after the slot's last write. */
void ft_shadow_discard(struct ft_shadow *sh, unsigned long first, unsigned long nr);
/* Reclaim made [first, first + nr) swap entries: their dirty state moved
 * to the folio, the dirty rule ends (a swap-in maps the page clean). */
void ft_shadow_swapout(struct ft_shadow *sh, unsigned long first, unsigned long nr);
/* Around a MADV_FREE of pages [first, first + nr). */
void ft_shadow_clean_begin(struct ft_shadow *sh, unsigned long first, unsigned long nr);
void ft_shadow_clean_end(struct ft_shadow *sh, unsigned long first, unsigned long nr);

/* With the claim: after the write @wr worked, and before any access. */
void ft_shadow_note_write(struct ft_shadow *sh, unsigned long idx,
			  const struct ft_shadow_write *wr, struct mm_struct *mm);
void ft_shadow_check_dirty(struct ft_shadow *sh, unsigned long idx, struct mm_struct *mm);
/* With the claim: the page was replaced by a clean copy (an unshare). */
void ft_shadow_forget_dirty(struct ft_shadow *sh, unsigned long idx);

/*
 * fork: _begin() before ft_fork() of the parent (@mm) takes each of the
 * parent's slots under its claim (the caller holds none); _copy() right
 * after ft_fork() returned adds what the parent wrote or zapped meanwhile.
 */
void ft_shadow_fork_begin(struct ft_shadow *parent, struct ft_shadow *child,
			  struct mm_struct *mm);
void ft_shadow_fork_copy(struct ft_shadow *child, struct ft_shadow *parent);

/*
 * mremap of pages [@from, @from + @nr) to [@to, @to + @nr) of one mm (the
 * MREMAP_FIXED move): _begin() before ft_mremap() counts the unmap of the
 * destination as a zap and claims every slot of both ranges, waiting for
 * them (the caller holds none, and must keep fork of this mm out until
 * _end()); _end() after it, with ft_mremap()'s @result: 0, each
 * destination slot holds what its source held (the values, a zap's zero,
 * the dirty expectation, as move_ptes() carries the entry), and the source
 * is zero (unmapped); -EFAULT or -EINVAL, nothing changed; another error
 * may have moved some pieces, so both are widened to anything (counted).
 * @gap: per source page, true if no VMA covers it (the caller keeps the
 * layout stable): remap_move() neither moves it nor unmaps its
 * destination, so both keep their values.  NULL from _begin(): bad ranges
 * or -ENOMEM, nothing claimed.
 */
struct ft_shadow_move;
struct ft_shadow_move *ft_shadow_move_begin(struct ft_shadow *sh, unsigned long from,
					    unsigned long to, unsigned long nr,
					    const bool *gap);
void ft_shadow_move_end(struct ft_shadow *sh, struct ft_shadow_move *m, int result);

/*
 * The pin oracle (G1): @page was FOLL_PIN'ed at @addr of @mm while
 * exclusive.  As long as the process has not unmapped or replaced that
 * range since (the caller knows, and must still know it after this look:
 * a zap may begin meanwhile), @mm maps @page there, AnonExclusive.
 * ft_pin_coherent() looks under the PTL (@seen: the entry it found);
 * ft_pin_report() reports a failure ("pin coherence").
 */
bool ft_pin_coherent(struct mm_struct *mm, unsigned long addr, struct page *page,
		     pte_t *seen);
void ft_pin_report(struct mm_struct *mm, unsigned long addr, struct page *page, pte_t pte);

/* The unmaps of page @page's slots begun so far (zaps, and mremap moves of
 * the page away), and whether one is in flight: both raise the count
 * before they touch the page tables. */
u64 ft_shadow_zaps(struct ft_shadow *sh, unsigned long page, bool *inflight);

#endif /* FT_CHECK_H */
