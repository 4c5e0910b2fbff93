/* SPDX-License-Identifier: MIT */
/*
 * obd_testdata.h - open a shared OBD test file for the OBD unit tests.
 *
 * Looks in $FLEETGW_OBD_TESTDATA if set, else in the project's own
 * tests/data/obd, then in ../shared/testdata/obd (the read-only shared
 * data beside a checkout).  Paths are relative to the repository root,
 * where the tests run.  NULL when absent: the caller skips with a clear
 * message.  Header-only so each test binary stays one source file.
 */
#ifndef OBD_TESTDATA_H
#define OBD_TESTDATA_H

#include <stdio.h>
#include <stdlib.h>

static FILE *
obd_testdata_open(const char *name)
{
	static const char	*dirs[] = { "tests/data/obd",
	    "../shared/testdata/obd" };
	char			 path[512];
	const char		*env;
	FILE			*fp;
	size_t			 i;

	if ((env = getenv("FLEETGW_OBD_TESTDATA")) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", env, name);
		return fopen(path, "r");
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if ((fp = fopen(path, "r")) != NULL)
			return fp;
	}
	return NULL;
}

#endif /* OBD_TESTDATA_H */
