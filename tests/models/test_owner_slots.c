// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_owner_slots: the owner-slot model against a ground truth.
 *
 *   test_owner_slots [--model=NAME] [--mms=N] [--seqs=N] [--steps=N] [--seed=S]
 *                    [--no-page-mapcount] [--inject=NAME]
 *   test_owner_slots [--model=NAME] --case=cover-letter [--no-page-mapcount]
 *   test_owner_slots [--model=NAME] --case=count-underflow
 *
 * Each sequence allocates one folio (anon or file, order 0..4) and drives
 * it through random rmap calls made by N simulated MMs: new anon mapping,
 * fork's dup (with pins, so -EBUSY happens), re-adds, file adds and dups,
 * removals, pins and COW-reuse queries, then unmaps everything and frees
 * it.  The test keeps the truth, the number of mappings per (MM, page), and
 * after every step checks the folio against it (ids: doc/invariants.md):
 *   I1 refcount, I2 mapcounts and _nr_pages_mapped, I3/I5/I6/I8/I10 slot
 *   structure, I4 no slot overstates its MM, I11 AnonExclusive pages mapped
 *   by one MM, P-c no false negative, always, P-d exact while at most two
 *   MMs have mapped at once since the last full unmap, I12 COW reuse only
 *   when truly exclusive (and never refused in the exact regime), the
 *   deferred-split rule (I13, B5), and that no inline check fired.
 * The cover-letter case replays the 3-MM false positive of the series'
 * cover letter (P-d; "[PATCH v3 00/20] mm: MM owner tracking for large
 * folios (!hugetlb) + CONFIG_NO_PAGE_MAPCOUNT", March 2025); for a model
 * exact up to nr_pages mappings (rmap_id) the same steps must leave no
 * false positive, and App3 reuses.
 *
 * The count-underflow case is the negative control of the model's own
 * I3 check: a slot count set below -1 behind its back, the next update
 * must report it.
 *
 * --model picks the model (owner_slots by default); P-c, P-d and R3 (asked
 * of each mapping MM), and reuse never refused in an exact regime, are
 * checked only for a model whose caps claim them.  A model that cannot
 * track some orders (rmap_id) gets folios of the others.
 */
#include <errno.h>

#include "ft/zoo.h"
#include "mm_test.h"

#define MAX_MMS		8
#define MAX_ORDER	4
#define MAX_PAGES	(1 << MAX_ORDER)
#define NR_PFNS		(4UL << MAX_PAGE_ORDER)

struct truth {
	struct folio *folio;
	bool anon;
	int nr;
	int base;			/* refs not from mappings (page cache) */
	int count[MAX_MMS][MAX_PAGES];	/* mappings per MM and page */
	int pins;
	int maxconc;			/* most MMs at once since fully unmapped */
};

struct world {
	struct ft_pmem pmem;
	struct mm_id_space ids;
	struct test_mm mm[MAX_MMS];
	int nr_mms;
	struct ft_random_state rs;
	int seq, step;
	const char *op;
	u64 failures;
	/* How often the interesting paths ran: a test that never reaches a
	 * path cannot fail there. */
	u64 n_ebusy, n_reuse, n_reuse_refused, n_queued, n_untracked, n_false_pos;
};

/* ---- The truth ----------------------------------------------------------------- */

static int mm_total(const struct truth *t, int m)
{
	int n = 0;

	for (int i = 0; i < t->nr; i++)
		n += t->count[m][i];
	return n;
}

static int page_total(const struct truth *t, int page)
{
	int n = 0;

	for (int m = 0; m < MAX_MMS; m++)
		n += t->count[m][page];
	return n;
}

static int total(const struct truth *t)
{
	int n = 0;

	for (int i = 0; i < t->nr; i++)
		n += page_total(t, i);
	return n;
}

static int nr_mappers(const struct truth *t)
{
	int n = 0;

	for (int m = 0; m < MAX_MMS; m++)
		n += mm_total(t, m) > 0;
	return n;
}

static int mm_of_id(const struct world *w, mm_id_t id)
{
	for (int m = 0; m < w->nr_mms; m++)
		if (w->mm[m].mm.mm_id == id)
			return m;
	return -1;
}

static void update_maxconc(struct truth *t)
{
	t->maxconc = total(t) ? max(t->maxconc, nr_mappers(t)) : 0;
}

/* ---- Checking ------------------------------------------------------------------- */

static void __printf(3, 4) fail(struct world *w, struct truth *t, const char *fmt, ...)
{
	va_list ap;

	if (++w->failures > 5)
		return;
	printf("# FAIL seq %d step %d after %s: ", w->seq, w->step, w->op);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (t->folio)
		dump_folio(stdout, t->folio, "test_owner_slots");
}

#define EXPECT(w, t, cond, ...)						\
	do {								\
		if (!(cond))						\
			fail((w), (t), __VA_ARGS__);			\
	} while (0)

static void check_counts(struct world *w, struct truth *t)
{
	struct folio *f = t->folio;
	bool large = folio_test_large(f), per_page = folio_uses_page_mapcount(f);
	int mapped_pages = 0;

	EXPECT(w, t, folio_mapcount(f) == total(t), "I2: mapcount %d, truth %d",
	       folio_mapcount(f), total(t));
	for (int i = 0; i < t->nr && large; i++) {
		int pc = atomic_read(&folio_page(f, i)->_mapcount) + 1;

		mapped_pages += page_total(t, i) > 0;
		EXPECT(w, t, pc == (per_page ? page_total(t, i) : 0),
		       "I2: page %d mapcount %d, truth %d", i, pc, page_total(t, i));
	}
	if (large)
		EXPECT(w, t, atomic_read(&f->_nr_pages_mapped) ==
		       (per_page ? mapped_pages : 0), "I2: _nr_pages_mapped %d, truth %d",
		       atomic_read(&f->_nr_pages_mapped), mapped_pages);
	EXPECT(w, t, folio_ref_count(f) ==
	       t->base + total(t) + t->pins * (large ? 1 : GUP_PIN_COUNTING_BIAS),
	       "I1: refcount %d, truth %d mappings %d pins", folio_ref_count(f),
	       total(t), t->pins);
	for (int i = 0; i < t->nr && t->anon; i++) {
		int mappers = 0;

		for (int m = 0; m < MAX_MMS; m++)
			mappers += t->count[m][i] > 0;
		EXPECT(w, t, !PageAnonExclusive(folio_page(f, i)) || mappers <= 1,
		       "I11: page %d AnonExclusive, mapped by %d MMs", i, mappers);
	}
}

/* P-c and R3 asked of each MM that maps the folio, as the audit asks. */
static void check_mapped_shared(struct world *w, struct truth *t, int mapcount,
				unsigned int caps)
{
	int mappers = nr_mappers(t);

	for (int m = 0; m < w->nr_mms && mapcount >= 2; m++) {
		bool shared;

		if (!mm_total(t, m))
			continue;
		shared = folio_mapped_shared(t->folio, w->mm[m].vma.vm_mm);
		EXPECT(w, t, !(caps & FT_MC_NO_FALSE_NEGATIVE) || mappers <= 1 || shared,
		       "P-c: mm %d told it maps alone, but %d MMs map", m, mappers);
		EXPECT(w, t, !(caps & FT_MC_EXACT_NR_PAGES) || mappers > 1 ||
		       mapcount > t->nr || !shared,
		       "R3: mm %d maps it alone %d times, told shared", m, mapcount);
	}
}

static void check_slots(struct world *w, struct truth *t)
{
	unsigned int caps = folio_mc(t->folio)->caps;
	struct ft_mapcount_snapshot s;
	int mappers = nr_mappers(t);
	int sum = 0;

	folio_mapcount_snapshot(t->folio, &s);
	for (int i = 0; i < s.nr_slots; i++) {
		int m = mm_of_id(w, s.slot[i].id);

		sum += s.slot[i].mapcount;
		EXPECT(w, t, (s.slot[i].id == MM_ID_DUMMY) == (s.slot[i].mapcount == 0) &&
		       s.slot[i].mapcount >= 0, "I3: slot %d id %u mapcount %d", i,
		       s.slot[i].id, s.slot[i].mapcount);
		EXPECT(w, t, s.slot[i].id == MM_ID_DUMMY ||
		       (m >= 0 && s.slot[i].mapcount <= mm_total(t, m)),
		       "I4: slot %d says %d mappings of mm id %u, truth %d", i,
		       s.slot[i].mapcount, s.slot[i].id, m >= 0 ? mm_total(t, m) : -1);
	}
	EXPECT(w, t, sum <= s.mapcount, "I5: slots %d > mapcount %d", sum, s.mapcount);
	EXPECT(w, t, s.slot[0].id == MM_ID_DUMMY || s.slot[1].id == MM_ID_DUMMY ||
	       s.shared, "I6: both slots taken, SHARED clear");
	EXPECT(w, t, s.mapcount || (!s.shared && !s.slot[0].id && !s.slot[1].id),
	       "I8: unmapped, but SHARED or a slot");
	EXPECT(w, t, !s.slot[0].id || s.slot[0].id != s.slot[1].id, "I10: id in both slots");
	EXPECT(w, t, !(caps & FT_MC_NO_FALSE_NEGATIVE) || s.shared || s.mapcount < 2 ||
	       mappers <= 1,
	       "P-c: SHARED clear, mapcount %d, but %d MMs map", s.mapcount, mappers);
	EXPECT(w, t, !(caps & FT_MC_EXACT_TWO_MMS) || t->maxconc > 2 ||
	       s.shared == (mappers >= 2),
	       "P-d: SHARED %d with %d MMs mapping (at most 2 at once)", s.shared,
	       mappers);
	EXPECT(w, t, !(caps & FT_MC_EXACT_NR_PAGES) || s.mapcount < 2 || s.mapcount > t->nr ||
	       s.shared == (mappers >= 2),
	       "R3: shared %d with %d MMs mapping it %d times", s.shared, mappers,
	       s.mapcount);
	EXPECT(w, t, folio_maybe_mapped_shared(t->folio) == (s.mapcount >= 2 && s.shared),
	       "folio_maybe_mapped_shared() disagrees with the snapshot");
	check_mapped_shared(w, t, s.mapcount, caps);
	w->n_untracked += mappers > 2;
	w->n_false_pos += s.shared && s.mapcount >= 2 && mappers == 1;
}

static void check_all(struct world *w, struct truth *t, u64 reports_before)
{
	update_maxconc(t);
	check_counts(w, t);
	if (folio_test_large(t->folio))
		check_slots(w, t);
	else
		EXPECT(w, t, folio_maybe_mapped_shared(t->folio) == (total(t) > 1),
		       "small folio: maybe_mapped_shared != mapcount > 1");
	EXPECT(w, t, ft_report_failures() == reports_before,
	       "an inline check fired (%llu reports)",
	       (unsigned long long)(ft_report_failures() - reports_before));
}

/* ---- Operations ------------------------------------------------------------------- */

typedef bool (*page_pred)(const struct truth *t, int page, int m, int other);

/* A random run of pages, all satisfying @pred; false if there is none. */
static bool pick_range(struct world *w, const struct truth *t, page_pred pred,
		       int m, int other, int *start, int *n)
{
	int cand[MAX_PAGES], nr = 0;

	for (int i = 0; i < t->nr; i++)
		if (pred(t, i, m, other))
			cand[nr++] = i;
	if (!nr)
		return false;
	*start = cand[ft_random_below(&w->rs, nr)];
	*n = 1;
	while (*start + *n < t->nr && pred(t, *start + *n, m, other) &&
	       ft_random_below(&w->rs, 8))
		(*n)++;
	return true;
}

static bool mapped_by(const struct truth *t, int page, int m, int other)
{
	return t->count[m][page] > 0;
}

/*
 * An anon page can come back into an MM (swap-in, migration) only if that
 * MM does not map it, and, if another MM does, only if it is not exclusive:
 * another MM reaches an exclusive page only through fork, which clears it.
 */
static bool anon_addable(const struct truth *t, int page, int m, int other)
{
	return t->count[m][page] == 0 &&
	       (page_total(t, page) == 0 ||
		!PageAnonExclusive(folio_page(t->folio, page)));
}

static bool any_page(const struct truth *t, int page, int m, int other)
{
	return true;
}

/* Anon dup: mapped by the parent, not yet by the child. */
static bool dup_candidate(const struct truth *t, int page, int src, int dst)
{
	return t->count[src][page] == 1 && t->count[dst][page] == 0;
}

static struct page *pg(struct truth *t, int i)
{
	return folio_page(t->folio, i);
}

static struct vm_area_struct *vma_of(struct world *w, int m)
{
	return &w->mm[m].vma;
}

static int random_mm(struct world *w)
{
	return (int)ft_random_below(&w->rs, w->nr_mms);
}

static void op_dup(struct world *w, struct truth *t)
{
	int src = random_mm(w), dst = random_mm(w), i, n;
	bool any_exclusive = false, busy_expected;
	struct mm_struct *smm = &w->mm[src].mm;
	int ret;

	if (src == dst || !pick_range(w, t, t->anon ? dup_candidate : mapped_by,
				      src, dst, &i, &n))
		return;
	w->op = t->anon ? "try_dup_anon" : "dup_file";
	folio_ref_add(t->folio, n);		/* reference before mapcount */
	if (!t->anon) {
		folio_dup_file_rmap_ptes(t->folio, pg(t, i), n, vma_of(w, dst));
		for (int j = i; j < i + n; j++)
			t->count[dst][j] += t->count[src][j] ? 1 : 0;
		return;
	}
	for (int j = i; j < i + n; j++)
		any_exclusive |= PageAnonExclusive(pg(t, j));
	busy_expected = test_bit(MMF_HAS_PINNED, &smm->flags) &&
			folio_maybe_dma_pinned(t->folio) && any_exclusive;
	raw_write_seqcount_begin(&smm->write_protect_seq);
	ret = folio_try_dup_anon_rmap_ptes(t->folio, pg(t, i), n, vma_of(w, dst),
					   vma_of(w, src));
	raw_write_seqcount_end(&smm->write_protect_seq);
	EXPECT(w, t, (ret == -EBUSY) == busy_expected, "dup returned %d, -EBUSY %s",
	       ret, busy_expected ? "expected" : "not expected");
	if (ret) {
		w->n_ebusy++;
		folio_ref_sub(t->folio, n);
		return;
	}
	for (int j = i; j < i + n; j++) {
		t->count[dst][j] = 1;
		EXPECT(w, t, !PageAnonExclusive(pg(t, j)), "dup left page %d exclusive", j);
	}
}

static void op_add(struct world *w, struct truth *t)
{
	int m = random_mm(w), i, n;
	bool nobody = true;
	rmap_t flags = RMAP_NONE;

	/* An anon page is mapped at most once per MM; a file page any number. */
	if (!pick_range(w, t, t->anon ? anon_addable : any_page, m, 0, &i, &n))
		return;
	for (int j = i; j < i + n; j++)
		nobody = nobody && page_total(t, j) == 0;
	/* Exclusive only when it is true (swap-in of an exclusive entry). */
	if (t->anon && nobody && ft_random_below(&w->rs, 2))
		flags = RMAP_EXCLUSIVE;
	w->op = t->anon ? "add_anon" : "add_file";
	folio_ref_add(t->folio, n);
	if (t->anon)
		folio_add_anon_rmap_ptes(t->folio, pg(t, i), n, vma_of(w, m),
					 test_addr(t->folio, i), flags);
	else
		folio_add_file_rmap_ptes(t->folio, pg(t, i), n, vma_of(w, m));
	for (int j = i; j < i + n; j++)
		t->count[m][j]++;
}

/* After a removal: who must and who must not be on the deferred list. */
static void check_deferred(struct world *w, struct truth *t, bool queued_before,
			   bool page_unmapped)
{
	int mapped = 0, tot = total(t);
	bool queued = folio_on_deferred_list(t->folio), partial;

	if (!t->anon || folio_order(t->folio) <= 1)
		return;
	for (int i = 0; i < t->nr; i++)
		mapped += page_total(t, i) > 0;
	partial = folio_uses_page_mapcount(t->folio) ?
		  page_unmapped && mapped > 0 && mapped < t->nr :
		  tot > 0 && tot < t->nr;
	EXPECT(w, t, queued_before || !queued || (tot > 0 && mapped < t->nr),
	       "I13/B5: queued for a partial unmap but %d of %d pages mapped",
	       mapped, t->nr);
	EXPECT(w, t, !partial || queued, "partially mapped (%d of %d pages) but not "
	       "queued for deferred split", mapped, t->nr);
	w->n_queued += queued && !queued_before;
}

/*
 * Remove one mapping of MM @m from each of @n pages from @i on, then drop
 * the references (after the mapcount, as zap does).  Returns true if that
 * freed the folio.
 */
static bool remove_range(struct world *w, struct truth *t, int m, int i, int n)
{
	bool queued_before = folio_on_deferred_list(t->folio), page_unmapped = false;

	w->op = "remove";
	folio_remove_rmap_ptes(t->folio, pg(t, i), n, vma_of(w, m));
	for (int j = i; j < i + n; j++) {
		t->count[m][j]--;
		page_unmapped |= page_total(t, j) == 0;
	}
	check_deferred(w, t, queued_before, page_unmapped);
	if (folio_put_refs(t->folio, n)) {
		t->folio = NULL;
		return true;
	}
	return false;
}

static bool op_remove(struct world *w, struct truth *t)
{
	int m = random_mm(w), i, n;

	if (!pick_range(w, t, mapped_by, m, 0, &i, &n))
		return false;
	return remove_range(w, t, m, i, n);
}

static void op_pin(struct world *w, struct truth *t)
{
	int m = random_mm(w);

	w->op = "pin";
	try_grab_folio(t->folio, 1, FOLL_PIN);
	mm_set_has_pinned_flag(&w->mm[m].mm);
	t->pins++;
}

static bool op_unpin(struct world *w, struct truth *t)
{
	if (!t->pins)
		return false;
	w->op = "unpin";
	t->pins--;
	gup_put_folio(t->folio, 1, FOLL_PIN);
	if (!t->base && !t->pins && !total(t)) {
		t->folio = NULL;
		return true;
	}
	return false;
}

/* I12: reuse only if truly exclusive; in the exact regime, never refused. */
static void op_reuse(struct world *w, struct truth *t)
{
	int m = random_mm(w);
	int others = nr_mappers(t) - (mm_total(t, m) > 0);
	unsigned int caps = folio_mc(t->folio)->caps;
	bool exclusive, expect;

	if (!t->anon || !folio_test_large(t->folio) || !mm_total(t, m))
		return;
	w->op = "can_reuse";
	exclusive = wp_can_reuse_large_anon_folio(t->folio, vma_of(w, m));
	EXPECT(w, t, !exclusive || (!others && folio_ref_count(t->folio) == total(t)),
	       "I12: reuse granted with %d other MMs, refcount %d, mapcount %d",
	       others, folio_ref_count(t->folio), total(t));
	expect = !others && !t->pins && total(t) >= 2 &&
		 ((t->maxconc <= 2 && (caps & FT_MC_EXACT_TWO_MMS)) ||
		  (total(t) <= t->nr && (caps & FT_MC_EXACT_NR_PAGES)));
	EXPECT(w, t, exclusive || !expect, "reuse refused to the only mapper");
	w->n_reuse += exclusive;
	w->n_reuse_refused += !exclusive;
}

/* ---- Sequences -------------------------------------------------------------------- */

static bool new_folio(struct world *w, struct truth *t)
{
	const struct ft_mapcount_ops *mc = w->pmem.mc;
	unsigned int order;
	int m = random_mm(w);

	do	/* a large folio of an order the model can track */
		order = (unsigned int)ft_random_below(&w->rs, MAX_ORDER + 1);
	while (order && mc->check_order && mc->check_order(order));

	memset(t, 0, sizeof(*t));
	t->folio = folio_alloc(&w->pmem, order, NULL);
	if (!t->folio)
		return false;
	t->nr = (int)folio_nr_pages(t->folio);
	t->anon = ft_random_below(&w->rs, 5) != 0;
	w->op = t->anon ? "add_new_anon" : "new file folio";
	if (!t->anon) {
		t->base = 1;			/* the page cache's reference */
		return true;
	}
	folio_ref_add(t->folio, t->nr - 1);	/* do_anonymous_page: one per PTE */
	folio_add_new_anon_rmap(t->folio, vma_of(w, m), test_addr(t->folio, 0),
				RMAP_EXCLUSIVE);
	for (int i = 0; i < t->nr; i++)
		t->count[m][i] = 1;
	return true;
}

/* Unmap everything left, unpin, drop the base: the folio must free cleanly. */
static void finish(struct world *w, struct truth *t)
{
	for (int m = 0; m < MAX_MMS && t->folio; m++) {
		for (int i = 0; i < t->nr && t->folio; i++) {
			while (t->folio && t->count[m][i]) {
				u64 reports = ft_report_failures();

				if (!remove_range(w, t, m, i, 1))
					check_all(w, t, reports);
			}
		}
	}
	while (t->folio && t->pins)
		op_unpin(w, t);
	if (t->folio && t->base) {
		w->op = "put base reference";
		folio_put(t->folio);
	}
}

static void run_sequence(struct world *w, int steps)
{
	struct truth t;

	if (!new_folio(w, &t))
		return;
	check_all(w, &t, ft_report_failures());
	for (w->step = 0; w->step < steps && t.folio; w->step++) {
		u64 reports = ft_report_failures();
		int r = (int)ft_random_below(&w->rs, 16);

		if (r < 5)
			op_dup(w, &t);
		else if (r < 8)
			op_add(w, &t);
		else if (r < 13)
			op_remove(w, &t);
		else if (r == 13)
			op_pin(w, &t);
		else if (r == 14)
			op_unpin(w, &t);
		else
			op_reuse(w, &t);
		if (t.folio)
			check_all(w, &t, reports);
	}
	finish(w, &t);
}

/* ---- The cover letter's example (P-d) --------------------------------------------- */

/* The cover letter's start: App1 maps an order-4 folio, App2 and App3 fork. */
static void cover_letter_fork(struct world *w, struct truth *t)
{
	t->folio = folio_alloc(&w->pmem, 4, NULL);
	folio_ref_add(t->folio, 15);
	folio_add_new_anon_rmap(t->folio, vma_of(w, 0), test_addr(t->folio, 0),
				RMAP_EXCLUSIVE);
	for (int m = 1; m <= 2; m++) {
		folio_ref_add(t->folio, 16);
		raw_write_seqcount_begin(&w->mm[0].mm.write_protect_seq);
		folio_try_dup_anon_rmap_ptes(t->folio, pg(t, 0), 16, vma_of(w, m),
					     vma_of(w, 0));
		raw_write_seqcount_end(&w->mm[0].mm.write_protect_seq);
	}
}

/* App1 and App2 unmap, App3 is left alone with all 16 pages. */
static void cover_letter_unmap(struct world *w, struct truth *t)
{
	for (int m = 0; m <= 1; m++) {
		folio_remove_rmap_ptes(t->folio, pg(t, 0), 16, vma_of(w, m));
		folio_put_refs(t->folio, 16);
	}
}

/* A model exact up to nr_pages mappings (R3) has no false positive there. */
static void cover_letter_exact(struct world *w, struct ft_ktap *k)
{
	struct truth t = { .anon = true, .nr = 16 };
	struct ft_mapcount_snapshot s;

	cover_letter_fork(w, &t);
	folio_mapcount_snapshot(t.folio, &s);
	ft_ktap_result(k, s.shared && s.mapcount == 48 &&
		       folio_mapped_shared(t.folio, vma_of(w, 2)->vm_mm),
		       "cover letter, exact: three MMs, 48 mappings, shared");
	cover_letter_unmap(w, &t);
	ft_ktap_result(k, !folio_maybe_mapped_shared(t.folio) &&
		       !folio_mapped_shared(t.folio, vma_of(w, 2)->vm_mm),
		       "cover letter, exact: App3 alone is not shared");
	ft_ktap_result(k, wp_can_reuse_large_anon_folio(t.folio, vma_of(w, 2)),
		       "cover letter, exact: so App3 reuses on write");
	folio_remove_rmap_ptes(t.folio, pg(&t, 0), 16, vma_of(w, 2));
	folio_mapcount_snapshot(t.folio, &s);
	ft_ktap_result(k, !s.shared && !s.mapcount, "cover letter, exact: unmapped");
	folio_put_refs(t.folio, 16);
}

static void cover_letter(struct world *w, struct ft_ktap *k)
{
	struct truth t = { .anon = true, .nr = 16 };
	struct ft_mapcount_snapshot s;
	bool shared_alone;

	cover_letter_fork(w, &t);
	folio_mapcount_snapshot(t.folio, &s);
	ft_ktap_result(k, s.shared && s.mapcount == 48 &&
		       s.slot[0].id == w->mm[0].mm.mm_id &&
		       s.slot[1].id == w->mm[1].mm.mm_id,
		       "cover letter: App1 slot 0, App2 slot 1, App3 untracked");
	cover_letter_unmap(w, &t);
	folio_mapcount_snapshot(t.folio, &s);
	shared_alone = folio_maybe_mapped_shared(t.folio);
	ft_ktap_result(k, shared_alone && s.mapcount == 16 && !s.slot[0].id &&
		       !s.slot[1].id, "cover letter: App3 alone, still \"maybe shared\" "
		       "(the documented false positive)");
	ft_ktap_result(k, !wp_can_reuse_large_anon_folio(t.folio, vma_of(w, 2)),
		       "cover letter: so App3 copies on write instead of reusing");
	folio_remove_rmap_ptes(t.folio, pg(&t, 0), 15, vma_of(w, 2));
	folio_put_refs(t.folio, 15);
	ft_ktap_result(k, folio_maybe_mapped_shared(t.folio) == false,
		       "cover letter: one mapping left is never shared");
	folio_mapcount_snapshot(t.folio, &s);
	ft_ktap_result(k, s.shared, "cover letter: the SHARED bit itself stays set");
	folio_remove_rmap_ptes(t.folio, pg(&t, 15), 1, vma_of(w, 2));
	folio_mapcount_snapshot(t.folio, &s);
	ft_ktap_result(k, !s.shared && !s.mapcount, "cover letter: cleared at full unmap");
	folio_put(t.folio);
}

/* A slot count below -1, then an update: the model's check must fire. */
static void count_underflow(struct world *w, struct ft_ktap *k)
{
	struct folio *folio = folio_alloc(&w->pmem, 2, NULL);
	u64 before = ft_report_failures();

	folio_ref_add(folio, 4);
	folio_add_new_anon_rmap(folio, vma_of(w, 0), test_addr(folio, 0), RMAP_EXCLUSIVE);
	WRITE_ONCE(folio->_mm_id_mapcount[1], -2);
	folio_mc(folio)->add(folio, 1, vma_of(w, 0));
	ft_ktap_result(k, ft_report_failures() > before,
		       "count-underflow: the update after it reported it");
}

int main(int argc, char **argv)
{
	struct world w = { .nr_mms = (int)ft_test_arg_u64(argc, argv, "--mms", 2) };
	u64 seqs = ft_test_arg_u64(argc, argv, "--seqs", 3000);
	int steps = (int)ft_test_arg_u64(argc, argv, "--steps", 40);
	const char *inject = ft_test_arg(argc, argv, "--inject", NULL);
	const char *name = ft_test_arg(argc, argv, "--case", NULL);
	const struct ft_mapcount_ops *model =
		ft_mapcount_model_find(ft_test_arg(argc, argv, "--model", "owner_slots"));
	struct ft_ktap k = { 0 };

	if (!model || w.nr_mms < 2 || w.nr_mms > MAX_MMS ||
	    (inject && ft_inject_enable(inject)))
		return FT_EXIT_USAGE;
	ft_random_init(&w.rs, ft_test_arg_u64(argc, argv, "--seed", 1), 0, 0, 0);
	if (ft_pmem_init(&w.pmem, NR_PFNS, model,
			 ft_test_flag(argc, argv, "--no-page-mapcount")) ||
	    mm_id_space_init(&w.ids, MM_ID_MAX))
		return FT_EXIT_USAGE;
	for (int m = 0; m < MAX_MMS; m++)
		test_mm_init(&w.mm[m], &w.ids);
	if (name && !strcmp(name, "count-underflow")) {
		ft_ktap_start(1);
		count_underflow(&w, &k);
		return ft_ktap_finish(&k);
	}
	if (name && !strcmp(name, "cover-letter") &&
	    (w.pmem.mc->caps & FT_MC_EXACT_NR_PAGES)) {
		w.nr_mms = 3;
		ft_ktap_start(5);
		cover_letter_exact(&w, &k);
	} else if (name && !strcmp(name, "cover-letter")) {
		w.nr_mms = 3;
		ft_ktap_start(6);
		cover_letter(&w, &k);
	} else {
		ft_ktap_start(2);
		for (w.seq = 0; w.seq < (int)seqs; w.seq++)
			run_sequence(&w, steps);
		printf("# paths: dup -EBUSY %llu, reuse granted %llu refused %llu, "
		       "queued %llu, states with an untracked MM %llu, "
		       "false positives %llu\n", (unsigned long long)w.n_ebusy,
		       (unsigned long long)w.n_reuse,
		       (unsigned long long)w.n_reuse_refused,
		       (unsigned long long)w.n_queued,
		       (unsigned long long)w.n_untracked,
		       (unsigned long long)w.n_false_pos);
		ft_ktap_result(&k, !w.failures, "%llu sequences, %d MMs, %s%s%s: %llu "
			       "failures", (unsigned long long)seqs, w.nr_mms,
			       w.pmem.no_page_mapcount ? "NO_PAGE_MAPCOUNT" : "PAGE_MAPCOUNT",
			       inject ? ", injected " : "", inject ? inject : "",
			       (unsigned long long)w.failures);
	}
	ft_ktap_result(&k, ft_pmem_nr_used_pages(&w.pmem) == 0 &&
		       !w.pmem.stats.n_bad, "every folio freed, none bad");
	mm_id_space_destroy(&w.ids);
	ft_pmem_destroy(&w.pmem);
	return ft_ktap_finish(&k);
}
