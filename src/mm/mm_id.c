// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mm id space (kernel/fork.c's IDA, mm_alloc_id()): the lowest free id
 * in [MM_ID_MIN, max], never one in use.  Ids below @next live in a bitmap;
 * released ones wait in a min-heap so the lowest comes back first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ft/mm.h"
#include "ft/report.h"

int mm_id_space_init(struct mm_id_space *ids, mm_id_t max)
{
	if (max < MM_ID_MIN || max > MM_ID_MAX)
		return -EINVAL;
	memset(ids, 0, sizeof(*ids));
	spin_lock_init(&ids->lock);
	ids->max = max;
	ids->next = MM_ID_MIN;
	return 0;
}

void mm_id_space_destroy(struct mm_id_space *ids)
{
	free(ids->in_use);
	free(ids->free);
}

static void heap_push(struct mm_id_space *ids, mm_id_t id)
{
	size_t i = ids->nr_free++;

	while (i && ids->free[(i - 1) / 2] > id) {
		ids->free[i] = ids->free[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	ids->free[i] = id;
}

static mm_id_t heap_pop(struct mm_id_space *ids)
{
	mm_id_t top = ids->free[0], last = ids->free[--ids->nr_free];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= ids->nr_free)
			break;
		if (c + 1 < ids->nr_free && ids->free[c + 1] < ids->free[c])
			c++;
		if (last <= ids->free[c])
			break;
		ids->free[i] = ids->free[c];
		i = c;
	}
	ids->free[i] = last;
	return top;
}

/* Make room to hand out id @next: its bit, and a heap slot for its return. */
static int grow(struct mm_id_space *ids)
{
	size_t need = BITS_TO_LONGS((size_t)ids->next + 1);

	if (need > ids->map_longs) {
		size_t cap = max(need, 2 * ids->map_longs);
		unsigned long *map = realloc(ids->in_use, cap * sizeof(*map));

		if (!map)
			return -ENOMEM;
		memset(map + ids->map_longs, 0, (cap - ids->map_longs) * sizeof(*map));
		ids->in_use = map;
		ids->map_longs = cap;
	}
	if (ids->cap_free < (size_t)ids->next + 1) {
		size_t cap = max((size_t)ids->next + 1, 2 * (size_t)ids->cap_free);
		mm_id_t *heap = realloc(ids->free, cap * sizeof(*heap));

		if (!heap)
			return -ENOMEM;
		ids->free = heap;
		ids->cap_free = cap;
	}
	return 0;
}

int mm_alloc_id(struct mm_id_space *ids, struct mm_struct *mm)
{
	mm_id_t id;
	int ret = 0;

	spin_lock(&ids->lock);
	if (ids->nr_free) {
		id = heap_pop(ids);
	} else if (ids->next > ids->max) {
		ret = -ENOSPC;
	} else {
		ret = grow(ids);
		id = ids->next;
		if (!ret)
			ids->next++;
	}
	if (!ret) {
		ids->in_use[id / BITS_PER_LONG] |= BIT(id % BITS_PER_LONG);
		ids->nr_in_use++;
		mm->mm_id = id;
	}
	spin_unlock(&ids->lock);
	return ret;
}

/* __mmdrop() (kernel/fork.c): DUMMY first, then the id goes back. */
void mm_free_id(struct mm_id_space *ids, struct mm_struct *mm)
{
	mm_id_t id = mm->mm_id;
	bool bad;

	mm->mm_id = MM_ID_DUMMY;
	if (id == MM_ID_DUMMY)
		return;
	spin_lock(&ids->lock);
	bad = id < MM_ID_MIN || id >= ids->next ||
	      !(ids->in_use[id / BITS_PER_LONG] & BIT(id % BITS_PER_LONG));
	if (!bad) {
		ids->in_use[id / BITS_PER_LONG] &= ~BIT(id % BITS_PER_LONG);
		ids->nr_in_use--;
		heap_push(ids, id);
	}
	spin_unlock(&ids->lock);
	/* The kernel warns once and does not free an id out of range. */
	if (bad && ft_report_begin("mm id")) {
		ft_report_msg("WARNING: mm_free_id(%u): not an allocated mm id\n", id);
		ft_report_end();
	}
}
