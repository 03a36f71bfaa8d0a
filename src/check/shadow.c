// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shadow memory (include/ft/check.h): what every mm must read back.
 *
 * Why the zero rule is exact enough: a writer samples the page's zap
 * count and in-flight flag before it stores, a zapper raises both before
 * it zaps (sequentially consistent on both sides), so a zap that can have
 * cleared the store is always visible to the later read as a changed
 * count or a recorded in-flight flag.  Why fork inherits exactly: the
 * forker announces itself and waits until no writer holds a new value
 * (a Dekker pair, seq_cst on both sides); writers that come later store
 * the value the page already should hold, so the parent's contents cannot
 * change while the child's copy of the shadow is taken.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ft/check.h"
#include "ft/contpte.h"
#include "ft/report.h"

#define SEQ	__ATOMIC_SEQ_CST
#define RLX	__ATOMIC_RELAXED

/* Bits of a value below the tag: page index, then the write count. */
#define VALUE_IDX_SHIFT		20
#define VALUE_IDX_MASK		0xfffUL
#define VALUE_COUNT_MASK	0xfffffUL

/* One page.  Atomics: fork copies them while claims are held. */
struct shadow_page {
	unsigned long value;	/* what a read must return */
	u64 w_zap_started;	/* zap_started when value was prepared */
	u64 zap_started;	/* zaps of this page begun */
	u32 w_zap_inflight;	/* a zap was in flight then */
	u32 zap_inflight;	/* zaps of this page not finished */
	u32 claimed;		/* one access at a time */
	u32 writes;		/* under the claim */
};

struct ft_shadow {
	u32 tag;
	unsigned long base, nr_pages;
	int forks;		/* forks of this mm in progress */
	int new_writers;	/* writers holding a new value */
	struct shadow_page pages[];
};

struct ft_shadow *ft_shadow_alloc(u32 tag, unsigned long base, unsigned long nr_pages)
{
	struct ft_shadow *sh;

	if (!tag || nr_pages > VALUE_IDX_MASK + 1)
		return NULL;
	sh = calloc(1, sizeof(*sh) + nr_pages * sizeof(sh->pages[0]));
	if (!sh)
		return NULL;
	sh->tag = tag;
	sh->base = base;
	sh->nr_pages = nr_pages;
	return sh;
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
	u32 free_ = 0;

	return __atomic_compare_exchange_n(&sh->pages[idx].claimed, &free_, 1, false,
					   __ATOMIC_ACQUIRE, RLX);
}

void ft_shadow_release(struct ft_shadow *sh, unsigned long idx)
{
	__atomic_store_n(&sh->pages[idx].claimed, 0, __ATOMIC_RELEASE);
}

void ft_shadow_write_begin(struct ft_shadow *sh, unsigned long idx,
			   struct ft_shadow_write *wr)
{
	struct shadow_page *p = &sh->pages[idx];

	__atomic_fetch_add(&sh->new_writers, 1, SEQ);
	if (__atomic_load_n(&sh->forks, SEQ)) {
		__atomic_fetch_sub(&sh->new_writers, 1, __ATOMIC_RELEASE);
		*wr = (struct ft_shadow_write){
			.value = __atomic_load_n(&p->value, RLX), .same_value = true,
		};
		return;
	}
	p->writes++;
	*wr = (struct ft_shadow_write){
		.value = (unsigned long)sh->tag << 32 |
			 (idx & VALUE_IDX_MASK) << VALUE_IDX_SHIFT |
			 (p->writes & VALUE_COUNT_MASK),
		.zap_started = __atomic_load_n(&p->zap_started, SEQ),
		.zap_inflight = __atomic_load_n(&p->zap_inflight, SEQ) != 0,
	};
}

void ft_shadow_write_end(struct ft_shadow *sh, unsigned long idx,
			 const struct ft_shadow_write *wr, bool done)
{
	struct shadow_page *p = &sh->pages[idx];

	if (wr->same_value)
		return;		/* nothing changed, not a new writer */
	if (done) {
		__atomic_store_n(&p->value, wr->value, RLX);
		__atomic_store_n(&p->w_zap_started, wr->zap_started, RLX);
		__atomic_store_n(&p->w_zap_inflight, wr->zap_inflight, RLX);
	}
	/* Release: a forker that sees no writer sees the stores above. */
	__atomic_fetch_sub(&sh->new_writers, 1, __ATOMIC_RELEASE);
}

/* The entry and the folio behind @addr now, for the report. */
static void dump_mapping(struct mm_struct *mm, unsigned long addr)
{
	struct ptdesc *table = pmdp_get_lockless(pmd_off(mm, addr));
	struct folio *folio;

	fprintf(stderr, "pte at %#lx: ", addr);
	if (table)
		pte_describe(stderr, __ptep_get(&table->ptes[pte_index(addr)]));
	else
		fprintf(stderr, "no page table");
	fprintf(stderr, "\n");
	folio = ft_folio_at(mm, addr);
	if (folio) {
		dump_page(stderr, folio_page(folio, (addr >> PAGE_SHIFT) -
					     (folio_pfn(folio) & (folio_nr_pages(folio) - 1))),
			  "shadow memory");
		folio_put(folio);
	}
}

static void report_read(struct ft_shadow *sh, unsigned long idx, unsigned long got,
			unsigned long want, struct mm_struct *mm)
{
	u32 writer = (u32)(got >> 32);
	unsigned long page = (got >> VALUE_IDX_SHIFT) & VALUE_IDX_MASK;
	unsigned long addr = sh->base + idx * PAGE_SIZE;

	if (!ft_report_begin("shadow memory"))
		return;
	fprintf(stderr, "BUG: mm id %u (tag %u) read %#lx at %#lx, expected %#lx: ",
		mm->mm_id, sh->tag, got, addr, want);
	if (!got)
		fprintf(stderr, "zero, but no zap of the page since the write\n");
	else if (writer != sh->tag)
		fprintf(stderr, "a value written by mm tag %u (its page %lu, write "
			"#%lu): COW isolation broken\n", writer, page,
			got & VALUE_COUNT_MASK);
	else if (page != idx)
		fprintf(stderr, "its own value for page %lu\n", page);
	else
		fprintf(stderr, "its own write #%lu, not the last one (#%lu): a "
			"write was lost\n", got & VALUE_COUNT_MASK, want & VALUE_COUNT_MASK);
	dump_mapping(mm, addr);
	ft_report_end();
}

bool ft_shadow_check_read(struct ft_shadow *sh, unsigned long idx,
			  unsigned long value, struct mm_struct *mm)
{
	struct shadow_page *p = &sh->pages[idx];
	unsigned long want = __atomic_load_n(&p->value, RLX);

	if (value == want)
		return true;
	if (!value && (__atomic_load_n(&p->zap_started, SEQ) !=
		       __atomic_load_n(&p->w_zap_started, RLX) ||
		       __atomic_load_n(&p->w_zap_inflight, RLX)))
		return true;
	report_read(sh, idx, value, want, mm);
	return false;
}

void ft_shadow_zap_begin(struct ft_shadow *sh, unsigned long first, unsigned long nr)
{
	for (unsigned long i = first; i < first + nr && i < sh->nr_pages; i++) {
		__atomic_fetch_add(&sh->pages[i].zap_inflight, 1, SEQ);
		__atomic_fetch_add(&sh->pages[i].zap_started, 1, SEQ);
	}
}

void ft_shadow_zap_end(struct ft_shadow *sh, unsigned long first, unsigned long nr)
{
	for (unsigned long i = first; i < first + nr && i < sh->nr_pages; i++)
		__atomic_fetch_sub(&sh->pages[i].zap_inflight, 1, SEQ);
}

void ft_shadow_fork_begin(struct ft_shadow *parent)
{
	__atomic_fetch_add(&parent->forks, 1, SEQ);
	for (u32 step = 0; __atomic_load_n(&parent->new_writers, SEQ); step++)
		ft_wait_step(step);
}

void ft_shadow_fork_copy(struct ft_shadow *child, const struct ft_shadow *parent)
{
	for (unsigned long i = 0; i < parent->nr_pages && i < child->nr_pages; i++) {
		const struct shadow_page *p = &parent->pages[i];
		struct shadow_page *c = &child->pages[i];
		bool inflight = __atomic_load_n(&p->w_zap_inflight, RLX) ||
				__atomic_load_n(&p->zap_inflight, SEQ);

		/* A zap still running in the parent never ends in the child:
		 * it counts as in flight at the child's last write. */
		c->value = __atomic_load_n(&p->value, RLX);
		c->w_zap_started = __atomic_load_n(&p->w_zap_started, RLX);
		c->zap_started = __atomic_load_n(&p->zap_started, SEQ);
		c->w_zap_inflight = inflight;
	}
}

void ft_shadow_fork_end(struct ft_shadow *parent)
{
	__atomic_fetch_sub(&parent->forks, 1, SEQ);
}
