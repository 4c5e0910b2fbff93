/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config.c - libFuzzer target: config_load() on a fuzzed file.
 *
 * libconfig reads files, so the input is written to DIR/main.conf in a
 * private temporary directory made once per process.  An input may carry
 * a second file after a line "#--fuzz-include--" (a comment to libconfig):
 * that part is written to DIR/inc/fuzz.conf, so the fuzzer controls both
 * sides of an @include.  DIR/inc also holds fixed fragments the seeds
 * include (gnss.conf including storage.conf, a syntax error, bad values).
 *
 * Includes stay inside DIR: config.c sets the include directory to DIR,
 * libconfig 1.5 joins even an absolute @include name to it, and inputs
 * containing ".." are skipped, so nothing outside DIR (a FIFO, /dev/stdin)
 * is ever opened.
 *
 * Checked besides the sanitizers (a violation aborts), from config.h:
 *  - success leaves errs empty; failure reports at least one line and at
 *    most 100 plus one "N more errors not shown" line;
 *  - config_dump() output loads back to a config_equal() config.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define CONFIG_FUZZ_SEP		"#--fuzz-include--\n"
/* config.h: at most 100 lines, then one "N more errors" line. */
#define CONFIG_FUZZ_MAX_ERRS	101

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	*dir;
static char	*main_path;
static char	*inc_path;
static char	*dump_path;

/* Fixed fragments for the seeds' @include lines, relative to DIR. */
static const struct {
	const char	*name;
	const char	*text;
} fragments[] = {
	{ "inc/gnss.conf",
	    "gnss = {\n\thost = \"10.0.0.5\";\n\tport = 3000;\n};\n"
	    "@include \"inc/storage.conf\"\n" },
	{ "inc/storage.conf", "storage = {\n\tkeep_days = 30;\n};\n" },
	{ "inc/syntax_error.conf", "gnss = {\n\tport = ;\n};\n" },
	{ "inc/bad_gnss.conf",
	    "gnss = {\n\tport = 70000;\n\thots = \"127.0.0.1\";\n};\n" },
	{ "inc/self.conf", "@include \"inc/self.conf\"\n" },
};

static void
write_file(const char *path, const void *buf, size_t len)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		fatal("fuzz_config: %s", path);
	if (len > 0 && write(fd, buf, len) != (ssize_t)len)
		fatal("fuzz_config: %s: write", path);
	if (close(fd) == -1)
		fatal("fuzz_config: %s: close", path);
}

static void
cleanup(void)
{
	char	*p;
	size_t	 i;

	for (i = 0; i < NELEM(fragments); i++) {
		p = xasprintf("%s/%s", dir, fragments[i].name);
		(void)unlink(p);
		free(p);
	}
	(void)unlink(main_path);
	(void)unlink(inc_path);
	(void)unlink(dump_path);
	p = xasprintf("%s/inc", dir);
	(void)rmdir(p);
	free(p);
	(void)rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp = getenv("TMPDIR");
	char		*p;
	size_t		 i;

	(void)argc;
	(void)argv;
	log_init("fuzz_config", LOG_TARGET_QUIET);
	dir = xasprintf("%s/fleetgw-fuzz-config.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		fatal("fuzz_config: mkdtemp %s", dir);
	p = xasprintf("%s/inc", dir);
	if (mkdir(p, 0700) == -1)
		fatal("fuzz_config: mkdir %s", p);
	free(p);
	for (i = 0; i < NELEM(fragments); i++) {
		p = xasprintf("%s/%s", dir, fragments[i].name);
		write_file(p, fragments[i].text, strlen(fragments[i].text));
		free(p);
	}
	main_path = xasprintf("%s/main.conf", dir);
	inc_path = xasprintf("%s/inc/fuzz.conf", dir);
	dump_path = xasprintf("%s/dump.conf", dir);
	atexit(cleanup);
	return 0;
}

static void
check_errors(const struct config_errors *errs, bool ok)
{
	size_t	i;

	if (ok ? errs->n != 0 :
	    (errs->n == 0 || errs->n > CONFIG_FUZZ_MAX_ERRS))
		abort();
	for (i = 0; i < errs->n; i++)
		if (errs->lines[i] == NULL)
			abort();
}

/* config_dump() output must load back to an equal config. */
static void
check_dump(const struct config *c)
{
	struct config_errors	 errs;
	struct config		*c2;
	FILE			*fp;
	size_t			 i;

	if ((fp = fopen(dump_path, "w")) == NULL)
		fatal("fuzz_config: %s", dump_path);
	config_dump(c, fp);
	if (fclose(fp) != 0)
		fatal("fuzz_config: %s: close", dump_path);
	c2 = config_load(dump_path, &errs);
	if (c2 == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "dump reload: %s\n", errs.lines[i]);
		abort();
	}
	check_errors(&errs, true);
	if (!config_equal(c, c2))
		abort();
	config_free(c2);
	config_errors_free(&errs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors	 errs;
	struct config		*c;
	const uint8_t		*sep;
	size_t			 mainlen;

	/* keeps @include inside dir: see the top */
	if (memmem(data, size, "..", 2) != NULL)
		return 0;
	sep = memmem(data, size, CONFIG_FUZZ_SEP, strlen(CONFIG_FUZZ_SEP));
	mainlen = sep != NULL ? (size_t)(sep - data) : size;
	write_file(main_path, data, mainlen);
	if (sep != NULL)
		write_file(inc_path, sep + strlen(CONFIG_FUZZ_SEP),
		    size - mainlen - strlen(CONFIG_FUZZ_SEP));
	else
		write_file(inc_path, "", 0);

	c = config_load(main_path, &errs);
	check_errors(&errs, c != NULL);
	if (c != NULL)
		check_dump(c);
	config_free(c);
	config_errors_free(&errs);
	return 0;
}
