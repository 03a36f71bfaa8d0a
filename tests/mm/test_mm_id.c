// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_mm_id: the mm id space hands out the lowest free id in
 * [MM_ID_MIN, max], never one in use, fails with -ENOSPC when full, and
 * reports the release of an id that is not allocated.
 */
#include <errno.h>

#include "mm_test.h"

#define MAX_ID	300

int main(void)
{
	struct mm_id_space ids;
	struct mm_struct mm[MAX_ID + 1] = { 0 };
	bool in_use[MAX_ID + 1] = { false };
	struct ft_random_state rs;
	struct ft_ktap k = { 0 };
	bool lowest = true, unique = true;
	struct mm_struct extra = { 0 };
	mm_id_t freed;
	int ret;

	ft_ktap_start(6);
	mm_id_space_init(&ids, MAX_ID);
	ft_random_init(&rs, 7, 0, 0, 0);
	/* Random alloc/free against a reference set of used ids. */
	for (int step = 0; step < 20000; step++) {
		int i = (int)ft_random_below(&rs, MAX_ID) + 1;
		mm_id_t want = 0;

		if (mm[i].mm_id) {
			in_use[mm[i].mm_id] = false;
			mm_free_id(&ids, &mm[i]);
			continue;
		}
		for (mm_id_t id = MM_ID_MIN; id <= MAX_ID && !want; id++)
			if (!in_use[id])
				want = id;
		if (mm_alloc_id(&ids, &mm[i]))
			break;
		lowest = lowest && mm[i].mm_id == want;
		unique = unique && !in_use[mm[i].mm_id];
		in_use[mm[i].mm_id] = true;
	}
	ft_ktap_result(&k, lowest, "the lowest free id every time");
	ft_ktap_result(&k, unique, "never an id in use");
	for (int i = 1; i <= MAX_ID; i++)
		if (!mm[i].mm_id)
			mm_alloc_id(&ids, &mm[i]);
	ret = mm_alloc_id(&ids, &extra);
	ft_ktap_result(&k, ret == -ENOSPC && ids.nr_in_use == MAX_ID,
		       "full space: -ENOSPC (%d)", ret);
	mm_free_id(&ids, &mm[5]);
	ft_ktap_result(&k, mm[5].mm_id == MM_ID_DUMMY && !mm_alloc_id(&ids, &extra),
		       "a released id is DUMMY in its mm and can be had again");
	/* Negative controls: releasing an id nobody holds is reported. */
	freed = extra.mm_id;
	mm_free_id(&ids, &extra);
	mm_free_id(&ids, &extra);	/* now DUMMY: ignored, as __mmdrop does */
	ft_ktap_result(&k, ft_report_failures() == 0, "a DUMMY id is not reported");
	mm_free_id(&ids, &(struct mm_struct){ .mm_id = freed });	/* not in use */
	mm_free_id(&ids, &(struct mm_struct){ .mm_id = MAX_ID + 5 });
	ft_ktap_result(&k, ft_report_failures() == 2,
		       "a free id and an id out of range are reported");
	mm_id_space_destroy(&ids);
	return ft_ktap_finish(&k);
}
