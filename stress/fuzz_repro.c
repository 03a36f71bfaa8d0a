// SPDX-License-Identifier: GPL-2.0-only
/*
 * The repro-file parser's fuzz harness (torture_repro.c): every input is
 * parsed, and one that parses has its options parsed as --replay would.
 * Nothing may crash or trip ASan/UBSan, and what parses must hold up:
 * argv within its bounds, every entry an option.
 *
 * Built with FT_LIBFUZZER (the fuzz preset, clang) it is a libFuzzer
 * target (stress/fuzz.sh); otherwise a driver that runs the files named
 * on its command line once each, so ctest replays the corpus in every
 * preset.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "torture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tt_repro r;
	static struct tt_params p;
	char *argv[TT_REPRO_MAX_ARGS + 1], err[160];

	if (tt_repro_parse((const char *)data, size, &r, err, sizeof(err)))
		return 0;
	if (r.argc < 1 || r.argc > TT_REPRO_MAX_ARGS || r.argv[r.argc] ||
	    strlen(r.invariant) >= sizeof(r.invariant))
		abort();
	for (int i = 1; i < r.argc; i++)
		if (strncmp(r.argv[i], "--", 2))
			abort();
	memcpy(argv, r.argv, sizeof(char *) * ((size_t)r.argc + 1));
	tt_repro_params(&r, r.argc, argv, &p, err, sizeof(err));
	return 0;
}

#ifndef FT_LIBFUZZER
int main(int argc, char **argv)
{
	static char buf[TT_REPRO_MAX_BYTES * 2];

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		size_t n;

		if (!f) {
			fprintf(stderr, "fuzz_repro: cannot open %s\n", argv[i]);
			return FT_EXIT_USAGE;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)buf, n);
	}
	printf("fuzz_repro: %d inputs, no crash\n", argc - 1);
	return FT_EXIT_SUCCESS;
}
#endif
