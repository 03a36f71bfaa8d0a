// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shadow memory (include/ft/check.h): what every mm must read back.
 *
 * Each slot keeps the set of values a read may return (struct vset): one
 * value almost always, more in two cases only.  After a fork, the parent's
 * writes made while its page tables were being copied may or may not
 * reach the child.  With --tlb, a write through a stale translation (its
 * page already unmapped by a zap that has not flushed yet) may or may not
 * survive: a zap frees the page, a migration copies it first.  A read
 * through a walk of the live page tables that returns one of several
 * values makes it the only one.
 *
 * Correctness argument, rule by rule:
 *  - Exact: the claim serializes the accesses of one slot, and without a
 *    stale translation every access of a slot reaches the page the PTE maps
 *    when it translates; so the last write is what the live page holds,
 *    unless a zap took that page away since.
 *  - Zero after a zap: a writer samples the slot's zap count and in-flight
 *    flag before its access, a zapper raises both before it touches the
 *    page tables (sequentially consistent on both sides), so any zap that
 *    may have cleared the write shows at the read as a changed count or a
 *    recorded in-flight flag.  A zap that ends with nothing else in flight
 *    and no write since it began leaves exactly zero (zap_settle()).
 *  - Fork: the child's set is the parent's, each slot taken under its
 *    claim before the page tables are copied, plus the parent's writes
 *    counted between that moment and the copy's end (ft_fork() returns
 *    after flush_tlb_mm(), so no later write reaches the child's pages),
 *    plus zero if a zap of the slot overlapped that window.  The counts
 *    are sampled before the set is read: a zap needs no claim, so one
 *    that begins in between must count as overlapping the window.
 *  - Stale translations (--tlb only): a stale write may be lost, so the set
 *    keeps what it had and gains the write.  A stale read sees the page the
 *    zap took away: what the slot held when the zaps in flight began
 *    (taken lazily, under the claim, before the first change after that),
 *    or an own write made since.  The TLB oracle (include/ft/pgtable.h)
 *    bounds both to the zap's flush.  MADV_FREE unmaps nothing and is no
 *    zap here: it only lets the dirty rule stop expecting a dirty bit.
 *
 * The dirty rule (T6, doc/invariants.md): after a write through a PTE, the
 * entry that maps the page is dirty, and stays dirty while it maps the
 * same page and nothing that may clean it (a zap, MADV_FREE) has begun:
 * write-protect moves hardware dirty to software dirty, migration entries
 * carry it, and fork copies it into the child's entry (for a contpte block,
 * the block's gathered dirty), so the child inherits the expectation.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft/check.h"
#include "ft/contpte.h"
#include "ft/report.h"

#define SEQ	__ATOMIC_SEQ_CST
#define RLX	__ATOMIC_RELAXED

/* Bits of a value below the tag: slot index, then the write count. */
#define VALUE_IDX_SHIFT		19
#define VALUE_IDX_MASK		0x1fffUL
#define VALUE_COUNT_MASK	0x7ffffUL

#define VSET_RUNS	3

/* Writes of slot @idx by mm @tag (0: any) with counts in (lo, hi]; @idx is
 * where they were written, which mremap may have moved them from. */
struct vrun {
	u32 tag, lo, hi, idx;
};

/* Values a read may return: @one, 0 if @zero, and the runs' writes; any
 * value if @any (widened: where a failed mremap left the page is unknown). */
struct vset {
	unsigned long one;
	bool zero, any;
	u8 nr_runs;
	struct vrun runs[VSET_RUNS];
};

/* One slot: one word of one page. */
struct shadow_page {
	struct vset want;	/* under the claim */
	u32 claimed;
	u32 writes;		/* own writes prepared; atomic, forks sample it */
	/* Raised by zaps (munmap, MADV_DONTNEED) and cleans (MADV_FREE)
	 * without the claim: atomics. */
	u64 zap_started;
	u32 zap_inflight;
	u32 zap_episodes;	/* times zap_inflight rose from 0 */
	/* mremap moves of the page away (the pin oracle's "unmapped since") */
	u64 move_started;
	u32 move_inflight;
	u64 clean_started;
	u32 clean_inflight;
	/* Under the claim: zap_started when the last write was prepared and
	 * when it was stored, and whether a zap was in flight then. */
	u64 w_zap_started, w_zap_end;
	bool w_zap_inflight;
	/* Reclaim's discards of a clean lazyfree folio that mapped the
	 * slot (the world's discard_hook): atomic.  Under the claim: the
	 * count, and the MADV_FREE count and in-flight flag, when the last
	 * write was prepared. */
	u64 discards;
	u64 w_discards, w_clean_started;
	bool w_clean_inflight;
	u64 swapouts;		/* reclaim swapped the page out: atomic */
	u64 claim_zaps;		/* at the claim */
	bool claim_zap_inflight;
	/* The dirty rule, under the claim: the page last written through
	 * (pfn + 1, 0 for none) and the zap and clean counts then. */
	unsigned long dirty_pfn;
	u64 dirty_zaps, dirty_cleans, dirty_swapouts;
	/* A child's, from ft_shadow_fork_begin() to _copy(): the parent's
	 * counts when this slot was taken. */
	u32 fork_writes;
	u64 fork_zaps, fork_cleans, fork_discards, fork_swapouts;
	bool fork_zapping, fork_cleaning;	/* one was in flight then */
};

/* --tlb: what a stale translation may still show (stale_read_ok()). */
struct shadow_stale {
	u32 episode;		/* the zap episode it was taken in */
	u32 writes;		/* own writes from this count on */
	struct vset want;	/* the slot's values when it began */
};

struct ft_shadow {
	u32 tag;
	unsigned long base, nr_slots;
	struct shadow_stale *stale;	/* with --tlb only */
	struct shadow_page pages[];
};

static u64 n_widened;		/* atomic: sets that lost precision */

/*
 * Freed shadows kept for the next process of the same size.  A process's
 * shadow is half a megabyte (1024 pages), which the sanitizers' allocators
 * map for each fork and unmap at its exit, and each unmap is a TLB
 * shootdown of every CPU the run uses: under ThreadSanitizer those took
 * 29% of the default run's cycles.  The mutex also orders a shadow's last
 * use before its reuse, for ThreadSanitizer.
 */
#define SHADOW_POOL_MAX	8

static struct {
	pthread_mutex_t lock;
	unsigned int nr;
	struct ft_shadow *free[SHADOW_POOL_MAX];
} shadow_pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t shadow_size(unsigned long nr_slots)
{
	return sizeof(struct ft_shadow) + nr_slots * sizeof(struct shadow_page);
}

/* A pooled shadow of @nr_slots slots, with --tlb's array if @tlb, or NULL. */
static struct ft_shadow *shadow_pool_get(unsigned long nr_slots, bool tlb)
{
	struct ft_shadow *sh = NULL;

	pthread_mutex_lock(&shadow_pool.lock);
	for (unsigned int i = 0; i < shadow_pool.nr; i++) {
		struct ft_shadow *p = shadow_pool.free[i];

		if (p->nr_slots == nr_slots && !p->stale == !tlb) {
			sh = p;
			shadow_pool.free[i] = shadow_pool.free[--shadow_pool.nr];
			break;
		}
	}
	pthread_mutex_unlock(&shadow_pool.lock);
	return sh;
}

static bool shadow_pool_put(struct ft_shadow *sh)
{
	bool kept = false;

	pthread_mutex_lock(&shadow_pool.lock);
	if (shadow_pool.nr < SHADOW_POOL_MAX) {
		shadow_pool.free[shadow_pool.nr++] = sh;
		kept = true;
	}
	pthread_mutex_unlock(&shadow_pool.lock);
	return kept;
}

/* A zeroed shadow, as calloc() gives it: from the pool if it has one. */
static struct ft_shadow *shadow_get(unsigned long nr_slots, bool tlb)
{
	struct ft_shadow *sh = shadow_pool_get(nr_slots, tlb);
	struct shadow_stale *stale;

	if (sh) {
		stale = sh->stale;
		memset(sh, 0, shadow_size(nr_slots));
		if (stale)
			memset(stale, 0, nr_slots * sizeof(*stale));
		sh->stale = stale;
		return sh;
	}
	sh = calloc(1, shadow_size(nr_slots));
	if (sh && tlb && !(sh->stale = calloc(nr_slots, sizeof(*sh->stale)))) {
		free(sh);
		return NULL;
	}
	return sh;
}

struct ft_shadow *ft_shadow_alloc(u32 tag, unsigned long base, unsigned long nr_pages,
				  bool tlb)
{
	unsigned long nr_slots = nr_pages * FT_PAGE_WORDS;
	struct ft_shadow *sh;

	if (!tag || nr_slots > VALUE_IDX_MASK + 1)
		return NULL;
	sh = shadow_get(nr_slots, tlb);
	if (!sh)
		return NULL;
	sh->tag = tag;
	sh->base = base;
	sh->nr_slots = nr_slots;
	return sh;
}

unsigned long ft_shadow_addr(const struct ft_shadow *sh, unsigned long idx)
{
	return sh->base + idx / FT_PAGE_WORDS * PAGE_SIZE +
	       idx % FT_PAGE_WORDS * sizeof(long);
}

void ft_shadow_free(struct ft_shadow *sh)
{
	if (!sh || shadow_pool_put(sh))
		return;
	free(sh->stale);
	free(sh);
}

u32 ft_shadow_tag(const struct ft_shadow *sh)
{
	return sh->tag;
}

u64 ft_shadow_widened(void)
{
	return __atomic_load_n(&n_widened, RLX);
}

/* ---- Value sets ---------------------------------------------------------------- */

static unsigned long make_value(u32 tag, unsigned long idx, u32 count)
{
	return (unsigned long)tag << 32 | (idx & VALUE_IDX_MASK) << VALUE_IDX_SHIFT |
	       (count & VALUE_COUNT_MASK);
}

static u32 value_tag(unsigned long v)
{
	return (u32)(v >> 32);
}

static unsigned long value_idx(unsigned long v)
{
	return (v >> VALUE_IDX_SHIFT) & VALUE_IDX_MASK;
}

static u32 value_count(unsigned long v)
{
	return (u32)(v & VALUE_COUNT_MASK);
}

static bool vrun_has(const struct vrun *r, unsigned long v)
{
	u32 c = value_count(v);

	return value_idx(v) == r->idx && (!r->tag || value_tag(v) == r->tag) &&
	       (r->lo & VALUE_COUNT_MASK) < c && c <= (r->hi & VALUE_COUNT_MASK);
}

/* Is @v in @s?  (A run names the slot its values were written at.) */
static bool vset_has(const struct vset *s, unsigned long v)
{
	if (v == s->one || (!v && s->zero) || s->any)
		return true;
	if (!v)
		return false;
	for (int i = 0; i < s->nr_runs; i++)
		if (vrun_has(&s->runs[i], v))
			return true;
	return false;
}

static bool vset_single(const struct vset *s)
{
	return !s->nr_runs && !s->any && (!s->zero || !s->one);
}

static void vset_set(struct vset *s, unsigned long v)
{
	*s = (struct vset){ .one = v };
}

/* Add the writes of mm @tag to slot @idx with counts in (lo, hi]. */
static void vset_add_run(struct vset *s, unsigned long idx, u32 tag, u32 lo, u32 hi)
{
	struct vrun *r;

	idx &= VALUE_IDX_MASK;
	for (int i = 0; i < s->nr_runs; i++) {
		r = &s->runs[i];
		if (r->idx == idx && (r->tag == tag || !r->tag)) {
			r->lo = min(r->lo, lo);
			r->hi = max(r->hi, hi);
			return;
		}
	}
	if (s->nr_runs < VSET_RUNS) {
		s->runs[s->nr_runs++] = (struct vrun){ tag, lo, hi, (u32)idx };
		return;
	}
	/* No room: the last run takes every writer.  Counted and shown at
	 * the end of a run: a looser check, never a false report. */
	s->runs[VSET_RUNS - 1] = (struct vrun){ 0, 0, VALUE_COUNT_MASK, (u32)idx };
	__atomic_fetch_add(&n_widened, 1, RLX);
}

static void vset_print(FILE *out, const struct vset *s)
{
	fprintf(out, "%#lx", s->one);
	if (s->any)
		fprintf(out, " or anything (widened after a failed mremap)");
	if (s->zero && s->one)
		fprintf(out, " or 0");
	for (int i = 0; i < s->nr_runs; i++) {
		if (s->runs[i].tag)
			fprintf(out, " or mm tag %u's writes #%u..#%u", s->runs[i].tag,
				s->runs[i].lo + 1, s->runs[i].hi);
		else
			fprintf(out, " or any write of the slot (widened)");
	}
}

/* ---- Claims and stale-translation snapshots ------------------------------------ */

/*
 * --tlb: before the first change of @idx's set in a new zap episode, keep
 * what it held when the episode began (no one changed it since: every
 * change comes here first).  With the claim.
 */
static void note_episode(struct ft_shadow *sh, unsigned long idx)
{
	struct shadow_page *p = &sh->pages[idx];
	struct shadow_stale *st;
	u32 episode;

	if (!sh->stale)
		return;
	st = &sh->stale[idx];
	episode = __atomic_load_n(&p->zap_episodes, SEQ);
	if (st->episode == episode)
		return;
	st->episode = episode;
	st->writes = __atomic_load_n(&p->writes, RLX);
	st->want = p->want;
}

bool ft_shadow_claim(struct ft_shadow *sh, unsigned long idx)
{
	struct shadow_page *p = &sh->pages[idx];
	u32 free_ = 0;

	if (!__atomic_compare_exchange_n(&p->claimed, &free_, 1, false,
					 __ATOMIC_ACQUIRE, RLX))
		return false;
	p->claim_zaps = __atomic_load_n(&p->zap_started, SEQ);
	p->claim_zap_inflight = __atomic_load_n(&p->zap_inflight, SEQ) != 0;
	return true;
}

void ft_shadow_release(struct ft_shadow *sh, unsigned long idx)
{
	__atomic_store_n(&sh->pages[idx].claimed, 0, __ATOMIC_RELEASE);
}

static bool unclaimed(const void *p)
{
	return !__atomic_load_n(&((const struct shadow_page *)p)->claimed, RLX);
}

static void claim_wait(struct ft_shadow *sh, unsigned long idx)
{
	while (!ft_shadow_claim(sh, idx))
		ft_wait_until(unclaimed, &sh->pages[idx], "a shadow slot's claim",
			      FT_TIME_ORACLE);
}

/* ---- Writes and reads --------------------------------------------------------- */

void ft_shadow_write_begin(struct ft_shadow *sh, unsigned long idx,
			   struct ft_shadow_write *wr)
{
	struct shadow_page *p = &sh->pages[idx];
	u32 writes = __atomic_load_n(&p->writes, RLX) + 1;

	wr->zap_started = __atomic_load_n(&p->zap_started, SEQ);
	wr->zap_inflight = __atomic_load_n(&p->zap_inflight, SEQ) != 0;
	wr->clean_started = __atomic_load_n(&p->clean_started, SEQ);
	wr->clean_inflight = __atomic_load_n(&p->clean_inflight, SEQ) != 0;
	wr->discards = __atomic_load_n(&p->discards, SEQ);
	wr->swapouts = __atomic_load_n(&p->swapouts, SEQ);
	__atomic_store_n(&p->writes, writes, RLX);
	wr->value = make_value(sh->tag, idx, writes);
}

void ft_shadow_write_end(struct ft_shadow *sh, unsigned long idx,
			 const struct ft_shadow_write *wr, bool done, bool stale)
{
	struct shadow_page *p = &sh->pages[idx];
	u32 count = __atomic_load_n(&p->writes, RLX);

	if (!done)
		return;
	note_episode(sh, idx);
	if (stale)	/* maybe lost with the page it went to */
		vset_add_run(&p->want, idx, sh->tag, count - 1, count);
	else
		vset_set(&p->want, wr->value);
	p->w_zap_started = wr->zap_started;
	p->w_zap_end = __atomic_load_n(&p->zap_started, SEQ);
	p->w_zap_inflight = wr->zap_inflight;
	p->w_discards = wr->discards;
	p->w_clean_started = wr->clean_started;
	p->w_clean_inflight = wr->clean_inflight;
}

/* The entry and the page behind @addr now, for the report. */
static void dump_mapping(struct mm_struct *mm, unsigned long addr)
{
	struct ptdesc *table = pmdp_get_lockless(pmd_off(mm, addr));
	pte_t pte = table ? __ptep_get(&table->ptes[pte_index(addr)]) : __pte(0);

	fprintf(stderr, "pte at %#lx: ", addr);
	pte_describe(stderr, pte);
	fprintf(stderr, "\n");
	pte_print_last_clear(stderr, mm, addr);
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
		if (READ_ONCE(page->folio))
			dump_page(stderr, page, what);
		found++;
	}
	if (!found)
		fprintf(stderr, "%s %#lx is in no page\n", what, value);
}

/* The slot's other events, now and when its last write was prepared:
 * which of them could have taken the written page away. */
static void report_history(const struct shadow_page *p)
{
	fprintf(stderr, "since the write: reclaim discards %llu (%llu then), MADV_FREE "
		"%llu (%llu then%s), swap-outs %llu, mremap moves %llu (%u in flight)\n",
		(unsigned long long)__atomic_load_n(&p->discards, SEQ),
		(unsigned long long)p->w_discards,
		(unsigned long long)__atomic_load_n(&p->clean_started, SEQ),
		(unsigned long long)p->w_clean_started,
		p->w_clean_inflight ? ", one in flight" : "",
		(unsigned long long)__atomic_load_n(&p->swapouts, SEQ),
		(unsigned long long)__atomic_load_n(&p->move_started, SEQ),
		__atomic_load_n(&p->move_inflight, SEQ));
}

static void report_read(struct ft_shadow *sh, unsigned long idx, unsigned long got,
			bool stale, struct mm_struct *mm)
{
	const struct vset *want = &sh->pages[idx].want;
	u32 writer = value_tag(got);
	unsigned long addr = ft_shadow_addr(sh, idx);

	if (!ft_report_begin("shadow memory"))
		return;
	ft_report_msg("BUG: mm id %u (tag %u) read %#lx at %#lx, expected %#lx: ",
		mm->mm_id, sh->tag, got, addr, want->one);
	if (!got)
		ft_report_msg("zero, but no zap of the page since the write\n");
	else if (!want->one && vset_single(want))
		ft_report_msg("the page was zapped, but shows the value of mm tag %u "
			"(its slot %lu, write #%u)\n", writer, value_idx(got),
			value_count(got));
	else if (writer != sh->tag)
		ft_report_msg("a value written by mm tag %u (its slot %lu, write "
			"#%u): COW isolation broken\n", writer, value_idx(got),
			value_count(got));
	else if (value_idx(got) != (idx & VALUE_IDX_MASK))
		ft_report_msg("its own value for slot %lu\n", value_idx(got));
	else
		ft_report_msg("its own write #%u, not the last one (#%u): a write was "
			"lost\n", value_count(got), value_count(want->one));
	if (!vset_single(want)) {
		fprintf(stderr, "values the read may return: ");
		vset_print(stderr, want);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "the read went through a %s translation; zaps of the slot: "
		"%llu begun (%llu when claimed), %u in flight\n",
		stale ? "stale (cached, the page since unmapped)" : "live",
		(unsigned long long)__atomic_load_n(&sh->pages[idx].zap_started, SEQ),
		(unsigned long long)sh->pages[idx].claim_zaps,
		__atomic_load_n(&sh->pages[idx].zap_inflight, SEQ));
	report_history(&sh->pages[idx]);
	dump_mapping(mm, addr);
	find_value(mm->pmem, idx % FT_PAGE_WORDS, want->one, "the value expected");
	find_value(mm->pmem, idx % FT_PAGE_WORDS, got, "the value read");
	ft_report_end();
}

/* A zap of the slot began after the last write was prepared, or was in
 * flight then: it may have taken the written page away. */
static bool zapped_since_write(const struct shadow_page *p)
{
	return __atomic_load_n(&p->zap_started, SEQ) != p->w_zap_started ||
	       p->w_zap_inflight;
}

/* A MADV_FREE of the slot began after the last write was prepared. */
static bool cleaned_since_write(const struct shadow_page *p)
{
	return p->w_clean_inflight ||
	       __atomic_load_n(&p->clean_started, SEQ) != p->w_clean_started;
}

/*
 * Reclaim discarded the page since the last write was prepared, and that
 * write was cleaned by MADV_FREE: the discard dropped it legally.  A
 * discard of a page written after the last MADV_FREE is lost data.
 */
static bool discarded_since_write(const struct shadow_page *p)
{
	return __atomic_load_n(&p->discards, SEQ) != p->w_discards &&
	       cleaned_since_write(p);
}

/*
 * A read through a stale translation (--tlb) sees the page a zap took
 * away: what the slot held when the zaps in flight began, or an own write
 * since (a fresh one before the page was unmapped, or a stale one after).
 */
static bool stale_read_ok(struct ft_shadow *sh, unsigned long idx, unsigned long v)
{
	struct shadow_page *p = &sh->pages[idx];
	struct shadow_stale *st = &sh->stale[idx];

	if (!p->claim_zap_inflight && !__atomic_load_n(&p->zap_inflight, SEQ) &&
	    __atomic_load_n(&p->zap_started, SEQ) == p->claim_zaps)
		return false;	/* no zap: migration or COW, whose copy is exact */
	note_episode(sh, idx);
	if (vset_has(&st->want, v))
		return true;
	return value_tag(v) == sh->tag && value_idx(v) == (idx & VALUE_IDX_MASK) &&
	       value_count(v) >= (st->writes & VALUE_COUNT_MASK);
}

bool ft_shadow_check_read(struct ft_shadow *sh, unsigned long idx,
			  unsigned long value, bool stale, struct mm_struct *mm)
{
	struct shadow_page *p = &sh->pages[idx];

	if (vset_has(&p->want, value)) {
		/* A walk of the live tables found it: the page holds it. */
		if (!stale && !vset_single(&p->want)) {
			note_episode(sh, idx);
			vset_set(&p->want, value);
		}
		return true;
	}
	if (!value && (zapped_since_write(p) || discarded_since_write(p)))
		return true;
	if (stale && sh->stale && stale_read_ok(sh, idx, value))
		return true;
	report_read(sh, idx, value, stale, mm);
	return false;
}

/* ---- Zaps and cleans ---------------------------------------------------------- */

void ft_shadow_zap_begin(struct ft_shadow *sh, unsigned long first, unsigned long nr)
{
	first *= FT_PAGE_WORDS;
	nr *= FT_PAGE_WORDS;
	for (unsigned long i = first; i < first + nr && i < sh->nr_slots; i++) {
		struct shadow_page *p = &sh->pages[i];

		if (!__atomic_fetch_add(&p->zap_inflight, 1, SEQ))
			__atomic_fetch_add(&p->zap_episodes, 1, SEQ);
		__atomic_fetch_add(&p->zap_started, 1, SEQ);
	}
}

u64 ft_shadow_zaps(struct ft_shadow *sh, unsigned long page, bool *inflight)
{
	struct shadow_page *p = &sh->pages[page * FT_PAGE_WORDS];

	*inflight = __atomic_load_n(&p->zap_inflight, SEQ) ||
		    __atomic_load_n(&p->move_inflight, SEQ);
	return __atomic_load_n(&p->zap_started, SEQ) +
	       __atomic_load_n(&p->move_started, SEQ);
}

/*
 * After the zap, with the claim: if no other zap is in flight and the last
 * write was stored before any zap of the page began (so before this one),
 * the slot is zero now.
 */
static void zap_settle(struct ft_shadow *sh, unsigned long idx)
{
	struct shadow_page *p = &sh->pages[idx];
	u64 started = __atomic_load_n(&p->zap_started, SEQ);

	if (__atomic_load_n(&p->zap_inflight, SEQ) || p->w_zap_started == started ||
	    p->w_zap_end != p->w_zap_started || p->w_zap_inflight)
		return;
	note_episode(sh, idx);
	vset_set(&p->want, 0);
	p->w_zap_started = p->w_zap_end = started;
}

void ft_shadow_zap_end(struct ft_shadow *sh, unsigned long first, unsigned long nr,
		       bool zapped)
{
	first *= FT_PAGE_WORDS;
	nr *= FT_PAGE_WORDS;
	for (unsigned long i = first; i < first + nr && i < sh->nr_slots; i++) {
		__atomic_fetch_sub(&sh->pages[i].zap_inflight, 1, SEQ);
		if (zapped && ft_shadow_claim(sh, i)) {
			zap_settle(sh, i);
			ft_shadow_release(sh, i);
		}
	}
}

void ft_shadow_discard(struct ft_shadow *sh, unsigned long first, unsigned long nr)
{
	first *= FT_PAGE_WORDS;
	nr *= FT_PAGE_WORDS;
	for (unsigned long i = first; i < first + nr && i < sh->nr_slots; i++)
		__atomic_fetch_add(&sh->pages[i].discards, 1, SEQ);
}

void ft_shadow_swapout(struct ft_shadow *sh, unsigned long first, unsigned long nr)
{
	first *= FT_PAGE_WORDS;
	nr *= FT_PAGE_WORDS;
	for (unsigned long i = first; i < first + nr && i < sh->nr_slots; i++)
		__atomic_fetch_add(&sh->pages[i].swapouts, 1, SEQ);
}

void ft_shadow_clean_begin(struct ft_shadow *sh, unsigned long first, unsigned long nr)
{
	first *= FT_PAGE_WORDS;
	nr *= FT_PAGE_WORDS;
	for (unsigned long i = first; i < first + nr && i < sh->nr_slots; i++) {
		__atomic_fetch_add(&sh->pages[i].clean_inflight, 1, SEQ);
		__atomic_fetch_add(&sh->pages[i].clean_started, 1, SEQ);
	}
}

void ft_shadow_clean_end(struct ft_shadow *sh, unsigned long first, unsigned long nr)
{
	first *= FT_PAGE_WORDS;
	nr *= FT_PAGE_WORDS;
	for (unsigned long i = first; i < first + nr && i < sh->nr_slots; i++)
		__atomic_fetch_sub(&sh->pages[i].clean_inflight, 1, SEQ);
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
	ft_report_msg("BUG: mm id %u (tag %u): the PTE at %#lx is clean %s: a "
		"dirty bit was lost\n", mm->mm_id, sh->tag, ft_shadow_addr(sh, idx),
		when);
	fprintf(stderr, "pte: ");
	pte_describe(stderr, pte);
	fprintf(stderr, "\n");
	ft_report_end();
}

/* Has a zap or a clean of the slot begun since the counts @zaps, @cleans? */
static bool cleaned_since(const struct shadow_page *p, u64 zaps, u64 cleans)
{
	return __atomic_load_n(&p->zap_started, SEQ) != zaps ||
	       __atomic_load_n(&p->clean_started, SEQ) != cleans;
}

/* The dirty rule's: a zap, a clean or a swap-out since the noted write. */
static bool dirty_cleaned(const struct shadow_page *p)
{
	return cleaned_since(p, p->dirty_zaps, p->dirty_cleans) ||
	       __atomic_load_n(&p->swapouts, SEQ) != p->dirty_swapouts;
}

void ft_shadow_note_write(struct ft_shadow *sh, unsigned long idx,
			  const struct ft_shadow_write *wr, struct mm_struct *mm)
{
	struct shadow_page *p = &sh->pages[idx];
	pte_t pte;

	p->dirty_pfn = 0;
	/* A zap or MADV_FREE overlapped the write: nothing to expect. */
	if (wr->zap_inflight || wr->clean_inflight ||
	    cleaned_since(p, wr->zap_started, wr->clean_started) ||
	    __atomic_load_n(&p->zap_inflight, SEQ) ||
	    __atomic_load_n(&p->clean_inflight, SEQ))
		return;
	pte = shadow_pte(sh, idx, mm);
	/* Raced with one begun since, or a migration: nothing either. */
	if (cleaned_since(p, wr->zap_started, wr->clean_started) ||
	    !pte_present(pte) || pte_special(pte) ||
	    READ_ONCE(pfn_to_page(mm->pmem, pte_pfn(pte))->data[idx % FT_PAGE_WORDS]) !=
	    wr->value)
		return;
	/* A swap-out since the write was prepared: the entry is not ours. */
	if (__atomic_load_n(&p->swapouts, SEQ) != wr->swapouts)
		return;
	if (!pte_dirty(pte))
		report_clean(sh, idx, mm, pte, "right after a write through it");
	p->dirty_pfn = pte_pfn(pte) + 1;
	p->dirty_zaps = wr->zap_started;
	p->dirty_cleans = wr->clean_started;
	p->dirty_swapouts = wr->swapouts;
}

void ft_shadow_check_dirty(struct ft_shadow *sh, unsigned long idx, struct mm_struct *mm)
{
	struct shadow_page *p = &sh->pages[idx];
	pte_t pte;

	if (!p->dirty_pfn)
		return;
	/* The entry first, then the counts: a zap or MADV_FREE raises its
	 * count before it touches the entry, so one we saw shows here. */
	pte = shadow_pte(sh, idx, mm);
	if (dirty_cleaned(p))
		return;
	if (pte_present(pte) && pte_pfn(pte) == p->dirty_pfn - 1 && !pte_dirty(pte))
		report_clean(sh, idx, mm, pte, "though the page was written through it");
}

void ft_shadow_forget_dirty(struct ft_shadow *sh, unsigned long idx)
{
	sh->pages[idx].dirty_pfn = 0;
}

/* ---- Fork ---------------------------------------------------------------------- */

/*
 * With the claim: narrow a set of several values to what a read through
 * the live tables would return now, as such a read would (the oracle's
 * own look at memory: a value outside the set proves nothing and changes
 * nothing).  Without it every generation of unread slots would add a run
 * to its children's sets.
 */
static void narrow_by_look(struct ft_shadow *sh, unsigned long idx, struct mm_struct *mm)
{
	unsigned long addr = ft_shadow_addr(sh, idx), v = 0;
	spinlock_t *ptl;
	pte_t *ptep, pte = __pte(0);

	/* Under the PTL: a contpte conversion or an mprotect leaves an entry
	 * none for a moment, which a read would wait out. */
	ptep = pte_offset_map_lock(mm, pmd_off(mm, addr), addr, &ptl);
	if (ptep) {
		pte = __ptep_get(ptep);
		if (pte_present(pte))
			v = READ_ONCE(pfn_to_page(mm->pmem, pte_pfn(pte))->data[idx % FT_PAGE_WORDS]);
		pte_unmap_unlock(ptep, ptl);
	}
	/* A migration entry: the copy is under way.  None: a read faults in
	 * the zero page. */
	if (is_swap_pte(pte) || !vset_has(&sh->pages[idx].want, v))
		return;
	note_episode(sh, idx);
	vset_set(&sh->pages[idx].want, v);
}

/*
 * Each parent slot under its claim: a slot's fields are one state (a zap
 * settling it to zero, a read narrowing its set change several at once).
 * The child is not visible yet: its fields need no claim.
 */
void ft_shadow_fork_begin(struct ft_shadow *parent, struct ft_shadow *child,
			  struct mm_struct *mm)
{
	for (unsigned long i = 0; i < parent->nr_slots && i < child->nr_slots; i++) {
		struct shadow_page *p = &parent->pages[i], *c = &child->pages[i];

		claim_wait(parent, i);
		/*
		 * The counts first: zaps and cleans raise them without the
		 * claim, so one that begins while we copy the set below must
		 * show in ft_shadow_fork_copy() as a changed count.  Sampled
		 * after the set, a zap that began in between (and found its
		 * settle's claim taken by us) was in neither.
		 */
		c->fork_writes = __atomic_load_n(&p->writes, RLX);
		c->fork_zaps = __atomic_load_n(&p->zap_started, SEQ);
		c->fork_cleans = __atomic_load_n(&p->clean_started, SEQ);
		c->fork_zapping = __atomic_load_n(&p->zap_inflight, SEQ) != 0;
		c->fork_cleaning = __atomic_load_n(&p->clean_inflight, SEQ) != 0;
		c->fork_discards = __atomic_load_n(&p->discards, SEQ);
		c->fork_swapouts = __atomic_load_n(&p->swapouts, SEQ);
		if (!vset_single(&p->want))
			narrow_by_look(parent, i, mm);
		c->want = p->want;
		c->want.zero |= zapped_since_write(p) || discarded_since_write(p);
		/* The child's copy may be discarded as the parent's may. */
		c->w_clean_inflight = cleaned_since_write(p);
		/* The parent's dirty expectation, if nothing may have cleaned
		 * the entry since: fork copies the dirty bit. */
		c->dirty_pfn = dirty_cleaned(p) ? 0 : p->dirty_pfn;
		ft_shadow_release(parent, i);
	}
}

/*
 * Right after ft_fork(): what changed in the parent since each slot was
 * taken may or may not have reached the child.  No claims: the counts are
 * atomics, and a write counted late only widens the child's set.
 */
void ft_shadow_fork_copy(struct ft_shadow *child, struct ft_shadow *parent)
{
	for (unsigned long i = 0; i < parent->nr_slots && i < child->nr_slots; i++) {
		struct shadow_page *p = &parent->pages[i], *c = &child->pages[i];
		u32 writes = __atomic_load_n(&p->writes, RLX);
		bool zapped = c->fork_zapping ||
			      __atomic_load_n(&p->zap_started, SEQ) != c->fork_zaps;
		bool cleaned = c->fork_cleaning ||
			       __atomic_load_n(&p->clean_started, SEQ) != c->fork_cleans;

		bool discarded = __atomic_load_n(&p->discards, SEQ) != c->fork_discards;

		if (writes != c->fork_writes)
			vset_add_run(&c->want, i, parent->tag, c->fork_writes, writes);
		c->want.zero |= zapped || (discarded && (cleaned || c->w_clean_inflight));
		c->w_clean_inflight |= cleaned;
		if (zapped || cleaned || writes != c->fork_writes ||
		    __atomic_load_n(&p->swapouts, SEQ) != c->fork_swapouts)
			c->dirty_pfn = 0;
	}
}

/* ---- mremap ------------------------------------------------------------------- */

struct ft_shadow_move {
	unsigned long from, to, nr;	/* in slots */
	bool *gap;			/* per source page: no VMA, not moved */
	/* Per destination slot, before the move: the zap count, whether a
	 * zap other than the move's own was in flight, and whether the
	 * destination may be cleaned or zapped under the moved dirty entry. */
	u64 *zaps;
	bool *zapping, *cleaning;
	u64 *cleans;
	u64 *reclaims;		/* and its discards + swap-outs (2 per slot) */
};

static void claim_range(struct ft_shadow *sh, unsigned long first, unsigned long nr)
{
	for (unsigned long i = first; i < first + nr; i++)
		claim_wait(sh, i);
}

static void release_range(struct ft_shadow *sh, unsigned long first, unsigned long nr)
{
	for (unsigned long i = first; i < first + nr; i++)
		ft_shadow_release(sh, i);
}

/* A move of the page away begins: before the claims, as a zap's would. */
static void move_away_begin(struct shadow_page *p)
{
	__atomic_fetch_add(&p->move_inflight, 1, SEQ);
	__atomic_fetch_add(&p->move_started, 1, SEQ);
}

struct ft_shadow_move *ft_shadow_move_begin(struct ft_shadow *sh, unsigned long from,
					    unsigned long to, unsigned long nr,
					    const bool *gap)
{
	struct ft_shadow_move *m = calloc(1, sizeof(*m));
	unsigned long pages = nr;

	nr *= FT_PAGE_WORDS;
	from *= FT_PAGE_WORDS;
	to *= FT_PAGE_WORDS;
	if (!m || from + nr > sh->nr_slots || to + nr > sh->nr_slots ||
	    (from < to + nr && to < from + nr))
		goto fail;
	*m = (struct ft_shadow_move){ from, to, nr, calloc(pages, sizeof(bool)),
		calloc(nr, sizeof(u64)), calloc(nr, sizeof(bool)), calloc(nr, sizeof(bool)),
		calloc(nr, sizeof(u64)), calloc(2 * nr, sizeof(u64)) };
	if (!m->gap || !m->zaps || !m->zapping || !m->cleaning || !m->cleans ||
	    !m->reclaims)
		goto fail;
	memcpy(m->gap, gap, pages * sizeof(bool));
	/* remap_move() unmaps the destination of each moved piece only.  The
	 * source is unmapped too, for ft_shadow_zaps() (a pin there is no
	 * longer the process's page at that address), but not counted as a
	 * zap: its content goes to the destination, not away. */
	for (unsigned long i = 0; i < pages; i++) {
		if (gap[i])
			continue;
		ft_shadow_zap_begin(sh, to / FT_PAGE_WORDS + i, 1);
		move_away_begin(&sh->pages[from + i * FT_PAGE_WORDS]);
	}
	/* Ascending over both ranges (they do not overlap): no deadlock
	 * with another mover of this mm. */
	claim_range(sh, min(from, to), nr);
	claim_range(sh, max(from, to), nr);
	for (unsigned long i = 0; i < nr; i++) {
		struct shadow_page *p = &sh->pages[to + i];

		/* After the move's own zap began: a zap that begins later may
		 * take the moved page; one in flight now may too. */
		m->zaps[i] = __atomic_load_n(&p->zap_started, SEQ);
		m->zapping[i] = __atomic_load_n(&p->zap_inflight, SEQ) > 1;
		m->cleans[i] = __atomic_load_n(&p->clean_started, SEQ);
		m->cleaning[i] = __atomic_load_n(&p->clean_inflight, SEQ) != 0;
		m->reclaims[2 * i] = __atomic_load_n(&p->discards, SEQ);
		m->reclaims[2 * i + 1] = __atomic_load_n(&p->swapouts, SEQ);
	}
	return m;
fail:
	if (m) {
		free(m->reclaims);
		free(m->gap);
		free(m->zaps);
		free(m->zapping);
		free(m->cleaning);
		free(m->cleans);
	}
	free(m);
	return NULL;
}

/* With both claims: slot @f's content is at slot @t now. */
static void move_slot(struct ft_shadow *sh, struct ft_shadow_move *m, unsigned long i)
{
	struct shadow_page *f = &sh->pages[m->from + i], *t = &sh->pages[m->to + i];
	bool dirty = f->dirty_pfn && !m->zapping[i] && !m->cleaning[i] &&
		     !__atomic_load_n(&f->zap_inflight, SEQ) &&
		     !__atomic_load_n(&f->clean_inflight, SEQ) &&
		     !dirty_cleaned(f);

	note_episode(sh, m->to + i);
	note_episode(sh, m->from + i);
	t->want = f->want;
	t->want.zero |= zapped_since_write(f) || discarded_since_write(f);
	/* Reclaim may discard the moved content at either address, legally
	 * if MADV_FREE cleaned it since its write (at the source). */
	t->w_discards = m->reclaims[2 * i];
	t->w_clean_started = m->cleans[i];
	t->w_clean_inflight = cleaned_since_write(f) || m->cleaning[i];
	t->dirty_swapouts = m->reclaims[2 * i + 1];
	/*
	 * As a write's window: the move's from its begin to now.  A zap that
	 * began in it (MADV_DONTNEED does not take proc->move_lock) may have
	 * walked the destination before the mremap or after it; zap_settle()
	 * must not make zero the only value then.
	 */
	t->w_zap_started = m->zaps[i];
	t->w_zap_end = __atomic_load_n(&t->zap_started, SEQ);
	t->w_zap_inflight = m->zapping[i];
	/* move_ptes carries the dirty bit with the entry. */
	t->dirty_pfn = dirty ? f->dirty_pfn : 0;
	t->dirty_zaps = m->zaps[i];
	t->dirty_cleans = m->cleans[i];
	/* The source is unmapped: zero once something maps it again. */
	vset_set(&f->want, 0);
	f->w_zap_started = f->w_zap_end = __atomic_load_n(&f->zap_started, SEQ);
	f->w_zap_inflight = false;
	f->dirty_pfn = 0;
}

/* A failed mremap may have moved some pieces: either side may hold
 * anything it or the other held, or zero.  Counted as widened. */
static void move_failed(struct ft_shadow *sh, struct ft_shadow_move *m, unsigned long i)
{
	struct shadow_page *f = &sh->pages[m->from + i], *t = &sh->pages[m->to + i];

	note_episode(sh, m->to + i);
	note_episode(sh, m->from + i);
	f->want.any = t->want.any = true;
	f->dirty_pfn = t->dirty_pfn = 0;
	__atomic_fetch_add(&n_widened, 2, RLX);
}

void ft_shadow_move_end(struct ft_shadow *sh, struct ft_shadow_move *m, int result)
{
	/* -EFAULT and -EINVAL come before anything is unmapped or moved. */
	bool untouched = result == -EFAULT || result == -EINVAL;

	for (unsigned long i = 0; i < m->nr && !untouched; i++) {
		if (m->gap[i / FT_PAGE_WORDS])
			continue;
		if (!result)
			move_slot(sh, m, i);
		else
			move_failed(sh, m, i);
	}
	release_range(sh, m->from, m->nr);
	release_range(sh, m->to, m->nr);
	/* The move's own unmap of the destination ends: nothing to settle,
	 * the destination's content is the source's. */
	for (unsigned long i = 0; i < m->nr / FT_PAGE_WORDS; i++) {
		if (m->gap[i])
			continue;
		ft_shadow_zap_end(sh, m->to / FT_PAGE_WORDS + i, 1, false);
		__atomic_fetch_sub(&sh->pages[m->from + i * FT_PAGE_WORDS].move_inflight, 1,
				   SEQ);
	}
	free(m->gap);
	free(m->zaps);
	free(m->zapping);
	free(m->cleaning);
	free(m->cleans);
	free(m->reclaims);
	free(m);
}
