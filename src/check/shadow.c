// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shadow memory (include/ft/check.h): what every mm must read back.
 *
 * Why the zero rule is sound: a writer samples the page's zap count and
 * in-flight flag before it stores, a zapper raises both before it zaps
 * (sequentially consistent on both sides), so a zap that can have cleared
 * the store is always visible to the later read as a changed count or a
 * recorded in-flight flag.  When a zap ends with no other zap, write or
 * fork around it, the page is certainly zero: the expectation becomes
 * exactly 0, so a zapped page that still shows old data is caught.
 * Why fork inherits exactly: the forker counts each slot's writes made
 * during forks, announces itself and waits until no writer that missed
 * the announcement holds a new value (a Dekker pair, seq_cst on both
 * sides).  A writer that saw the announcement (this fork's or another's
 * still running) counts itself before its access and again at its end;
 * the child's copy is taken after ft_fork() returned, whose TLB flush
 * waited for every access that could still reach a page the child maps,
 * and under each slot's claim, so after any such write ended.  A slot
 * whose count did not move holds for the child what it held before the
 * fork; one whose count moved is unknown until the child's first read.
 * That first read changes the slot for a fork of the child under way
 * (the zero it read may be newer than that fork's page tables), so it
 * counts as a write during the fork too.
 *
 * The dirty rule (pagetable spec I6): after a write through a PTE, the
 * entry that maps the page is dirty, and stays dirty while it maps the
 * same page: nothing in the model cleans a private anon PTE (write-protect
 * moves hardware dirty to software dirty, migration entries carry it).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ft/check.h"
#include "ft/contpte.h"
#include "ft/report.h"

#define SEQ	__ATOMIC_SEQ_CST
#define RLX	__ATOMIC_RELAXED

/* Bits of a value below the tag: slot index, then the write count. */
#define VALUE_IDX_SHIFT		19
#define VALUE_IDX_MASK		0x1fffUL
#define VALUE_COUNT_MASK	0x7ffffUL

/* One slot.  Atomics: fork copies them while claims are held. */
struct shadow_page {
	unsigned long value;	/* what a read must return */
	u64 w_zap_started;	/* zap_started when value was prepared */
	u64 w_zap_end;		/* zap_started when it was stored */
	u64 zap_started;	/* zaps of this page begun */
	u32 w_zap_inflight;	/* a zap was in flight then */
	u32 zap_inflight;	/* zaps of this page not finished */
	u32 claimed;		/* one access at a time */
	u32 writes;		/* under the claim */
	u32 fork_writes;	/* changes while the mm forked: writes begun
				 * and ended, first reads of unknown slots */
	u32 unknown;		/* the child's: a write during the fork */
	unsigned long pre_zap;	/* value when the last zap began */
	unsigned long race_first;	/* first of the writes since the last
					 * one that raced no zap (0: none) */
	u64 claim_zaps;		/* zap_started when claimed */
	/* Under the claim: the page last written through (pfn + 1, 0 for
	 * none) and the zap count then. */
	unsigned long dirty_pfn;
	u64 dirty_zaps;
};

struct ft_shadow {
	u32 tag;
	unsigned long base, nr_slots;
	int forks;		/* forks of this mm in progress */
	u64 fork_seq;		/* bumped as each fork begins and ends */
	int new_writers;	/* writers holding a new value */
	struct shadow_page pages[];
};

struct ft_shadow *ft_shadow_alloc(u32 tag, unsigned long base, unsigned long nr_pages)
{
	struct ft_shadow *sh;

	if (!tag || nr_pages * FT_PAGE_WORDS > VALUE_IDX_MASK + 1)
		return NULL;
	sh = calloc(1, sizeof(*sh) + nr_pages * FT_PAGE_WORDS * sizeof(sh->pages[0]));
	if (!sh)
		return NULL;
	sh->tag = tag;
	sh->base = base;
	sh->nr_slots = nr_pages * FT_PAGE_WORDS;
	return sh;
}

unsigned long ft_shadow_addr(const struct ft_shadow *sh, unsigned long idx)
{
	return sh->base + idx / FT_PAGE_WORDS * PAGE_SIZE +
	       idx % FT_PAGE_WORDS * sizeof(long);
}

void ft_shadow_free(struct ft_shadow *sh)
{
	free(sh);
}

u32 ft_shadow_tag(const struct ft_shadow *sh)
{
	return sh->tag;
}

bool ft_shadow_claim(struct ft_shadow *sh, unsigned long idx)
{
	struct shadow_page *p = &sh->pages[idx];
	u32 free_ = 0;

	if (!__atomic_compare_exchange_n(&p->claimed, &free_, 1, false,
					 __ATOMIC_ACQUIRE, RLX))
		return false;
	p->claim_zaps = __atomic_load_n(&p->zap_started, SEQ);
	return true;
}

void ft_shadow_release(struct ft_shadow *sh, unsigned long idx)
{
	__atomic_store_n(&sh->pages[idx].claimed, 0, __ATOMIC_RELEASE);
}

void ft_shadow_write_begin(struct ft_shadow *sh, unsigned long idx,
			   struct ft_shadow_write *wr)
{
	struct shadow_page *p = &sh->pages[idx];

	wr->zap_started = __atomic_load_n(&p->zap_started, SEQ);
	wr->zap_inflight = __atomic_load_n(&p->zap_inflight, SEQ) != 0;
	__atomic_fetch_add(&sh->new_writers, 1, SEQ);
	wr->during_fork = __atomic_load_n(&sh->forks, SEQ);
	if (wr->during_fork) {
		/* Not waited for: counted, before the access. */
		__atomic_fetch_sub(&sh->new_writers, 1, __ATOMIC_RELEASE);
		__atomic_fetch_add(&p->fork_writes, 1, SEQ);
	}
	p->writes++;
	wr->value = (unsigned long)sh->tag << 32 | (idx & VALUE_IDX_MASK) << VALUE_IDX_SHIFT |
		    (p->writes & VALUE_COUNT_MASK);
}

void ft_shadow_write_end(struct ft_shadow *sh, unsigned long idx,
			 const struct ft_shadow_write *wr, bool done)
{
	struct shadow_page *p = &sh->pages[idx];

	if (done) {
		u64 end_zaps = __atomic_load_n(&p->zap_started, SEQ);
		bool raced = wr->zap_inflight || end_zaps != wr->zap_started;

		__atomic_store_n(&p->unknown, 0, RLX);
		__atomic_store_n(&p->value, wr->value, RLX);
		__atomic_store_n(&p->w_zap_started, wr->zap_started, RLX);
		__atomic_store_n(&p->w_zap_end, end_zaps, RLX);
		__atomic_store_n(&p->w_zap_inflight, wr->zap_inflight, RLX);
		if (!raced)
			__atomic_store_n(&p->race_first, 0, RLX);
		else if (!__atomic_load_n(&p->race_first, RLX))
			__atomic_store_n(&p->race_first, wr->value, RLX);
	}
	/* Release: a forker that sees no writer sees the stores above. */
	if (!wr->during_fork)
		__atomic_fetch_sub(&sh->new_writers, 1, __ATOMIC_RELEASE);
	else	/* Counted at the end too: a fork that began after this
		 * write did (it waits for no such writer) sees a change. */
		__atomic_fetch_add(&p->fork_writes, 1, SEQ);
}

/* The entry and the page behind @addr now, for the report. */
static void dump_mapping(struct mm_struct *mm, unsigned long addr)
{
	struct ptdesc *table = pmdp_get_lockless(pmd_off(mm, addr));
	pte_t pte = table ? __ptep_get(&table->ptes[pte_index(addr)]) : __pte(0);

	fprintf(stderr, "pte at %#lx: ", addr);
	pte_describe(stderr, pte);
	fprintf(stderr, "\n");
	if (pte_present(pte))
		dump_page(stderr, pfn_to_page(mm->pmem, pte_pfn(pte)), "shadow memory");
}

/*
 * Every page of physical memory whose word @w holds @value: where a lost
 * write went (a page freed since, another MM's page) tells which path lost
 * it.  Racy reads: a diagnostic after the fact.
 */
static void find_value(struct ft_pmem *pmem, unsigned int w, unsigned long value,
		       const char *what)
{
	int found = 0;

	if (!value)
		return;
	for (unsigned long pfn = 0; pfn < pmem->nr_pfns && found < 4; pfn++) {
		struct page *page = pfn_to_page(pmem, pfn);

		if (READ_ONCE(page->data[w]) != value)
			continue;
		fprintf(stderr, "%s %#lx is in pfn %#lx: %s, page mapcount %d\n", what,
			value, pfn, READ_ONCE(page->folio) ? "allocated" : "free",
			atomic_read(&page->_mapcount) + 1);
		found++;
	}
	if (!found)
		fprintf(stderr, "%s %#lx is in no page\n", what, value);
}

static void report_read(struct ft_shadow *sh, unsigned long idx, unsigned long got,
			unsigned long want, struct mm_struct *mm)
{
	u32 writer = (u32)(got >> 32);
	unsigned long page = (got >> VALUE_IDX_SHIFT) & VALUE_IDX_MASK;
	unsigned long addr = ft_shadow_addr(sh, idx);

	if (!ft_report_begin("shadow memory"))
		return;
	fprintf(stderr, "BUG: mm id %u (tag %u) read %#lx at %#lx, expected %#lx: ",
		mm->mm_id, sh->tag, got, addr, want);
	if (!got)
		fprintf(stderr, "zero, but no zap of the page since the write\n");
	else if (!want)
		fprintf(stderr, "the page was zapped, but shows the value of mm tag %u "
			"(its slot %lu, write #%lu)\n", writer, page, got & VALUE_COUNT_MASK);
	else if (writer != sh->tag)
		fprintf(stderr, "a value written by mm tag %u (its slot %lu, write "
			"#%lu): COW isolation broken\n", writer, page,
			got & VALUE_COUNT_MASK);
	else if (page != idx)
		fprintf(stderr, "its own value for slot %lu\n", page);
	else
		fprintf(stderr, "its own write #%lu, not the last one (#%lu): a "
			"write was lost\n", got & VALUE_COUNT_MASK, want & VALUE_COUNT_MASK);
	fprintf(stderr, "zaps of the slot: %llu begun (%llu when claimed), %u in flight; "
		"value before the last one %#lx%s\n",
		(unsigned long long)__atomic_load_n(&sh->pages[idx].zap_started, SEQ),
		(unsigned long long)sh->pages[idx].claim_zaps,
		__atomic_load_n(&sh->pages[idx].zap_inflight, SEQ),
		__atomic_load_n(&sh->pages[idx].pre_zap, RLX),
		__atomic_load_n(&sh->forks, SEQ) ? "; the mm is forking" : "");
	dump_mapping(mm, addr);
	find_value(mm->pmem, idx % FT_PAGE_WORDS, want, "the value expected");
	find_value(mm->pmem, idx % FT_PAGE_WORDS, got, "the value read");
	ft_report_end();
}

/*
 * @value is @first or a value of slot @idx written after it: by @sh's own
 * writes, which all come after an inherited value.  (After zero it could
 * be an own write from before a zap: not taken.)
 */
static bool own_since(const struct ft_shadow *sh, unsigned long idx, unsigned long first,
		      unsigned long value)
{
	unsigned long own = (unsigned long)sh->tag << 32 | (idx & VALUE_IDX_MASK) << VALUE_IDX_SHIFT;

	if (value == first)
		return true;
	if (!first || (value & ~VALUE_COUNT_MASK) != own)
		return false;
	return (first & ~VALUE_COUNT_MASK) != own ||
	       (value & VALUE_COUNT_MASK) >= (first & VALUE_COUNT_MASK);
}

/*
 * Writes that raced a zap: one may have gone through a translation the
 * zap had not flushed yet into the page it takes away, and an earlier
 * one through a fault into the page that replaced it, which keeps the
 * earlier value.  Any of them may be what is left.
 */
static bool raced_write(const struct ft_shadow *sh, unsigned long idx, unsigned long value)
{
	unsigned long first = __atomic_load_n(&sh->pages[idx].race_first, RLX);

	return first && own_since(sh, idx, first, value);
}

bool ft_shadow_check_read(struct ft_shadow *sh, unsigned long idx,
			  unsigned long value, struct mm_struct *mm)
{
	struct shadow_page *p = &sh->pages[idx];
	unsigned long want = __atomic_load_n(&p->value, RLX);

	/* Written by the parent while it forked us: whatever we see first.
	 * Known from now on, a change to a fork of ours under way: counted
	 * as a write, as our page tables may have changed since its copy. */
	if (__atomic_load_n(&p->unknown, RLX)) {
		__atomic_store_n(&p->unknown, 0, RLX);
		__atomic_store_n(&p->value, value, RLX);
		if (__atomic_load_n(&sh->forks, SEQ))
			__atomic_fetch_add(&p->fork_writes, 1, SEQ);
		return true;
	}
	if (value == want)
		return true;
	/* A zap overlapped the access: until its flush a CPU may still
	 * reach the page it takes away, while a fault maps a new one. */
	if (own_since(sh, idx, __atomic_load_n(&p->pre_zap, RLX), value) &&
	    (__atomic_load_n(&p->zap_inflight, SEQ) ||
	     __atomic_load_n(&p->zap_started, SEQ) != p->claim_zaps))
		return true;
	if (!value && (__atomic_load_n(&p->zap_started, SEQ) !=
		       __atomic_load_n(&p->w_zap_started, RLX) ||
		       __atomic_load_n(&p->w_zap_inflight, RLX)))
		return true;
	if (raced_write(sh, idx, value))
		return true;
	report_read(sh, idx, value, want, mm);
	return false;
}

u64 ft_shadow_zap_begin(struct ft_shadow *sh, unsigned long first, unsigned long nr)
{
	first *= FT_PAGE_WORDS;
	nr *= FT_PAGE_WORDS;
	for (unsigned long i = first; i < first + nr && i < sh->nr_slots; i++) {
		/* Overlapping zaps: the value before the first of them, as a
		 * translation the first has not flushed yet still reaches it. */
		if (!__atomic_load_n(&sh->pages[i].zap_inflight, SEQ))
			__atomic_store_n(&sh->pages[i].pre_zap,
					 __atomic_load_n(&sh->pages[i].value, RLX), RLX);
		__atomic_fetch_add(&sh->pages[i].zap_inflight, 1, SEQ);
		__atomic_fetch_add(&sh->pages[i].zap_started, 1, SEQ);
	}
	return __atomic_load_n(&sh->fork_seq, SEQ);
}

/*
 * After the zap, with the claim: if no other zap is in flight, the last
 * write was stored before any zap of the page began (so before this one),
 * and no fork ran meanwhile, the slot is zero now.
 */
static void zap_settle(struct ft_shadow *sh, unsigned long idx, u64 fork_seq)
{
	struct shadow_page *p = &sh->pages[idx];
	u64 started = __atomic_load_n(&p->zap_started, SEQ);
	u64 w_begin = __atomic_load_n(&p->w_zap_started, RLX);

	if (__atomic_load_n(&sh->forks, SEQ) ||
	    __atomic_load_n(&sh->fork_seq, SEQ) != fork_seq ||
	    __atomic_load_n(&p->zap_inflight, SEQ) || w_begin == started ||
	    __atomic_load_n(&p->w_zap_end, RLX) != w_begin ||
	    __atomic_load_n(&p->w_zap_inflight, RLX))
		return;
	__atomic_store_n(&p->unknown, 0, RLX);
	__atomic_store_n(&p->value, 0, RLX);
	__atomic_store_n(&p->w_zap_started, started, RLX);
	__atomic_store_n(&p->w_zap_end, started, RLX);
}

void ft_shadow_zap_end(struct ft_shadow *sh, unsigned long first, unsigned long nr,
		       u64 fork_seq, bool zapped)
{
	first *= FT_PAGE_WORDS;
	nr *= FT_PAGE_WORDS;
	for (unsigned long i = first; i < first + nr && i < sh->nr_slots; i++) {
		__atomic_fetch_sub(&sh->pages[i].zap_inflight, 1, SEQ);
		if (zapped && ft_shadow_claim(sh, i)) {
			zap_settle(sh, i, fork_seq);
			ft_shadow_release(sh, i);
		}
	}
}

/* ---- The dirty rule ------------------------------------------------------------- */

/* What maps slot @idx of @mm now, as a lockless walker sees it. */
static pte_t shadow_pte(struct ft_shadow *sh, unsigned long idx, struct mm_struct *mm)
{
	unsigned long addr = ft_shadow_addr(sh, idx);
	struct ptdesc *table = pmdp_get_lockless(pmd_off(mm, addr));

	return table ? ptep_get_lockless(&table->ptes[pte_index(addr)]) : __pte(0);
}

static void report_clean(struct ft_shadow *sh, unsigned long idx, struct mm_struct *mm,
			 pte_t pte, const char *when)
{
	if (!ft_report_begin("dirty bit"))
		return;
	fprintf(stderr, "BUG: mm id %u (tag %u): the PTE at %#lx is clean %s: a "
		"dirty bit was lost\n", mm->mm_id, sh->tag, ft_shadow_addr(sh, idx),
		when);
	fprintf(stderr, "pte: ");
	pte_describe(stderr, pte);
	fprintf(stderr, "\n");
	ft_report_end();
}

void ft_shadow_note_write(struct ft_shadow *sh, unsigned long idx,
			  const struct ft_shadow_write *wr, struct mm_struct *mm)
{
	struct shadow_page *p = &sh->pages[idx];
	/* The count first: a zap that begins after it will change it. */
	u64 zaps = __atomic_load_n(&p->zap_started, SEQ);
	pte_t pte;

	p->dirty_pfn = 0;
	/* A zap or MADV_FREE overlapped the write: nothing to expect. */
	if (zaps != wr->zap_started || wr->zap_inflight ||
	    __atomic_load_n(&p->zap_inflight, SEQ))
		return;
	pte = shadow_pte(sh, idx, mm);
	/* Raced with a zap begun since, or a migration: nothing either. */
	if (__atomic_load_n(&p->zap_started, SEQ) != zaps ||
	    !pte_present(pte) || pte_special(pte) ||
	    READ_ONCE(pfn_to_page(mm->pmem, pte_pfn(pte))->data[idx % FT_PAGE_WORDS]) !=
	    wr->value)
		return;
	if (!pte_dirty(pte))
		report_clean(sh, idx, mm, pte, "right after a write through it");
	p->dirty_pfn = pte_pfn(pte) + 1;
	p->dirty_zaps = zaps;
}

void ft_shadow_check_dirty(struct ft_shadow *sh, unsigned long idx, struct mm_struct *mm)
{
	struct shadow_page *p = &sh->pages[idx];
	pte_t pte;

	if (!p->dirty_pfn)
		return;
	/* The entry first, then the count: a zap or MADV_FREE raises the
	 * count before it touches the entry, so one we saw shows here. */
	pte = shadow_pte(sh, idx, mm);
	if (__atomic_load_n(&p->zap_started, SEQ) != p->dirty_zaps)
		return;
	if (pte_present(pte) && pte_pfn(pte) == p->dirty_pfn - 1 && !pte_dirty(pte))
		report_clean(sh, idx, mm, pte, "though the page was written through it");
}

void ft_shadow_forget_dirty(struct ft_shadow *sh, unsigned long idx)
{
	sh->pages[idx].dirty_pfn = 0;
}

static bool no_new_writers(const void *sh)
{
	return !__atomic_load_n(&((const struct ft_shadow *)sh)->new_writers, SEQ);
}

static bool unclaimed(const void *p)
{
	return !__atomic_load_n(&((const struct shadow_page *)p)->claimed, RLX);
}

void ft_shadow_fork_begin(struct ft_shadow *parent, struct ft_shadow *child)
{
	/* Before the announcement: a writer that sees it counts after. */
	for (unsigned long i = 0; i < parent->nr_slots && i < child->nr_slots; i++)
		child->pages[i].fork_writes = __atomic_load_n(&parent->pages[i].fork_writes,
							      SEQ);
	__atomic_fetch_add(&parent->forks, 1, SEQ);
	__atomic_fetch_add(&parent->fork_seq, 1, SEQ);
	ft_wait_until(no_new_writers, parent, "the shadow's writers of new values");
}

/*
 * Each slot under its claim: a slot's fields are one state, changed
 * together by its claim holder (a zap settling it to zero, a first read
 * of an unknown slot); a copy without the claim could take the new zap
 * count with the old value, or "known" with the stale value.
 */
void ft_shadow_fork_copy(struct ft_shadow *child, struct ft_shadow *parent)
{
	for (unsigned long i = 0; i < parent->nr_slots && i < child->nr_slots; i++) {
		const struct shadow_page *p = &parent->pages[i];
		struct shadow_page *c = &child->pages[i];
		bool inflight;

		while (!ft_shadow_claim(parent, i))
			ft_wait_until(unclaimed, p, "a shadow slot's claim");
		inflight = __atomic_load_n(&p->w_zap_inflight, RLX) ||
			   __atomic_load_n(&p->zap_inflight, SEQ);

		/* A zap still running in the parent never ends in the child:
		 * it counts as in flight at the child's last write. */
		c->value = __atomic_load_n(&p->value, RLX);
		c->race_first = __atomic_load_n(&p->race_first, RLX);
		c->w_zap_started = __atomic_load_n(&p->w_zap_started, RLX);
		c->w_zap_end = __atomic_load_n(&p->w_zap_end, RLX);
		c->zap_started = __atomic_load_n(&p->zap_started, SEQ);
		c->w_zap_inflight = inflight;
		c->unknown = __atomic_load_n(&p->unknown, RLX) ||
			     __atomic_load_n(&p->fork_writes, SEQ) != c->fork_writes;
		c->fork_writes = 0;
		ft_shadow_release(parent, i);
	}
}

void ft_shadow_fork_end(struct ft_shadow *parent)
{
	__atomic_fetch_sub(&parent->forks, 1, SEQ);
	__atomic_fetch_add(&parent->fork_seq, 1, SEQ);
}
