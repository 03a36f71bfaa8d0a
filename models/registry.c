// SPDX-License-Identifier: GPL-2.0-only
/* The mapcount models, by name (one const registry). */
#include <string.h>

#include "models.h"

const struct ft_mapcount_ops *const ft_mapcount_models[] = {
	&owner_slots_ops,
	&owner_slots_v1_ops,
	&rmap_id_ops,
	NULL,
};

const struct ft_mapcount_ops *ft_mapcount_model_find(const char *name)
{
	for (int i = 0; ft_mapcount_models[i]; i++) {
		if (!strcmp(ft_mapcount_models[i]->name, name))
			return ft_mapcount_models[i];
	}
	return NULL;
}
