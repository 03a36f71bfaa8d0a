// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stop-the-world audit (include/ft/check.h).
 *
 * Correctness argument: at rest (no operation in progress, every
 * mmu_gather flushed) each reference and each mapcount of a folio is owned
 * by exactly one page-table entry, except pins, which are counted in the
 * folio itself (large) or by the refcount bias (small).  So counting the
 * entries that map each folio gives the exact expected mapcount and
 * refcount, and the owner slots can be compared with the exact number of
 * mappings of each MM.  Migration entries hold neither mapcount nor
 * reference and are counted only in rss.  Swap entries hold a count of
 * their swap slot each, and a folio in the swap cache one reference per
 * page and its slots' SWAP_HAS_CACHE: so every slot's count is the number
 * of swap entries that refer to it (I17).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ft/check.h"
#include "ft/contpte.h"
#include "ft/mapcount.h"
#include "ft/report.h"
#include "ft/swap.h"

/* What the page tables say about one folio. */
struct audit_folio {
	struct folio *folio;
	int mappings;
	int nr_mms;
	struct {
		struct mm_struct *mm;
		int count;
	} *per_mm;
	int cap_mm;
};

/* A mapping whose rmap reachability is checked after the PTL is dropped
 * (the anon_vma lock ranks above the PTL). */
struct audit_rmap {
	struct folio *folio;
	struct anon_vma *anon_vma;
	struct vm_area_struct *vma;
	unsigned long addr;
};

struct audit {
	struct ft_world *w;
	struct ft_audit_stats *st;
	int failures;
	int *page_count;		/* mappings per pfn */
	int *swap_count;		/* swap entries per swap slot */
	struct audit_folio **by_head;	/* by head pfn */
	struct audit_rmap *rmaps;
	size_t nr_rmaps, cap_rmaps;
};

/* A failure; @page (may be NULL) is dumped with its folio. */
static void vaudit_fail(struct audit *a, struct page *page, const char *fmt, va_list ap)
{
	char msg[FT_REPORT_MSG_LEN];

	a->failures++;
	if (!ft_report_begin("audit"))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	ft_report_msg("audit: %s\n", msg);
	if (page)
		dump_page(stderr, page, "audit");
	ft_report_end();
}

static void __printf(3, 4) audit_fail(struct audit *a, struct folio *folio,
				      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vaudit_fail(a, folio ? folio->page : NULL, fmt, ap);
	va_end(ap);
}

/* A failure of one page of a folio: that page is dumped, not the first. */
static void __printf(3, 4) audit_fail_page(struct audit *a, struct page *page,
					   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vaudit_fail(a, page, fmt, ap);
	va_end(ap);
}

static struct audit_folio *audit_folio_get(struct audit *a, struct folio *folio)
{
	unsigned long head = folio_pfn(folio);
	struct audit_folio *af = a->by_head[head];

	if (!af) {
		af = calloc(1, sizeof(*af));
		if (!af)
			return NULL;
		af->folio = folio;
		a->by_head[head] = af;
		a->st->folios++;
	}
	return af;
}

static void audit_count_mm(struct audit_folio *af, struct mm_struct *mm)
{
	if (af->nr_mms && af->per_mm[af->nr_mms - 1].mm == mm) {
		af->per_mm[af->nr_mms - 1].count++;
		return;
	}
	for (int i = 0; i < af->nr_mms; i++) {
		if (af->per_mm[i].mm == mm) {
			af->per_mm[i].count++;
			return;
		}
	}
	if (af->nr_mms == af->cap_mm) {
		int cap = af->cap_mm ? 2 * af->cap_mm : 4;
		void *p = realloc(af->per_mm, cap * sizeof(*af->per_mm));

		if (!p)
			return;
		af->per_mm = p;
		af->cap_mm = cap;
	}
	af->per_mm[af->nr_mms].mm = mm;
	af->per_mm[af->nr_mms++].count = 1;
}

/* Is @vma linked to @anon_vma, so an rmap walk of its folios finds it? */
static bool rmap_reaches(struct anon_vma *anon_vma, struct vm_area_struct *vma)
{
	struct anon_vma_chain *avc;
	bool found = false;

	anon_vma_lock_read(anon_vma);
	list_for_each_entry(avc, &anon_vma->head, same_anon_vma)
		found |= avc->vma == vma;
	anon_vma_unlock_read(anon_vma);
	return found;
}

static void audit_present(struct audit *a, struct vm_area_struct *vma,
			  unsigned long addr, pte_t pte, long *anon)
{
	struct mm_struct *mm = vma->vm_mm;
	struct page *page = pfn_to_page(mm->pmem, pte_pfn(pte));
	struct folio *folio = page_folio(page);
	struct audit_folio *af;
	unsigned long mapping;

	a->st->ptes++;
	if (pte_special(pte))		/* the zero page: no ref, no rmap */
		return;
	if (!folio) {
		audit_fail(a, NULL, "mm id %u maps free pfn %#lx at %#lx", mm->mm_id,
			   pte_pfn(pte), addr);
		return;
	}
	(*anon)++;
	a->page_count[pte_pfn(pte)]++;
	af = audit_folio_get(a, folio);
	if (!af)
		return;
	af->mappings++;
	audit_count_mm(af, mm);
	if (pte_write(pte) && !PageAnonExclusive(page))
		audit_fail_page(a, page, "I11: writable PTE at %#lx (mm id %u) maps a page "
				"that is not AnonExclusive", addr, mm->mm_id);
	mapping = READ_ONCE(folio->mapping);
	if (!(mapping & PAGE_MAPPING_ANON))
		return;
	/* Without one, rmap walkers cannot find the page and fork skips
	 * the VMA (vma_needs_copy): the child would lose it. */
	if (!READ_ONCE(vma->anon_vma))
		audit_fail(a, folio, "rmap: VMA [%#lx, %#lx) of mm id %u maps anon "
			   "pages but has no anon_vma", vma->vm_start, vma->vm_end,
			   mm->mm_id);
	if (!(mapping & ~PAGE_MAPPING_ANON)) {
		audit_fail(a, folio, "rmap: anon folio mapped at %#lx (mm id %u) has "
			   "no anon_vma", addr, mm->mm_id);
		return;
	}
	if (a->nr_rmaps == a->cap_rmaps) {
		size_t cap = a->cap_rmaps ? 2 * a->cap_rmaps : 256;
		void *p = realloc(a->rmaps, cap * sizeof(*a->rmaps));

		if (!p)
			return;
		a->rmaps = p;
		a->cap_rmaps = cap;
	}
	a->rmaps[a->nr_rmaps++] = (struct audit_rmap){
		folio, (struct anon_vma *)(mapping & ~PAGE_MAPPING_ANON), vma, addr,
	};
}

static void audit_rmaps(struct audit *a)
{
	for (size_t i = 0; i < a->nr_rmaps; i++) {
		struct audit_rmap *r = &a->rmaps[i];

		if (!rmap_reaches(r->anon_vma, r->vma))
			audit_fail(a, r->folio, "rmap: the mapping at %#lx (mm id %u) "
				   "is not linked to its folio's anon_vma", r->addr,
				   r->vma->vm_mm->mm_id);
	}
}

static bool addr_in_vmas(struct vm_area_struct **vmas, int n, unsigned long addr,
			 struct vm_area_struct **vma)
{
	for (int i = 0; i < n; i++) {
		if (vmas[i]->vm_start <= addr && addr < vmas[i]->vm_end) {
			*vma = vmas[i];
			return true;
		}
	}
	return false;
}

/*
 * A present entry gives no access its VMA does not allow: write only with
 * VM_WRITE (mm/memory.c maybe_mkwrite(); mm/mprotect.c change_pte_range()
 * drops it through pte_modify(), and turns writable migration entries into
 * readable ones so that remove_migration_pte() cannot bring it back), and
 * no valid entry in a PROT_NONE VMA (arm64's PAGE_NONE is present but not
 * valid: the hardware must fault).  Fewer rights than the VMA's are fine
 * (COW, NUMA hinting).
 */
static void audit_prot(struct audit *a, struct vm_area_struct *vma,
		       unsigned long addr, pte_t pte)
{
	unsigned long flags = vma_flags(vma);

	if (pte_write(pte) && !(flags & VM_WRITE))
		audit_fail(a, NULL, "mm id %u: writable entry %#llx at %#lx in a VMA "
			   "without VM_WRITE", vma->vm_mm->mm_id,
			   (unsigned long long)pte_val(pte), addr);
	if (pte_valid(pte) && !(flags & (VM_READ | VM_WRITE)))
		audit_fail(a, NULL, "mm id %u: valid entry %#llx at %#lx in a PROT_NONE "
			   "VMA", vma->vm_mm->mm_id, (unsigned long long)pte_val(pte),
			   addr);
}

static void audit_table(struct audit *a, struct mm_struct *mm, struct ptdesc *pt,
			struct vm_area_struct **vmas, int nr_vmas, long *anon,
			long *swapents)
{
	spin_lock(&pt->ptl);
	for (unsigned int i = 0; i < PTRS_PER_PTE; i++) {
		unsigned long addr = pt->addr + i * PAGE_SIZE;
		pte_t pte = __ptep_get(&pt->ptes[i]);
		struct vm_area_struct *vma;

		if (pte_none(pte))
			continue;
		if (!addr_in_vmas(vmas, nr_vmas, addr, &vma)) {
			audit_fail(a, NULL, "mm id %u: entry %#llx at %#lx outside any VMA",
				   mm->mm_id, (unsigned long long)pte_val(pte), addr);
			continue;
		}
		if (is_migration_entry(pte)) {
			a->st->migration_entries++;
			(*anon)++;
		} else if (is_swapfile_entry(pte)) {
			(*swapents)++;
			if (pte_swp_offset(pte) < mm->pmem->si->max)
				a->swap_count[pte_swp_offset(pte)]++;
			else
				audit_fail(a, NULL, "mm id %u: swap entry %#llx at %#lx beyond "
					   "the device", mm->mm_id,
					   (unsigned long long)pte_val(pte), addr);
		} else if (pte_present(pte)) {
			audit_prot(a, vma, addr, pte);
			audit_present(a, vma, addr, pte, anon);
		} else {
			audit_fail(a, NULL, "mm id %u: entry %#llx at %#lx is neither "
				   "present, a migration entry nor a swap entry",
				   mm->mm_id, (unsigned long long)pte_val(pte), addr);
		}
		if (pte_cont(pte) && i % CONT_PTES == 0) {
			a->st->cont_blocks++;
			if (!contpte_check_block(mm, &pt->ptes[i]))
				a->failures++;
		}
	}
	spin_unlock(&pt->ptl);
}

static void audit_mm(struct audit *a, struct mm_struct *mm)
{
	struct vm_area_struct *vmas[MAX_VMAS];
	int nr_vmas;
	long anon = 0, swapents = 0;

	mmap_read_lock(mm);
	nr_vmas = mm_vmas_sorted(mm, vmas);
	for (unsigned long i = 0; i < mm->task_size >> PMD_SHIFT; i++) {
		struct ptdesc *pt = pmdp_get_lockless(&mm->pgd[i]);

		if (pt)
			audit_table(a, mm, pt, vmas, nr_vmas, &anon, &swapents);
	}
	if (swapents != get_mm_counter(mm, MM_SWAPENTS))
		audit_fail(a, NULL, "mm id %u: rss MM_SWAPENTS %ld, %ld swap entries",
			   mm->mm_id, get_mm_counter(mm, MM_SWAPENTS), swapents);
	if (anon != get_mm_counter(mm, MM_ANONPAGES))
		audit_fail(a, NULL, "mm id %u: rss MM_ANONPAGES %ld, %ld anon entries",
			   mm->mm_id, get_mm_counter(mm, MM_ANONPAGES), anon);
	mmap_read_unlock(mm);
}

/* How many times the tables say mm id @id maps the folio. */
static int audit_mm_mappings(const struct audit_folio *af, mm_id_t id)
{
	for (int j = 0; j < af->nr_mms; j++)
		if (af->per_mm[j].mm->mm_id == id)
			return af->per_mm[j].count;
	return 0;
}

/*
 * Does every mapping of the folio sit in an owner slot: the slots sum to
 * the mapcount, which is what the tables map, and each slot counts exactly
 * its MM's mappings?  Never for a model without slots.
 */
static bool slots_count_every_mapping(const struct audit_folio *af,
				      const struct ft_mapcount_snapshot *s)
{
	int sum = 0;

	for (int i = 0; i < s->nr_slots; i++) {
		if (!s->slot[i].id)
			continue;
		if (s->slot[i].mapcount != audit_mm_mappings(af, s->slot[i].id))
			return false;
		sum += s->slot[i].mapcount;
	}
	return s->nr_slots && sum == s->mapcount && sum == af->mappings;
}

/*
 * I9, exactness (P-d; FT_MC_EXACT_TWO_MMS).  Upstream promises it while at
 * most two MMs have mapped the folio at once since it was last fully
 * unmapped; the audit sees only the present, so it checks what it can see:
 * when the slots count every mapping, SHARED is set iff two MMs map the
 * folio.  Why folio_add_return_large_mapcount() and
 * folio_sub_return_large_mapcount() (include/linux/rmap.h) guarantee that:
 * with both slots taken, SHARED is set (I6).  With one, A's: a slot moves
 * only with its own MM's adds and subs, so it is A's mappings less those A
 * had when it took the slot; as it is exact, A had none then.  If no other
 * MM mapped the folio then either, it was unmapped, so SHARED was clear
 * (I8), and taking a slot then does not set it.  Else the others' mappings
 * all went later, the last of them by an unmapping that freed its MM's
 * slot or was untracked (a slot never overstates, I4, so it cannot outlive
 * its MM's mappings): that unmapping re-evaluates, finds A's slot equal to
 * the total and clears SHARED.  After it only A maps, through its own
 * slot, which never sets SHARED.
 */
static void audit_exact(struct audit *a, struct audit_folio *af,
			const struct ft_mapcount_snapshot *s)
{
	/* The other half, SHARED clear with two MMs each in its slot, is
	 * both slots taken: I6 reports it. */
	if (s->shared && af->nr_mms < 2 && slots_count_every_mapping(af, s))
		audit_fail(a, af->folio, "P-d: SHARED set, but one MM maps it and its "
			   "slot counts all %d mappings", s->mapcount);
}

/*
 * "Mapped shared" against the tables, asked of each MM that maps the folio
 * (a model may need the asker, as rmap_id does): a false positive when one
 * MM maps it and is told it is shared, a false negative when several do
 * and one is told it maps it alone.  I7/P-c: no false negative, for a
 * model that claims none; R3: no false positive while the folio is mapped
 * at most nr_pages times, for a model that claims that.
 */
static void audit_mapped_shared(struct audit *a, struct audit_folio *af, int mapcount,
				unsigned int caps)
{
	struct folio *folio = af->folio;

	a->st->shared_checked++;
	if (af->nr_mms == 1) {
		if (!folio_mapped_shared(folio, af->per_mm[0].mm))
			return;
		a->st->false_positives++;
		if ((caps & FT_MC_EXACT_NR_PAGES) && mapcount <= (int)folio_nr_pages(folio))
			audit_fail(a, folio, "R3: one MM maps it %d times, but the model "
				   "says shared", mapcount);
		return;
	}
	for (int i = 0; i < af->nr_mms; i++) {
		struct mm_struct *mm = af->per_mm[i].mm;

		if (folio_mapped_shared(folio, mm))
			continue;
		a->st->false_negatives++;
		if (caps & FT_MC_NO_FALSE_NEGATIVE)
			audit_fail(a, folio, "P-c: %d MMs map it, but the model tells mm id "
				   "%u it maps it alone", af->nr_mms, mm->mm_id);
		return;
	}
}

static void audit_slots(struct audit *a, struct audit_folio *af)
{
	unsigned int caps = folio_mc(af->folio)->caps;
	struct ft_mapcount_snapshot s;

	folio_mapcount_snapshot(af->folio, &s);
	for (int i = 0; i < s.nr_slots; i++) {
		int truth;

		if (!s.slot[i].id)
			continue;
		truth = audit_mm_mappings(af, s.slot[i].id);
		if (s.slot[i].mapcount > truth)
			audit_fail(a, af->folio, "I4: slot %d says %d mappings of mm id "
				   "%u, the tables have %d", i, s.slot[i].mapcount,
				   s.slot[i].id, truth);
	}
	if (s.mapcount >= 2 && af->nr_mms)
		audit_mapped_shared(a, af, s.mapcount, caps);
	if (s.nr_slots && s.slot[0].id && s.slot[1].id && !s.shared)
		audit_fail(a, af->folio, "I6: both slots taken, SHARED clear");
	if (caps & FT_MC_EXACT_TWO_MMS)
		audit_exact(a, af, &s);
}

/* Allocated and not freed: the head page points back, references held. */
static bool folio_live(struct folio *folio)
{
	return page_folio(folio->page) == folio && folio_ref_count(folio) > 0;
}

/* A swap cache folio holds its slots: its references for them (I17). */
static int audit_swapcache_folio(struct audit *a, struct folio *folio)
{
	struct swap_info_struct *si = a->w->pmem->si;
	unsigned long start = READ_ONCE(folio->swap);
	int nr = (int)folio_nr_pages(folio);

	if (start + (unsigned long)nr > si->max || start % (unsigned long)nr) {
		audit_fail(a, folio, "I17: swap cache folio at bad slot %#lx", start);
		return nr;
	}
	for (int i = 0; i < nr; i++)
		if (READ_ONCE(si->cache[start + (unsigned long)i]) != folio)
			audit_fail(a, folio, "I17: swap cache folio, but slot %#lx does "
				   "not hold it", start + (unsigned long)i);
	return nr;
}

/*
 * I17, the swap device, the workers parked: each slot's count is the
 * number of swap entries that refer to it, SWAP_HAS_CACHE is set exactly
 * when a live swap cache folio holds the slot, free slots are counted
 * right; and each such folio is audited (its references), mapped or not.
 */
static void audit_swap(struct audit *a)
{
	struct swap_info_struct *si = a->w->pmem->si;
	unsigned long inuse = 0;

	spin_lock(&si->swap_lock);
	for (unsigned long off = 0; off < si->max; off++) {
		unsigned short map = READ_ONCE(si->swap_map[off]);
		struct folio *folio = READ_ONCE(si->cache[off]);

		inuse += map != 0;
		if ((map & SWAP_COUNT_MASK) != a->swap_count[off])
			audit_fail(a, NULL, "I17: swap slot %#lx: count %u, but %d swap "
				   "entries refer to it", off, map & SWAP_COUNT_MASK,
				   a->swap_count[off]);
		if (!(map & SWAP_HAS_CACHE) != !folio)
			audit_fail(a, folio, "I17: swap slot %#lx: SWAP_HAS_CACHE %s, "
				   "cache folio %s", off, map & SWAP_HAS_CACHE ? "set" : "clear",
				   folio ? "present" : "absent");
		if (!folio)
			continue;
		if (!folio_live(folio) || !folio_test_swapcache(folio) ||
		    off - READ_ONCE(folio->swap) >= folio_nr_pages(folio))
			audit_fail(a, folio, "I17: swap slot %#lx held by a folio that is "
				   "freed or not its swap cache folio", off);
		else if (off == READ_ONCE(folio->swap))
			audit_folio_get(a, folio);	/* its references, below */
	}
	if (inuse != si->inuse_pages)
		audit_fail(a, NULL, "I17: %lu swap slots in use, the device counts %lu",
			   inuse, si->inuse_pages);
	spin_unlock(&si->swap_lock);
}

static void audit_folio(struct audit *a, struct audit_folio *af)
{
	struct folio *folio = af->folio;
	int refs = folio_ref_count(folio), pins = 0, mapped_pages = 0, cache = 0;
	bool large = folio_test_large(folio);

	if (folio_test_swapcache(folio))
		cache = audit_swapcache_folio(a, folio);
	if (folio_mapcount(folio) != af->mappings)
		audit_fail(a, folio, "I2: mapcount %d, the tables map it %d times",
			   folio_mapcount(folio), af->mappings);
	for (unsigned long i = 0; i < folio_nr_pages(folio); i++) {
		struct page *page = folio_page(folio, i);
		int n = a->page_count[page_to_pfn(page)];

		mapped_pages += n > 0;
		if (large && folio_uses_page_mapcount(folio) &&
		    atomic_read(&page->_mapcount) + 1 != n)
			audit_fail_page(a, page, "I2: page %lu mapcount %d, mapped %d times",
					i, atomic_read(&page->_mapcount) + 1, n);
		if (PageAnonExclusive(page) && n > 1)
			audit_fail_page(a, page, "I11: page %lu AnonExclusive, mapped %d "
					"times", i, n);
	}
	if (large && folio_uses_page_mapcount(folio) &&
	    atomic_read(&folio->_nr_pages_mapped) != mapped_pages)
		audit_fail(a, folio, "I2: _nr_pages_mapped %d, %d pages mapped",
			   atomic_read(&folio->_nr_pages_mapped), mapped_pages);
	/* Pins: counted in the folio (large) or as a refcount bias (small). */
	if (large)
		pins = atomic_read(&folio->_pincount);
	else if (refs > af->mappings + cache)
		pins = (refs - af->mappings - cache) / GUP_PIN_COUNTING_BIAS *
		       GUP_PIN_COUNTING_BIAS;
	if (refs != af->mappings + pins + cache)
		audit_fail(a, folio, "I1: refcount %d, %d mappings, %d pins and %d "
			   "swap cache references", refs, af->mappings, pins, cache);
	if (large)
		audit_slots(a, af);
}

/* The folio whose _deferred_list @entry is, or NULL if it is none. */
static struct folio *deferred_entry_folio(struct ft_pmem *pmem,
					  struct list_head *entry)
{
	uintptr_t base = (uintptr_t)&pmem->folios[0]._deferred_list;
	uintptr_t off = (uintptr_t)entry - base;

	if ((uintptr_t)entry < base || off % sizeof(struct folio) ||
	    off / sizeof(struct folio) >= pmem->nr_pfns)
		return NULL;
	return &pmem->folios[off / sizeof(struct folio)];
}

/*
 * Walk the queue (mm/huge_memory.c deferred_split_scan() walks it so)
 * marking each folio in @queued: every link must point back, no folio may
 * come twice (so the walk ends), and each member must be live (the free
 * path unqueues, __folio_unqueue_deferred_split()) and a large anon folio
 * of order > 1 (deferred_split_folio() queues nothing else).  How many
 * folios it found, or -1 if the list is broken.
 */
static long audit_split_queue(struct audit *a, struct deferred_split *ds,
			      bool *queued)
{
	struct ft_pmem *pmem = a->w->pmem;
	struct list_head *head = &ds->split_queue, *prev = head, *pos;
	long n = 0;

	for (pos = head->next; pos != head; prev = pos, pos = pos->next, n++) {
		struct folio *folio = deferred_entry_folio(pmem, pos);

		if (!folio || pos->prev != prev || queued[folio_pfn(folio)])
			break;
		queued[folio_pfn(folio)] = true;
		if (!folio_live(folio))
			audit_fail(a, NULL, "deferred split: freed folio (pfn %#lx) on "
				   "the queue", folio_pfn(folio));
		else if (!folio_test_anon(folio) || folio_order(folio) <= 1)
			audit_fail(a, folio, "deferred split: queued, but not anon of "
				   "order > 1");
	}
	if (pos == head && head->prev == prev)
		return n;
	audit_fail(a, NULL, "deferred split: the queue's links are broken after %ld "
		   "entries", n);
	return -1;
}

/*
 * The deferred-split queue, under its lock: a sound list whose length is
 * split_queue_len, and no folio linked that is not on it (freed ones
 * included: a link left behind makes the next user of the descriptor look
 * queued).
 */
static void audit_deferred_split(struct audit *a)
{
	struct ft_pmem *pmem = a->w->pmem;
	struct deferred_split *ds = &pmem->ds;
	bool *queued = calloc(pmem->nr_pfns, sizeof(*queued));
	long n;

	if (!queued) {
		audit_fail(a, NULL, "out of memory");
		return;
	}
	spin_lock(&ds->split_queue_lock);
	n = audit_split_queue(a, ds, queued);
	if (n >= 0 && (unsigned long)n != ds->split_queue_len)
		audit_fail(a, NULL, "deferred split: split_queue_len %lu, %ld folios on "
			   "the queue", ds->split_queue_len, n);
	for (unsigned long pfn = 0; n >= 0 && pfn < pmem->nr_pfns; pfn++) {
		if (!queued[pfn] && !list_empty(&pmem->folios[pfn]._deferred_list))
			audit_fail(a, NULL, "deferred split: pfn %#lx is linked, but not "
				   "on the queue", pfn);
	}
	spin_unlock(&ds->split_queue_lock);
	free(queued);
}

int ft_audit(struct ft_world *w, struct mm_struct **mms, int nr_mms,
	     struct ft_audit_stats *stats)
{
	struct ft_audit_stats local = { 0 };
	unsigned long nr_pfns = w->pmem->nr_pfns;
	struct audit a = {
		.w = w, .st = stats ? stats : &local,
		.page_count = calloc(nr_pfns, sizeof(int)),
		.by_head = calloc(nr_pfns, sizeof(struct audit_folio *)),
		.swap_count = calloc(w->pmem->si->max, sizeof(int)),
	};

	if (!a.page_count || !a.by_head || !a.swap_count) {
		audit_fail(&a, NULL, "out of memory");
		goto out;
	}
	*a.st = (struct ft_audit_stats){ 0 };
	for (int i = 0; i < nr_mms; i++)
		audit_mm(&a, mms[i]);
	audit_rmaps(&a);
	audit_swap(&a);
	for (unsigned long pfn = 0; pfn < nr_pfns; pfn++) {
		struct audit_folio *af = a.by_head[pfn];

		if (!af)
			continue;
		audit_folio(&a, af);
		free(af->per_mm);
		free(af);
	}
	audit_deferred_split(&a);
out:
	free(a.rmaps);
	free(a.page_count);
	free(a.swap_count);
	free(a.by_head);
	return a.failures;
}
