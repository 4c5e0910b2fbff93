/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - the configuration module (daemon/config.c).
 *
 * Run from the repository root: the golden files are found through the
 * relative path tests/data/conf, and the expected error lines name files
 * that way (tests/data/conf/README.md).
 *
 * Golden files: every tests/data/conf/bad_*.conf must fail with exactly
 * the lines of its .err file; every good_*.conf must load and have a .ok
 * file saying "configuration OK".  The other tests check loaded values
 * and defaults by hand, the dump round trip, the settings table, and
 * every numeric key at, and one step beyond, both ends of its range.
 */

#include <sys/stat.h>

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libconfig.h>

#include "config.h"
#include "rules.h"
#include "util.h"

#define CONF_DIR	"tests/data/conf"
#define EXAMPLE		"conf/fleetgw.conf"
/* The issue asks for at least this many malformed files. */
#define MIN_BAD_FILES	35
#define MIN_GOOD_FILES	4

/* Helpers. */

static char *
read_text(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 len;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	cr_assert(fseek(fp, 0, SEEK_END) == 0);
	len = ftell(fp);
	cr_assert(len >= 0);
	rewind(fp);
	buf = malloc((size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)len, fp), (size_t)len, "%s", path);
	buf[len] = '\0';
	fclose(fp);
	return buf;
}

/* The error lines as -n prints them: each followed by a newline. */
static char *
join_errors(const struct config_errors *errs)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;
	size_t	 i;

	fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	for (i = 0; i < errs->n; i++)
		fprintf(fp, "%s\n", errs->lines[i]);
	fclose(fp);
	return buf;
}

/* Write text to a new file under /tmp; returns its malloc'ed path. */
static char *
write_tmp(const char *text)
{
	char	*path = strdup("/tmp/test_config_XXXXXX.conf");
	FILE	*fp;
	int	 fd;

	cr_assert_not_null(path);
	fd = mkstemps(path, strlen(".conf"));
	cr_assert(fd != -1, "mkstemps: %s", strerror(errno));
	fp = fdopen(fd, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	cr_assert(fclose(fp) == 0);
	return path;
}

/* Load a config that must be valid; print its errors if it is not. */
static struct config *
load_ok(const char *path)
{
	struct config_errors	 errs;
	struct config		*c;
	char			*msg;

	c = config_load(path, &errs);
	if (c == NULL) {
		msg = join_errors(&errs);
		config_errors_free(&errs);
		cr_assert_fail("%s does not load:\n%s", path, msg);
	}
	cr_assert_eq(errs.n, 0);
	cr_assert_str_eq(c->file, path);
	return c;
}

static struct config *
load_text_ok(const char *text)
{
	struct config	*c;
	char		*path = write_tmp(text);

	c = load_ok(path);
	unlink(path);
	free(path);
	return c;
}

/* Load text that must fail; returns the joined error lines. */
static char *
load_text_fail(const char *text, char **pathp)
{
	struct config_errors	 errs;
	struct config		*c;
	char			*path = write_tmp(text), *out;

	c = config_load(path, &errs);
	cr_assert_null(c, "loaded although invalid:\n%s", text);
	cr_assert_gt(errs.n, 0);
	out = join_errors(&errs);
	config_errors_free(&errs);
	unlink(path);
	if (pathp != NULL)
		*pathp = path;
	else
		free(path);
	return out;
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t	ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * The platform group needs a signing group and a url, and an https url
 * needs the CA and the client certificate and key: the smallest valid
 * pair of groups, to which a test adds the key it is about.
 */
#define SIGNING_GROUP	"signing = { key_file = \"signing.key\"; };\n"
static const char *const platform_base[][2] = {
	{ "url", "\"https://gw.example.gov.cn\"" },
	{ "ca_file", "\"ca.pem\"" },
	{ "cert_file", "\"client.pem\"" },
	{ "key_file", "\"client.key\"" },
};
/* A valid pin: "sha256//" and 44 base64 characters. */
#define PIN_A	"sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE="
#define PIN_B	"sha256//Vd9hG1Bfm2J2XyyU0ZjeeaJQXqOFZNvZ7zqL0KXyqMk="

/*
 * "device = { id }; signing = { ... }; platform = { BASE name = value;
 * };", the base without name (a malloc'ed string).
 */
static char *
platform_text(const char *name, const char *value)
{
	char	*text = NULL;
	size_t	 len = 0, i;
	FILE	*fp;

	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	fprintf(fp, "device = { id = \"SC-0001\"; };\n" SIGNING_GROUP
	    "platform = {\n");
	for (i = 0; i < NELEM(platform_base); i++)
		if (name == NULL || strcmp(name, platform_base[i][0]) != 0)
			fprintf(fp, "\t%s = %s;\n", platform_base[i][0],
			    platform_base[i][1]);
	if (name != NULL)
		fprintf(fp, "\t%s = %s;\n", name, value);
	fprintf(fp, "};\n");
	fclose(fp);
	return text;
}

/*
 * "group = { name = value; };" for a table key, written as nested groups
 * when the group is dotted ("rules.speeding": rules = { speeding = {
 * ... }; };), with device.id set so that the file can load (and the
 * groups platform needs).
 */
static void
key_text(char *buf, size_t len, const char *group, const char *name,
    const char *value)
{
	const char	*dot = strchr(group, '.');
	char		*text;

	if (strcmp(group, "platform") == 0) {
		text = platform_text(name, value);
		snprintf(buf, len, "%s", text);
		free(text);
	} else if (strcmp(group, "signing") == 0 &&
	    strcmp(name, "key_file") != 0)
		snprintf(buf, len, "device = { id = \"SC-0001\"; };\n"
		    "signing = { key_file = \"signing.key\"; %s = %s; };\n",
		    name, value);
	else if (strcmp(group, "device") == 0)
		snprintf(buf, len, "device = { %s = %s; %s };\n", name, value,
		    strcmp(name, "id") == 0 ? "" : "id = \"SC-0001\";");
	else if (dot != NULL)
		snprintf(buf, len, "device = { id = \"SC-0001\"; };\n"
		    "%.*s = { %s = { %s = %s; }; };\n", (int)(dot - group),
		    group, dot + 1, name, value);
	else
		snprintf(buf, len, "device = { id = \"SC-0001\"; };\n"
		    "%s = { %s = %s; };\n", group, name, value);
}

/* Write the group headers that lead from group "from" to group "to". */
static void
switch_group(FILE *fp, const char *from, const char *to)
{
	const char	*fdot = from != NULL ? strchr(from, '.') : NULL;
	const char	*tdot = to != NULL ? strchr(to, '.') : NULL;
	size_t		 flen = from == NULL ? 0 : fdot != NULL ?
			    (size_t)(fdot - from) : strlen(from);
	size_t		 tlen = to == NULL ? 0 : tdot != NULL ?
			    (size_t)(tdot - to) : strlen(to);
	bool		 same_top = from != NULL && to != NULL &&
			    flen == tlen && strncmp(from, to, flen) == 0;

	if (from != NULL && to != NULL && strcmp(from, to) == 0)
		return;
	if (fdot != NULL)
		fprintf(fp, "};\n");
	if (from != NULL && !same_top)
		fprintf(fp, "};\n");
	if (to != NULL && !same_top)
		fprintf(fp, "%.*s = {\n", (int)tlen, to);
	if (tdot != NULL)
		fprintf(fp, "%s = {\n", tdot + 1);
}

/* Golden files. */

Test(config, golden_bad_files)
{
	glob_t			 g;
	struct config_errors	 errs;
	struct config		*c;
	char			*errfile, *want, *got;
	size_t			 i;

	cr_assert_eq(glob(CONF_DIR "/bad_*.conf", 0, NULL, &g), 0,
	    "no " CONF_DIR "/bad_*.conf: run the tests from the repository "
	    "root");
	cr_assert_geq(g.gl_pathc, MIN_BAD_FILES, "only %zu bad files",
	    g.gl_pathc);
	for (i = 0; i < g.gl_pathc; i++) {
		errfile = strdup(g.gl_pathv[i]);
		cr_assert_not_null(errfile);
		strcpy(errfile + strlen(errfile) - strlen("conf"), "err");
		want = read_text(errfile);
		cr_expect_not_null(want, "%s: no %s", g.gl_pathv[i], errfile);
		c = config_load(g.gl_pathv[i], &errs);
		cr_expect_null(c, "%s: loaded although invalid",
		    g.gl_pathv[i]);
		config_free(c);
		got = join_errors(&errs);
		if (want != NULL)
			cr_expect_str_eq(got, want, "%s:\n--- got\n%s--- want\n%s",
			    g.gl_pathv[i], got, want);
		free(got);
		free(want);
		free(errfile);
		config_errors_free(&errs);
		cr_expect_eq(errs.n, 0);
		cr_expect_null(errs.lines);
	}
	globfree(&g);
}

/* Every .err has its .conf (a renamed .conf would otherwise go unseen). */
Test(config, golden_err_files_have_conf)
{
	glob_t		 g;
	struct stat	 st;
	char		*conf;
	size_t		 i;

	cr_assert_eq(glob(CONF_DIR "/bad_*.err", 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		/* ".err" to ".conf" grows by one byte. */
		conf = malloc(strlen(g.gl_pathv[i]) + 2);
		cr_assert_not_null(conf);
		strcpy(conf, g.gl_pathv[i]);
		strcpy(conf + strlen(conf) - strlen("err"), "conf");
		cr_expect_eq(stat(conf, &st), 0, "%s without %s",
		    g.gl_pathv[i], conf);
		free(conf);
	}
	globfree(&g);
}

Test(config, golden_good_files)
{
	glob_t		 g;
	struct config	*c;
	char		*ok, *text;
	size_t		 i;

	cr_assert_eq(glob(CONF_DIR "/good_*.conf", 0, NULL, &g), 0,
	    "no " CONF_DIR "/good_*.conf: run the tests from the "
	    "repository root");
	cr_assert_geq(g.gl_pathc, MIN_GOOD_FILES);
	for (i = 0; i < g.gl_pathc; i++) {
		c = load_ok(g.gl_pathv[i]);
		config_free(c);
		ok = strdup(g.gl_pathv[i]);
		cr_assert_not_null(ok);
		strcpy(ok + strlen(ok) - strlen("conf"), "ok");
		text = read_text(ok);
		cr_expect_not_null(text, "%s: no %s", g.gl_pathv[i], ok);
		if (text != NULL)
			cr_expect_str_eq(text, "configuration OK\n", "%s", ok);
		free(text);
		free(ok);
	}
	globfree(&g);
}

/* Values and defaults, checked by hand rather than through the table. */

Test(config, minimal_gets_defaults)
{
	struct config	*c = load_ok(CONF_DIR "/good_minimal.conf");

	cr_expect_str_eq(c->device.id, "SC-0001");
	cr_expect_str_eq(c->device.plate, "");
	cr_expect_str_eq(c->device.unit, "");
	cr_expect_eq(c->device.class, CONFIG_CLASS_GENERAL);
	cr_expect_str_eq(c->device.timezone, "Asia/Shanghai");
	cr_expect_eq(c->device.fuel, CONFIG_FUEL_GASOLINE);
	cr_expect_eq(c->device.tank_l, 0.0);
	cr_expect_str_eq(c->gnss.host, "127.0.0.1");
	cr_expect_eq(c->gnss.port, 2947);
	cr_expect_eq(c->gnss.max_hdop, 5.0);
	cr_expect_eq(c->gnss.retry_min_ms, 250);
	cr_expect_eq(c->gnss.retry_max_ms, 10000);
	cr_expect_eq(c->gnss.stale_s, 30);
	cr_expect_eq(c->obd.driver, CONFIG_OBD_NONE);
	cr_expect_str_eq(c->obd.device, "/dev/ttyUSB0");
	cr_expect_eq(c->obd.baud, 38400);
	cr_expect_str_eq(c->obd.interface, "can0");
	cr_expect_eq(c->obd.timeout_ms, 1000);
	cr_expect_eq(c->obd.poll_fast_ms, 1000);
	cr_expect_eq(c->obd.poll_slow_ms, 10000);
	cr_expect_eq(c->obd.dtc_interval_s, 300);
	cr_expect_eq(c->obd.retry_min_ms, 1000);
	cr_expect_eq(c->obd.retry_max_ms, 60000);
	cr_expect_eq(c->trips.ign_off_end_s, 60);
	cr_expect_eq(c->trips.stationary_end_s, 300);
	cr_expect_str_eq(c->storage.path, "/var/lib/fleetgw/fleetgw.db");
	cr_expect_eq(c->storage.max_size_mb, 512);
	cr_expect_eq(c->storage.keep_days, 180);
	cr_expect_eq(c->storage.commit_interval_s, 10);
	cr_expect_eq(c->storage.commit_rows, 256);
	cr_expect_str_eq(c->ctl.socket, "/run/fleetgw/ctl.sock");
	cr_expect_str_eq(c->ctl.admin_group, "");
	cr_expect_str_eq(c->ctl.inspect_group, "fleetgw-inspect");
	config_free(c);
}

Test(config, full_values)
{
	struct config	*c = load_ok(CONF_DIR "/good_full.conf");

	cr_expect_str_eq(c->device.id, "CD-Gov_0042.a");
	cr_expect_str_eq(c->device.plate, "川A12345");
	cr_expect_str_eq(c->device.unit, "成都市机关事务管理局");
	cr_expect_eq(c->device.class, CONFIG_CLASS_LAW_ENFORCEMENT);
	cr_expect_str_eq(c->device.timezone, "Asia/Urumqi");
	cr_expect_eq(c->device.fuel, CONFIG_FUEL_HYBRID);
	cr_expect_eq(c->device.tank_l, 62.5);
	cr_expect_str_eq(c->gnss.host, "gpsd.example.lan");
	cr_expect_eq(c->gnss.port, 2948);
	cr_expect_eq(c->gnss.max_hdop, 2.5);
	cr_expect_eq(c->gnss.retry_min_ms, 500);
	cr_expect_eq(c->gnss.retry_max_ms, 60000);
	cr_expect_eq(c->gnss.stale_s, 120);
	cr_expect_eq(c->obd.driver, CONFIG_OBD_ELM327);
	cr_expect_str_eq(c->obd.device, "tcp:192.168.0.10:35000");
	cr_expect_eq(c->obd.baud, 115200);
	cr_expect_str_eq(c->obd.interface, "vcan1");
	cr_expect_eq(c->obd.timeout_ms, 2500);
	cr_expect_eq(c->obd.poll_fast_ms, 250);
	cr_expect_eq(c->obd.poll_slow_ms, 5000);
	cr_expect_eq(c->obd.dtc_interval_s, 600);
	cr_expect_eq(c->obd.retry_min_ms, 500);
	cr_expect_eq(c->obd.retry_max_ms, 120000);
	cr_expect_eq(c->trips.ign_off_end_s, 120);
	cr_expect_eq(c->trips.stationary_end_s, 900);
	cr_expect_str_eq(c->storage.path, "data/fleetgw-test.db");
	cr_expect_eq(c->storage.max_size_mb, 1024);
	cr_expect_eq(c->storage.keep_days, 365);
	cr_expect_eq(c->storage.commit_interval_s, 2);
	cr_expect_eq(c->storage.commit_rows, 500);
	cr_expect_str_eq(c->ctl.socket, "/tmp/fleetgw-ctl.sock");
	cr_expect_str_eq(c->ctl.admin_group, "fleetgw-dispatch");
	cr_expect_str_eq(c->ctl.inspect_group, "fleet_inspectors");
	config_free(c);
}

Test(config, include_relative_to_main_file)
{
	struct config	*c = load_ok(CONF_DIR "/good_include.conf");

	cr_expect_str_eq(c->device.id, "SC-0002");
	cr_expect_str_eq(c->gnss.host, "10.0.0.5");	/* inc/gnss.conf */
	cr_expect_eq(c->gnss.port, 3000);
	cr_expect_eq(c->storage.keep_days, 30);		/* inc/storage.conf */
	cr_expect_str_eq(c->ctl.socket, "/run/fleetgw/other.sock");
	config_free(c);
}

/* Same files through an absolute path: the include directory follows. */
Test(config, include_with_absolute_main_path)
{
	struct config	*c;
	char		 abs[PATH_MAX];

	cr_assert_not_null(realpath(CONF_DIR "/good_include.conf", abs));
	c = load_ok(abs);
	cr_expect_eq(c->storage.keep_days, 30);
	config_free(c);
}

/*
 * A main file named without a directory: includes resolve from the cwd,
 * which is that directory, and errors name the files as written.
 */
Test(config, include_from_cwd)
{
	struct config_errors	 errs;
	struct config		*c;
	char			*got;

	cr_assert_eq(chdir(CONF_DIR), 0);
	c = load_ok("good_include.conf");
	cr_expect_eq(c->storage.keep_days, 30);
	config_free(c);
	cr_assert_null(config_load("bad_include_error.conf", &errs));
	got = join_errors(&errs);
	cr_expect_str_eq(got,
	    "inc/bad_gnss.conf:3: gnss.port: 70000 is out of range 1..65535\n"
	    "inc/bad_gnss.conf:4: gnss.hots: unknown key (known: host, port, "
	    "max_hdop, max_eph_m, retry_min_ms, retry_max_ms, stale_s)\n"
	    "bad_include_error.conf:8: storage.keep_days: 0 is out of range "
	    "1..3650\n");
	free(got);
	config_errors_free(&errs);
	cr_assert_eq(chdir("../../.."), 0);
}

Test(config, int_literal_for_float)
{
	struct config	*c = load_ok(CONF_DIR "/good_int_for_float.conf");

	cr_expect_eq(c->gnss.max_hdop, 7.0);
	config_free(c);
}

Test(config, optional_semicolons_and_colons)
{
	struct config	*c = load_ok(CONF_DIR "/good_no_semicolons.conf");

	cr_expect_eq(c->device.class, CONFIG_CLASS_EMERGENCY);
	cr_expect_eq(c->gnss.max_hdop, 4.5);
	config_free(c);
}

Test(config, hex_and_int64_literals)
{
	struct config	*c = load_ok(CONF_DIR "/good_hex_int64.conf");

	cr_expect_eq(c->gnss.port, 3000);
	cr_expect_eq(c->storage.max_size_mb, 1024);
	config_free(c);
}

Test(config, min_file)
{
	struct config	*c = load_ok(CONF_DIR "/good_min.conf");

	cr_expect_str_eq(c->device.id, "S");
	cr_expect_str_eq(c->device.timezone, "UTC");
	cr_expect_str_eq(c->gnss.host, "h");
	cr_expect_eq(c->gnss.port, 1);
	cr_expect_eq(c->gnss.max_hdop, 0.5);
	cr_expect_eq(c->gnss.retry_min_ms, 20);
	cr_expect_eq(c->gnss.retry_max_ms, 20);
	cr_expect_eq(c->gnss.stale_s, 5);
	cr_expect_eq(c->device.tank_l, 0.0);
	cr_expect_eq(c->obd.driver, CONFIG_OBD_NONE);
	cr_expect_str_eq(c->obd.device, "");
	cr_expect_eq(c->obd.baud, 9600);
	cr_expect_str_eq(c->obd.interface, "");
	cr_expect_eq(c->obd.timeout_ms, 100);
	cr_expect_eq(c->obd.poll_fast_ms, 20);
	cr_expect_eq(c->obd.poll_slow_ms, 100);
	cr_expect_eq(c->obd.dtc_interval_s, 10);
	cr_expect_eq(c->obd.retry_min_ms, 100);
	cr_expect_eq(c->obd.retry_max_ms, 1000);
	cr_expect_eq(c->trips.ign_off_end_s, 0);
	cr_expect_eq(c->trips.stationary_end_s, 30);
	cr_expect_str_eq(c->storage.path, "d");
	cr_expect_eq(c->storage.max_size_mb, 8);
	cr_expect_eq(c->storage.keep_days, 1);
	cr_expect_eq(c->storage.commit_interval_s, 1);
	cr_expect_eq(c->storage.commit_rows, 1);
	cr_expect_str_eq(c->ctl.socket, "s");
	config_free(c);
}

Test(config, max_file)
{
	struct config	*c = load_ok(CONF_DIR "/good_max.conf");

	cr_expect_eq(strlen(c->device.id), 32);
	cr_expect_eq(strlen(c->device.plate), 32);
	cr_expect_eq(strlen(c->device.unit), 128);
	cr_expect_eq(c->device.class, CONFIG_CLASS_CONFIDENTIAL);
	cr_expect_eq(c->device.fuel, CONFIG_FUEL_CNG);
	cr_expect_eq(strlen(c->gnss.host), 253);
	cr_expect_eq(c->gnss.port, 65535);
	cr_expect_eq(c->gnss.max_hdop, 100.0);
	cr_expect_eq(c->gnss.retry_min_ms, 60000);
	cr_expect_eq(c->gnss.retry_max_ms, 600000);
	cr_expect_eq(c->gnss.stale_s, 3600);
	cr_expect_eq(c->device.tank_l, 2000.0);
	cr_expect_eq(c->obd.driver, CONFIG_OBD_SOCKETCAN);
	cr_expect_eq(c->obd.baud, 2000000);
	cr_expect_eq(strlen(c->obd.interface), 15);
	cr_expect_eq(c->obd.timeout_ms, 30000);
	cr_expect_eq(c->obd.poll_fast_ms, 60000);
	cr_expect_eq(c->obd.poll_slow_ms, 3600000);
	cr_expect_eq(c->obd.dtc_interval_s, 86400);
	cr_expect_eq(c->obd.retry_min_ms, 60000);
	cr_expect_eq(c->obd.retry_max_ms, 3600000);
	cr_expect_eq(c->trips.ign_off_end_s, 3600);
	cr_expect_eq(c->trips.stationary_end_s, 7200);
	cr_expect_eq(c->storage.max_size_mb, 65536);
	cr_expect_eq(c->storage.keep_days, 3650);
	cr_expect_eq(c->storage.commit_interval_s, 60);
	cr_expect_eq(c->storage.commit_rows, 10000);
	cr_expect_eq(strlen(c->ctl.socket), 107);
	config_free(c);
}

/* The calendar group's keys (arrays, outside the settings table). */
static const char *const calendar_keys[] = {
	"workdays", "work_hours", "holidays", "extra_workdays",
	"holidays_2025", "extra_workdays_2025", "holidays_2026",
	"extra_workdays_2026"
};

/*
 * The shipped example passes and sets every key explicitly, except those
 * of the groups platform and signing, which it shows commented out
 * (example_optional_groups below).
 */
Test(config, example_is_valid_and_complete)
{
	struct config_keyinfo	 ki;
	struct config		*c = load_ok(EXAMPLE);
	config_t		 lc;
	char			 key[128];
	size_t			 i;

	cr_expect_str_eq(c->device.id, "SC-0001");
	cr_expect_str_eq(c->device.plate, "川A12345");
	cr_expect_str_eq(c->storage.path, "/var/lib/fleetgw/fleetgw.db");
	cr_expect_str_eq(c->ctl.socket, "/run/fleetgw/ctl.sock");
	/* DESIGN.md §5 shows an ELM327 on /dev/ttyUSB0 at 38400. */
	cr_expect_eq(c->obd.driver, CONFIG_OBD_ELM327);
	cr_expect_str_eq(c->obd.device, "/dev/ttyUSB0");
	cr_expect_eq(c->obd.baud, 38400);
	config_free(c);

	/* The example @includes calendar/cn-YYYY.conf from its directory. */
	config_init(&lc);
	config_set_include_dir(&lc, "conf");
	cr_assert(config_read_file(&lc, EXAMPLE) == CONFIG_TRUE, "%s:%d: %s",
	    config_error_file(&lc) != NULL ? config_error_file(&lc) : EXAMPLE,
	    config_error_line(&lc), config_error_text(&lc));
	cr_expect_null(config_lookup(&lc, "platform"));
	cr_expect_null(config_lookup(&lc, "signing"));
	for (i = 0; config_key_info(i, &ki) == 0; i++) {
		if (strcmp(ki.group, "platform") == 0 ||
		    strcmp(ki.group, "signing") == 0)
			continue;
		snprintf(key, sizeof(key), "%s.%s", ki.group, ki.name);
		cr_expect_not_null(config_lookup(&lc, key),
		    EXAMPLE " does not document %s", key);
	}
	/* The calendar's arrays are not in the settings table. */
	for (i = 0; i < NELEM(calendar_keys); i++) {
		snprintf(key, sizeof(key), "calendar.%s", calendar_keys[i]);
		cr_expect_not_null(config_lookup(&lc, key),
		    EXAMPLE " does not document %s", key);
	}
	cr_expect_not_null(config_lookup(&lc,
	    "rules.forbidden_place.categories"),
	    EXAMPLE " does not document rules.forbidden_place.categories");
	config_destroy(&lc);
}

/*
 * The commented-out group "#name = {" ... "#};" of the example, without
 * the "#" that starts each line: what a user gets by uncommenting it.
 */
static void
uncomment_group(FILE *fp, const char *text, const char *name)
{
	char		 start[64];
	const char	*p, *nl;

	snprintf(start, sizeof(start), "\n#%s = {\n", name);
	p = strstr(text, start);
	cr_assert_not_null(p, EXAMPLE ": no commented-out %s group", name);
	for (p++; *p == '#'; p = nl + 1) {
		nl = strchr(p, '\n');
		cr_assert_not_null(nl);
		fprintf(fp, "%.*s\n", (int)(nl - p - 1), p + 1);
		if (strncmp(p, "#};\n", 4) == 0)
			return;
	}
	cr_assert_fail(EXAMPLE ": the %s group does not end in \"#};\"", name);
}

/* Uncommented, the example's platform and signing groups load, complete. */
Test(config, example_optional_groups)
{
	struct config_keyinfo	 ki;
	struct config		*c, *d;
	config_t		 lc;
	char			*example = read_text(EXAMPLE), *text = NULL;
	char			*path, key[128];
	size_t			 len = 0, i;
	FILE			*fp;

	cr_assert_not_null(example);
	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	fprintf(fp, "device = { id = \"SC-0001\"; };\n");
	uncomment_group(fp, example, "platform");
	uncomment_group(fp, example, "signing");
	fclose(fp);
	path = write_tmp(text);
	c = load_ok(path);
	cr_expect(c->platform.enabled && c->signing.enabled);
	cr_expect_str_eq(c->platform.url,
	    "https://gwc.example.gov.cn:8443/fleet");
	/* Relative to the directory of the file: here, /tmp. */
	cr_expect_str_eq(c->platform.ca_path, "/tmp/platform-ca.pem");
	cr_expect_str_eq(c->signing.key_path, "/tmp/signing.key");
	config_free(c);

	config_init(&lc);
	cr_assert(config_read_file(&lc, path) == CONFIG_TRUE);
	for (i = 0; config_key_info(i, &ki) == 0; i++) {
		if (strcmp(ki.group, "platform") != 0 &&
		    strcmp(ki.group, "signing") != 0)
			continue;
		snprintf(key, sizeof(key), "%s.%s", ki.group, ki.name);
		cr_expect_not_null(config_lookup(&lc, key),
		    EXAMPLE " does not document %s", key);
	}
	config_destroy(&lc);
	/* Every value shown is the default, where there is one. */
	c = load_ok(path);
	d = load_text_ok("device = { id = \"SC-0001\"; };\n"
	    "platform = { url = \"https://gwc.example.gov.cn:8443/fleet\";\n"
	    "ca_file = \"platform-ca.pem\"; cert_file = \"client.pem\";\n"
	    "key_file = \"client.key\"; };\n" SIGNING_GROUP);
	cr_expect(config_equal(c, d), "%s", text);
	config_free(c);
	config_free(d);
	unlink(path);
	free(path);
	free(text);
	free(example);
}

/* Errors outside the golden files. */

Test(config, missing_file)
{
	struct config_errors	 errs;

	cr_assert_null(config_load(CONF_DIR "/does-not-exist.conf", &errs));
	cr_assert_eq(errs.n, 1);
	cr_expect_str_eq(errs.lines[0], CONF_DIR "/does-not-exist.conf:0: "
	    "cannot open: No such file or directory");
	config_errors_free(&errs);
}

Test(config, directory_as_file)
{
	struct config_errors	 errs;

	cr_assert_null(config_load(CONF_DIR, &errs));
	cr_assert_eq(errs.n, 1);
	cr_expect_str_eq(errs.lines[0], CONF_DIR ":0: cannot open: Is a "
	    "directory");
	config_errors_free(&errs);
}

/*
 * @include of something that is not a regular file: libconfig 1.5 would
 * exit(2) inside its scanner on a directory, killing the test process
 * (and fleetgwd on SIGHUP).  config_load() must return with one line.
 */
static void
expect_one_error(const char *path, const char *want)
{
	struct config_errors	 errs;
	struct config		*c;
	char			*got;

	c = config_load(path, &errs);
	cr_assert_null(c, "%s: loaded although invalid", path);
	got = join_errors(&errs);
	cr_expect_eq(errs.n, 1, "%s:\n%s", path, got);
	if (errs.n > 0)
		cr_expect_str_eq(errs.lines[0], want);
	free(got);
	config_errors_free(&errs);
}

Test(config, include_directory_is_an_error_not_exit)
{
	expect_one_error(CONF_DIR "/bad_include_dir.conf", CONF_DIR
	    "/bad_include_dir.conf:3: @include \"inc\": not a regular file");
	expect_one_error(CONF_DIR "/bad_include_empty.conf", CONF_DIR
	    "/bad_include_empty.conf:3: @include \"\": empty file name");
	expect_one_error(CONF_DIR "/bad_include_nested_dir.conf", CONF_DIR
	    "/inc/include_dir.conf:3: @include \"inc/\": not a regular file");
	expect_one_error(CONF_DIR "/bad_include_missing.conf", CONF_DIR
	    "/bad_include_missing.conf:5: @include "
	    "\"inc/does-not-exist.conf\": No such file or directory");
	expect_one_error(CONF_DIR "/bad_include_cycle.conf", CONF_DIR
	    "/inc/include_main.conf:2: @include \"bad_include_cycle.conf\": "
	    "include cycle (the file includes itself)");
	expect_one_error(CONF_DIR "/bad_include_backslash.conf", CONF_DIR
	    "/bad_include_backslash.conf:3: @include \"inc\\\\gnss.conf\": "
	    "backslash in file name is not supported");
}

/* The fuzzer's reproducer: @include "" after a valid device group. */
Test(config, include_empty_fuzz_reproducer)
{
	char	*path;
	char	*got;

	got = load_text_fail("device = { id = \"SC-0001\"; };\n@include \"\"\n",
	    &path);
	cr_expect(has_suffix(got, ":2: @include \"\": empty file name\n"),
	    "%s", got);
	free(got);
	free(path);
}

/*
 * Only what libconfig's scanner takes for an @include is checked: not
 * text in comments or strings, and not an @include in mid-line (a
 * syntax error for libconfig).
 */
Test(config, include_lookalikes_are_not_checked)
{
	struct config	*c;
	char		*got;

	c = load_text_ok("device = { id = \"SC-0001\"; };\n"
	    "/*\n@include \"\"\n*/\n"
	    "# @include \"\"\n"
	    "// @include \"\"\n"
	    "  # @include \"\"\n");
	config_free(c);

	/* In a string (escaped quotes): only the value is wrong. */
	got = load_text_fail("device = { id = \"SC-0001\"; unit = \"x\n"
	    "@include \\\"\\\"\n\"; };\n", NULL);
	cr_expect(has_suffix(got, ":1: device.unit: contains a control "
	    "character\n"), "%s", got);
	free(got);

	/* Not at the start of a line: libconfig's syntax error. */
	got = load_text_fail("device = { id = \"SC-0001\"; }; @include \"\"\n",
	    NULL);
	cr_expect(has_suffix(got, ":1: syntax error\n"), "%s", got);
	free(got);
}

/*
 * libconfig 1.5 silently drops an @include without its closing quote (and
 * echoes a backslash in it to stdout): reported instead.
 */
Test(config, include_unterminated)
{
	char	*got;

	got = load_text_fail("device = { id = \"SC-0001\"; };\n"
	    "@include \"inc/gnss.conf\n", NULL);
	cr_expect(has_suffix(got, ":2: @include \"inc/gnss.conf\\x0a\": no "
	    "closing quote before the end of the file\n"), "%s", got);
	free(got);
}

/* A directory made under /tmp; freed by the caller. */
static char *
make_tmpdir(void)
{
	char	*dir = strdup("/tmp/test_config_XXXXXX");

	cr_assert_not_null(dir);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	return dir;
}

static void
write_in(const char *dir, const char *name, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	cr_assert(fclose(fp) == 0);
}

static void
rm_in(const char *dir, const char *name)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/* libconfig's limit: 10 includes open at once, an 11th is an error. */
Test(config, include_depth_limit)
{
	struct config_errors	 errs;
	struct config		*c;
	char			 name[32], text[64], main[PATH_MAX];
	char			 want[PATH_MAX + 128];
	char			*dir = make_tmpdir();
	int			 i;

	snprintf(main, sizeof(main), "%s/main.conf", dir);
	write_in(dir, "main.conf", "device = { id = \"SC-0001\"; };\n"
	    "@include \"c1.conf\"\n");
	for (i = 1; i <= 10; i++) {
		snprintf(name, sizeof(name), "c%d.conf", i);
		write_in(dir, name, "# leaf\n");
		if (i > 1) {
			snprintf(name, sizeof(name), "c%d.conf", i - 1);
			snprintf(text, sizeof(text), "@include \"c%d.conf\"\n",
			    i);
			write_in(dir, name, text);
		}
	}
	c = load_ok(main);
	config_free(c);

	write_in(dir, "c10.conf", "@include \"c11.conf\"\n");
	write_in(dir, "c11.conf", "# one too deep\n");
	snprintf(want, sizeof(want), "%s/c10.conf:1: @include \"c11.conf\": "
	    "nested too deep (at most 10 levels)", dir);
	expect_one_error(main, want);

	/* A file that includes itself, reported as such. */
	write_in(dir, "c1.conf", "# a cycle\n@include \"c1.conf\"\n");
	snprintf(want, sizeof(want), "%s/c1.conf:2: @include \"c1.conf\": "
	    "include cycle (the file includes itself)", dir);
	expect_one_error(main, want);
	cr_expect(config_load(main, &errs) == NULL);
	config_errors_free(&errs);

	rm_in(dir, "main.conf");
	for (i = 1; i <= 11; i++) {
		snprintf(name, sizeof(name), "c%d.conf", i);
		rm_in(dir, name);
	}
	cr_expect_eq(rmdir(dir), 0, "rmdir %s: %s", dir, strerror(errno));
	free(dir);
}

/* A FIFO would block libconfig: refused without opening it for good. */
Test(config, include_fifo_and_large_file)
{
	char	 path[PATH_MAX], main[PATH_MAX], want[PATH_MAX + 128];
	char	*dir = make_tmpdir(), *big;
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo: %s", strerror(errno));
	snprintf(main, sizeof(main), "%s/main.conf", dir);
	write_in(dir, "main.conf", "device = { id = \"SC-0001\"; };\n"
	    "@include \"fifo\"\n");
	snprintf(want, sizeof(want), "%s:2: @include \"fifo\": not a regular "
	    "file", main);
	expect_one_error(main, want);
	snprintf(want, sizeof(want), "%s:0: cannot open: not a regular file",
	    path);
	expect_one_error(path, want);

	/* 1 MiB of newlines and one byte more. */
	big = malloc(1024 * 1024 + 2);
	cr_assert_not_null(big);
	memset(big, '\n', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = '\0';
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(big, fp);
	cr_assert(fclose(fp) == 0);
	write_in(dir, "main.conf", "device = { id = \"SC-0001\"; };\n"
	    "@include \"big.conf\"\n");
	snprintf(want, sizeof(want), "%s:2: @include \"big.conf\": larger "
	    "than 1048576 bytes", main);
	expect_one_error(main, want);
	snprintf(want, sizeof(want), "%s:0: cannot read: larger than 1048576 "
	    "bytes", path);
	expect_one_error(path, want);

	/* Exactly 1 MiB is fine. */
	big[1024 * 1024] = '\0';
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(big, fp);
	cr_assert(fclose(fp) == 0);
	config_free(load_ok(main));
	free(big);

	rm_in(dir, "fifo");
	rm_in(dir, "big.conf");
	rm_in(dir, "main.conf");
	cr_expect_eq(rmdir(dir), 0, "rmdir %s: %s", dir, strerror(errno));
	free(dir);
}

Test(config, errors_free_twice_and_empty)
{
	struct config_errors	 errs = { 0, NULL };

	config_errors_free(&errs);
	config_errors_free(&errs);
	config_errors_free(NULL);
	config_free(NULL);
}

/* A failed load leaves no partial config and never sets file. */
Test(config, failure_returns_null_and_errors_only)
{
	char	*out, *path;

	out = load_text_fail("device = { id = \"x\"; };\ngnss = { port = 0; "
	    "};\n", &path);
	cr_expect(strstr(out, ":2: gnss.port: 0 is out of range 1..65535\n")
	    != NULL, "%s", out);
	cr_expect(strncmp(out, path, strlen(path)) == 0, "%s", out);
	free(out);
	free(path);
}

/* The dump is a valid config that loads back to an equal one. */

static void
roundtrip(const char *path)
{
	struct config	*a, *b;
	char		*text = NULL, *tmp;
	size_t		 len = 0;
	FILE		*fp;

	a = load_ok(path);
	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_dump(a, fp);
	fclose(fp);
	tmp = write_tmp(text);
	b = load_ok(tmp);
	cr_expect(config_equal(a, b), "%s: dump does not load back equal:\n%s",
	    path, text);
	cr_expect_str_eq(b->device.id, a->device.id);
	cr_expect_str_eq(b->device.plate, a->device.plate);
	cr_expect_str_eq(b->device.unit, a->device.unit);
	cr_expect_str_eq(b->storage.path, a->storage.path);
	cr_expect_eq(b->device.class, a->device.class);
	cr_expect_eq(b->gnss.max_hdop, a->gnss.max_hdop);
	cr_expect_eq(b->storage.commit_rows, a->storage.commit_rows);
	cr_expect_eq(b->device.tank_l, a->device.tank_l);
	cr_expect_eq(b->obd.driver, a->obd.driver);
	cr_expect_str_eq(b->obd.device, a->obd.device);
	cr_expect_str_eq(b->obd.interface, a->obd.interface);
	cr_expect_eq(b->obd.baud, a->obd.baud);
	cr_expect_eq(b->obd.poll_slow_ms, a->obd.poll_slow_ms);
	cr_expect_eq(b->obd.retry_max_ms, a->obd.retry_max_ms);
	cr_expect_eq(b->trips.ign_off_end_s, a->trips.ign_off_end_s);
	cr_expect_eq(b->trips.stationary_end_s, a->trips.stationary_end_s);
	unlink(tmp);
	free(tmp);
	free(text);
	config_free(a);
	config_free(b);
}

Test(config, dump_roundtrip)
{
	glob_t	g;
	size_t	i;

	roundtrip(EXAMPLE);
	cr_assert_eq(glob(CONF_DIR "/good_*.conf", 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++)
		roundtrip(g.gl_pathv[i]);
	globfree(&g);
}

/* Quotes, backslashes, UTF-8 and awkward floats survive the dump. */
Test(config, dump_roundtrip_quoting)
{
	char	*path;

	path = write_tmp("device = {\n"
	    "\tid = \"q\";\n"
	    "\tunit = \"成都 \\\"办公室\\\" C:\\\\new # not a comment\";\n"
	    "\tplate = \"/* not a comment */\";\n"
	    "};\n"
	    "gnss = { max_hdop = 0.7; };\n");
	roundtrip(path);
	unlink(path);
	free(path);
}

Test(config, dump_format)
{
	struct config	*c = load_ok(CONF_DIR "/good_minimal.conf");
	char		*text = NULL;
	size_t		 len = 0;
	FILE		*fp;

	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_dump(c, fp);
	fclose(fp);
	cr_expect(strstr(text, "device = {\n\tid = \"SC-0001\";\n") != NULL,
	    "%s", text);
	cr_expect(strstr(text, "\tmax_hdop = 5.0;\n") != NULL, "%s", text);
	cr_expect(strstr(text, "\tclass = \"general\";\n") != NULL, "%s",
	    text);
	cr_expect(strstr(text, "\tport = 2947;\n") != NULL, "%s", text);
	cr_expect(strstr(text, "\ttank_l = 0.0;\n") != NULL, "%s", text);
	cr_expect(strstr(text, "obd = {\n\tdriver = \"none\";\n"
	    "\tdevice = \"/dev/ttyUSB0\";\n\tbaud = 38400;\n") != NULL, "%s",
	    text);
	cr_expect(strstr(text, "trips = {\n\tign_off_end_s = 60;\n"
	    "\tstationary_end_s = 300;\n};\n") != NULL, "%s", text);
	free(text);
	config_free(c);
}

/* config_equal() notices a change in any single key. */

static const char *
other_enum_value(const struct config_keyinfo *ki)
{
	cr_assert_not_null(ki->values);
	cr_assert_not_null(ki->values[1]);
	return ki->values[1];	/* the default is values[0] */
}

static bool
is_key(const struct config_keyinfo *ki, const char *group, const char *name)
{
	return strcmp(ki->group, group) == 0 && strcmp(ki->name, name) == 0;
}

/*
 * A valid value for ki that differs from its default, on its own: the
 * largest, except where that breaks a rule with a default (poll_fast_ms
 * above the default poll_slow_ms, min_stop_s above max_stop_s, a commute
 * window that overlaps the other one).  Booleans are tried both ways by
 * the caller.
 */
static void
non_default_value(const struct config_keyinfo *ki, char *buf, size_t len)
{
	if (is_key(ki, "obd", "poll_fast_ms") ||
	    is_key(ki, "rules.commute_pattern", "min_stop_s"))
		snprintf(buf, len, "%.17g", ki->min);
	else if (strcmp(ki->type, "time") == 0)
		snprintf(buf, len, "\"12:34\"");
	else if (is_key(ki, "rules.commute_pattern", "morning"))
		snprintf(buf, len, "\"05:00-06:00\"");
	else if (strcmp(ki->type, "period") == 0)
		snprintf(buf, len, "\"21:00-22:00\"");
	else if (strcmp(ki->type, "array") == 0)
		snprintf(buf, len, "[ \"general\", \"%s\" ]",
		    ki->values[3]);
	else if (strcmp(ki->type, "int") == 0 ||
	    strcmp(ki->type, "float") == 0)
		snprintf(buf, len, "%.17g", ki->max);
	else if (strcmp(ki->type, "enum") == 0)
		snprintf(buf, len, "\"%s\"", other_enum_value(ki));
	else if (strcmp(ki->group, "device") == 0 &&
	    strcmp(ki->name, "timezone") == 0)
		snprintf(buf, len, "\"Europe/Berlin\"");
	else if (is_key(ki, "obd", "device"))
		snprintf(buf, len, "\"/dev/ttyACM0\"");
	else if (is_key(ki, "platform", "url"))
		snprintf(buf, len, "\"https://gw2.example.gov.cn\"");
	else if (is_key(ki, "platform", "pinned_pubkey"))
		snprintf(buf, len, "\"%s\"", PIN_A);
	else
		snprintf(buf, len, "\"changed\"");
}

Test(config, equal_sees_every_key)
{
	struct config_keyinfo	 ki;
	struct config		*base, *c, *other, *b, *pbase, *sbase;
	char			 text[1024], value[128], *ptext;
	size_t			 i;

	base = load_ok(CONF_DIR "/good_minimal.conf");
	c = load_ok(CONF_DIR "/good_minimal.conf");
	cr_expect(config_equal(base, c));
	config_free(c);
	/* The platform and signing keys against a file with those groups. */
	ptext = platform_text(NULL, NULL);
	pbase = load_text_ok(ptext);
	free(ptext);
	sbase = load_text_ok("device = { id = \"SC-0001\"; };\n"
	    SIGNING_GROUP);
	cr_expect(!config_equal(base, sbase), "signing group not noticed");
	cr_expect(!config_equal(sbase, pbase), "platform group not noticed");
	for (i = 0; config_key_info(i, &ki) == 0; i++) {
		b = strcmp(ki.group, "platform") == 0 ? pbase :
		    strcmp(ki.group, "signing") == 0 ? sbase : base;
		if (strcmp(ki.type, "bool") == 0) {
			/* One of the two is not the default. */
			key_text(text, sizeof(text), ki.group, ki.name, "true");
			c = load_text_ok(text);
			key_text(text, sizeof(text), ki.group, ki.name,
			    "false");
			other = load_text_ok(text);
			cr_expect(config_equal(b, c) != config_equal(b, other),
			    "%s.%s not noticed", ki.group, ki.name);
			config_free(c);
			config_free(other);
			continue;
		}
		non_default_value(&ki, value, sizeof(value));
		key_text(text, sizeof(text), ki.group, ki.name, value);
		c = load_text_ok(text);
		cr_expect(!config_equal(b, c), "%s.%s = %s not noticed",
		    ki.group, ki.name, value);
		config_free(c);
	}
	config_free(pbase);
	config_free(sbase);
	/* The categories list, outside the table. */
	c = load_text_ok("device = { id = \"SC-0001\"; };\nrules = { "
	    "forbidden_place = { categories = ( { name = \"golf\"; "
	    "dwell_s = 0; } ); }; };\n");
	cr_expect(!config_equal(base, c), "categories not noticed");
	other = load_text_ok("device = { id = \"SC-0001\"; };\nrules = { "
	    "forbidden_place = { categories = ( { name = \"golf\"; "
	    "dwell_s = 1; } ); }; };\n");
	cr_expect(!config_equal(other, c), "category dwell_s not noticed");
	config_free(other);
	other = load_text_ok("device = { id = \"SC-0001\"; };\nrules = { "
	    "forbidden_place = { categories = ( { name = \"golf2\"; "
	    "dwell_s = 0; } ); }; };\n");
	cr_expect(!config_equal(other, c), "category name not noticed");
	config_free(other);
	config_free(c);
	config_free(base);
}

/* The settings table. */

Test(config, table_complete)
{
	struct config_keyinfo	 ki;
	size_t			 i, n = config_key_count(), j;

	cr_assert_geq(n, 17, "device, gnss, storage and ctl have 17 keys");
	for (i = 0; i < n; i++) {
		cr_assert_eq(config_key_info(i, &ki), 0);
		cr_expect_not_null(ki.help);
		cr_expect_gt(strlen(ki.help), 10, "%s.%s: no real help text",
		    ki.group, ki.name);
		cr_expect(strcmp(ki.type, "string") == 0 ||
		    strcmp(ki.type, "int") == 0 ||
		    strcmp(ki.type, "float") == 0 ||
		    strcmp(ki.type, "bool") == 0 ||
		    strcmp(ki.type, "enum") == 0 ||
		    strcmp(ki.type, "time") == 0 ||
		    strcmp(ki.type, "period") == 0 ||
		    strcmp(ki.type, "array") == 0, "%s.%s: type %s", ki.group,
		    ki.name, ki.type);
		if (strcmp(ki.type, "enum") == 0 ||
		    strcmp(ki.type, "array") == 0)
			cr_expect(ki.values != NULL && ki.values[0] != NULL &&
			    ki.values[1] != NULL, "%s.%s", ki.group, ki.name);
		else
			cr_expect_leq(ki.min, ki.max, "%s.%s", ki.group,
			    ki.name);
		/*
		 * Only device.id is required (DESIGN.md §5); platform.url
		 * and signing.key_file when their (optional) group is there.
		 */
		cr_expect_eq(ki.required, is_key(&ki, "device", "id") ||
		    is_key(&ki, "platform", "url") ||
		    is_key(&ki, "signing", "key_file"), "%s.%s", ki.group,
		    ki.name);
		for (j = 0; j < i; j++) {
			struct config_keyinfo	o;

			config_key_info(j, &o);
			cr_expect(strcmp(o.group, ki.group) != 0 ||
			    strcmp(o.name, ki.name) != 0, "%s.%s twice",
			    ki.group, ki.name);
		}
	}
	cr_expect_eq(config_key_info(n, &ki), -1);
}

Test(config, print_table_lists_every_key)
{
	struct config_keyinfo	 ki;
	char			*text = NULL, key[128];
	size_t			 len = 0, i;
	FILE			*fp;

	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_print_table(fp);
	fclose(fp);
	for (i = 0; config_key_info(i, &ki) == 0; i++) {
		snprintf(key, sizeof(key), "\n%s.%s ", ki.group, ki.name);
		cr_expect(strstr(text, key) != NULL, "no %s", key + 1);
		cr_expect(strstr(text, ki.help) != NULL, "no help for %s",
		    key + 1);
	}
	cr_expect(strstr(text, "(required)") != NULL);
	cr_expect(strstr(text, "1..65535") != NULL);
	cr_expect(strstr(text, "0.5..100") != NULL);
	cr_expect(strstr(text, "\"Asia/Shanghai\"") != NULL);
	free(text);
}

Test(config, enum_names)
{
	cr_expect_str_eq(config_class_name(CONFIG_CLASS_GENERAL), "general");
	cr_expect_str_eq(config_class_name(CONFIG_CLASS_LAW_ENFORCEMENT),
	    "law_enforcement");
	cr_expect_str_eq(config_class_name(CONFIG_CLASS_CONFIDENTIAL),
	    "confidential");
	cr_expect_str_eq(config_class_name((enum config_class)99), "unknown");
	cr_expect_str_eq(config_fuel_name(CONFIG_FUEL_DIESEL), "diesel");
	cr_expect_str_eq(config_fuel_name(CONFIG_FUEL_CNG), "cng");
	cr_expect_str_eq(config_fuel_name((enum config_fuel)99), "unknown");
	cr_expect_str_eq(config_obd_driver_name(CONFIG_OBD_NONE), "none");
	cr_expect_str_eq(config_obd_driver_name(CONFIG_OBD_ELM327), "elm327");
	cr_expect_str_eq(config_obd_driver_name(CONFIG_OBD_SOCKETCAN),
	    "socketcan");
	cr_expect_str_eq(config_obd_driver_name((enum config_obd_driver)99),
	    "unknown");
	cr_expect_str_eq(config_obd_driver_name((enum config_obd_driver)-1),
	    "unknown");
}

/* Every value of every enum key loads, to the index of its name. */
Test(config, every_enum_value)
{
	struct config_keyinfo	 ki;
	struct config		*c;
	char			 text[256];
	size_t			 i, v;

	for (i = 0; config_key_info(i, &ki) == 0; i++) {
		if (strcmp(ki.type, "enum") != 0)
			continue;
		for (v = 0; ki.values[v] != NULL; v++) {
			if (strcmp(ki.group, "device") == 0)
				snprintf(text, sizeof(text), "device = { id = "
				    "\"SC-0001\"; %s = \"%s\"; };\n", ki.name,
				    ki.values[v]);
			else
				snprintf(text, sizeof(text), "device = { id = "
				    "\"SC-0001\"; };\n%s = { %s = \"%s\"; };\n",
				    ki.group, ki.name, ki.values[v]);
			c = load_text_ok(text);
			if (is_key(&ki, "device", "class"))
				cr_expect_str_eq(config_class_name(
				    c->device.class), ki.values[v]);
			else if (is_key(&ki, "device", "fuel"))
				cr_expect_str_eq(config_fuel_name(
				    c->device.fuel), ki.values[v]);
			else if (is_key(&ki, "obd", "driver"))
				cr_expect_str_eq(config_obd_driver_name(
				    c->obd.driver), ki.values[v]);
			else
				cr_expect_fail("enum %s.%s not checked",
				    ki.group, ki.name);
			config_free(c);
		}
	}
}

/*
 * Every numeric key at both ends of its range loads (all at once, which
 * also shows the keys land in distinct fields), and one step beyond
 * either end fails with a range error on that key.  Floats step by one
 * ulp, so a < written as <= (or the reverse) is caught.
 */

static void
fmt_number(char *buf, size_t len, const struct config_keyinfo *ki, double v)
{
	if (strcmp(ki->type, "int") == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.17g", v);
}

static char *
numeric_file(bool at_max, const struct config_keyinfo *only, double value)
{
	struct config_keyinfo	 ki;
	char			*text = NULL, num[64];
	const char		*group = NULL;
	size_t			 len = 0, i;
	FILE			*fp;

	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	/* device's own numeric keys join the group that holds the id. */
	fprintf(fp, "device = {\n\tid = \"SC-0001\";\n");
	group = "device";
	for (i = 0; config_key_info(i, &ki) == 0; i++) {
		if (strcmp(ki.type, "int") != 0 &&
		    strcmp(ki.type, "float") != 0)
			continue;
		if (strcmp(group, ki.group) != 0 &&
		    strcmp(ki.group, "platform") == 0) {
			switch_group(fp, group, ki.group);
			fprintf(fp, "\turl = \"http://127.0.0.1:8080\";\n"
			    "\tallow_insecure_http = true;\n");
		} else if (strcmp(group, ki.group) != 0 &&
		    strcmp(ki.group, "signing") == 0) {
			/* The group with its required key. */
			switch_group(fp, group, ki.group);
			fprintf(fp, "\tkey_file = \"signing.key\";\n");
		} else
			switch_group(fp, group, ki.group);
		group = ki.group;
		if (only != NULL && strcmp(only->group, ki.group) == 0 &&
		    strcmp(only->name, ki.name) == 0)
			fmt_number(num, sizeof(num), &ki, value);
		else
			fmt_number(num, sizeof(num), &ki,
			    at_max ? ki.max : ki.min);
		fprintf(fp, "\t%s = %s;\n", ki.name, num);
	}
	switch_group(fp, group, NULL);
	fclose(fp);
	return text;
}

static double
numeric_value(const struct config *c, const struct config_keyinfo *ki)
{
	static const struct {
		const char	*key;
		size_t		 off;
		bool		 is_float;
	} fields[] = {
		{ "device.tank_l", offsetof(struct config, device.tank_l),
		  true },
		{ "gnss.port", offsetof(struct config, gnss.port), false },
		{ "gnss.max_hdop", offsetof(struct config, gnss.max_hdop),
		  true },
		{ "gnss.max_eph_m", offsetof(struct config, gnss.max_eph_m),
		  true },
		{ "gnss.retry_min_ms",
		  offsetof(struct config, gnss.retry_min_ms), false },
		{ "gnss.retry_max_ms",
		  offsetof(struct config, gnss.retry_max_ms), false },
		{ "gnss.stale_s", offsetof(struct config, gnss.stale_s),
		  false },
		{ "obd.baud", offsetof(struct config, obd.baud), false },
		{ "obd.timeout_ms", offsetof(struct config, obd.timeout_ms),
		  false },
		{ "obd.poll_fast_ms",
		  offsetof(struct config, obd.poll_fast_ms), false },
		{ "obd.poll_slow_ms",
		  offsetof(struct config, obd.poll_slow_ms), false },
		{ "obd.dtc_interval_s",
		  offsetof(struct config, obd.dtc_interval_s), false },
		{ "obd.retry_min_ms",
		  offsetof(struct config, obd.retry_min_ms), false },
		{ "obd.retry_max_ms",
		  offsetof(struct config, obd.retry_max_ms), false },
		{ "trips.ign_off_end_s",
		  offsetof(struct config, trips.ign_off_end_s), false },
		{ "trips.stationary_end_s",
		  offsetof(struct config, trips.stationary_end_s), false },
		{ "storage.max_size_mb",
		  offsetof(struct config, storage.max_size_mb), false },
		{ "storage.keep_days",
		  offsetof(struct config, storage.keep_days), false },
		{ "storage.commit_interval_s",
		  offsetof(struct config, storage.commit_interval_s), false },
		{ "storage.commit_rows",
		  offsetof(struct config, storage.commit_rows), false },
#define P(key, isf) \
		{ "platform." #key, offsetof(struct config, platform.key), isf }
		P(connect_timeout_s, false),
		P(timeout_s, false),
		P(stall_timeout_s, false),
		P(batch_records, false),
		P(batch_bytes, false),
		P(backoff_base_s, true),
		P(backoff_cap_s, true),
		P(retry_after_max_s, false),
		P(auth_backoff_s, true),
		P(poll_wait_s, false),
		P(start_delay_max_s, true),
#undef P
		{ "signing.checkpoint_interval_s",
		  offsetof(struct config, signing.checkpoint_interval_s),
		  false },
#define R(key, member, isf) \
		{ "rules." key, offsetof(struct config, rules.member), isf }
		R("dispatch_grace_s", dispatch_grace_s, false),
		R("after_hours_use.min_s", after_hours_use.min_s, false),
		R("after_hours_use.merge_s", after_hours_use.merge_s, false),
		R("holiday_use.min_s", holiday_use.min_s, false),
		R("holiday_use.merge_s", holiday_use.merge_s, false),
		R("region_exit.min_s", region_exit.min_s, false),
		R("region_exit.reenter_s", region_exit.reenter_s, false),
		R("forbidden_place.dwell_s", forbidden_place.dwell_s, false),
		R("forbidden_place.exit_s", forbidden_place.exit_s, false),
		R("commute_pattern.max_round_s", commute_pattern.max_round_s,
		  false),
		R("commute_pattern.min_stop_s", commute_pattern.min_stop_s,
		  false),
		R("commute_pattern.max_stop_s", commute_pattern.max_stop_s,
		  false),
		R("commute_pattern.max_distance_m",
		  commute_pattern.max_distance_m, false),
		R("dispatch_mismatch.corridor_s", dispatch_mismatch.corridor_s,
		  false),
		R("speeding.limit_kmh", speeding.limit_kmh, true),
		R("speeding.limit_general_kmh", speeding.class_limit_kmh[0],
		  true),
		R("speeding.limit_emergency_kmh", speeding.class_limit_kmh[1],
		  true),
		R("speeding.limit_law_enforcement_kmh",
		  speeding.class_limit_kmh[2], true),
		R("speeding.limit_confidential_kmh",
		  speeding.class_limit_kmh[3], true),
		R("speeding.tolerance_kmh", speeding.tolerance_kmh, true),
		R("speeding.min_s", speeding.min_s, false),
		R("speeding.reset_s", speeding.reset_s, false),
		R("fatigue_driving.max_drive_s", fatigue_driving.max_drive_s,
		  false),
		R("fatigue_driving.min_rest_s", fatigue_driving.min_rest_s,
		  false),
		R("excessive_idle.max_idle_s", excessive_idle.max_idle_s,
		  false),
		R("fuel_drop.min_drop_pct", fuel_drop.min_drop_pct, true),
		R("fuel_drop.min_drop_l", fuel_drop.min_drop_l, true),
		R("gnss_lost_while_moving.min_speed_kmh",
		  gnss_lost_while_moving.min_speed_kmh, true),
		R("gnss_lost_while_moving.min_s", gnss_lost_while_moving.min_s,
		  false),
		R("position_jump.max_kmh", position_jump.max_kmh, true),
		R("position_jump.min_jump_m", position_jump.min_jump_m, false),
		R("obd_lost.min_s", obd_lost.min_s, false),
		R("clock_jump.tolerance_s", clock_jump.tolerance_s, false),
#undef R
	};
	char		 key[128];
	const char	*p = (const char *)c;
	size_t		 i;

	snprintf(key, sizeof(key), "%s.%s", ki->group, ki->name);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(fields[i].key, key) != 0)
			continue;
		if (fields[i].is_float)
			return *(const double *)(p + fields[i].off);
		return *(const int *)(p + fields[i].off);
	}
	cr_assert_fail("numeric key %s has no field in this test", key);
	return NAN;
}

Test(config, numeric_keys_at_min_and_max)
{
	struct config_keyinfo	 ki;
	struct config		*c;
	char			*text;
	size_t			 i;
	int			 at_max;

	for (at_max = 0; at_max < 2; at_max++) {
		text = numeric_file(at_max, NULL, 0);
		c = load_text_ok(text);
		for (i = 0; config_key_info(i, &ki) == 0; i++) {
			if (strcmp(ki.type, "int") != 0 &&
			    strcmp(ki.type, "float") != 0)
				continue;
			cr_expect_eq(numeric_value(c, &ki),
			    at_max ? ki.max : ki.min, "%s.%s at %s", ki.group,
			    ki.name, at_max ? "max" : "min");
		}
		config_free(c);
		free(text);
	}
}

Test(config, numeric_keys_one_step_outside)
{
	struct config_keyinfo	 ki;
	char			*text, *out, want[256];
	size_t			 i;
	int			 at_max;
	double			 v;

	for (i = 0; config_key_info(i, &ki) == 0; i++) {
		if (strcmp(ki.type, "int") != 0 &&
		    strcmp(ki.type, "float") != 0)
			continue;
		for (at_max = 0; at_max < 2; at_max++) {
			if (strcmp(ki.type, "int") == 0)
				v = at_max ? ki.max + 1 : ki.min - 1;
			else
				v = nextafter(at_max ? ki.max : ki.min,
				    at_max ? INFINITY : -INFINITY);
			text = numeric_file(at_max, &ki, v);
			out = load_text_fail(text, NULL);
			snprintf(want, sizeof(want), ": %s.%s: ", ki.group,
			    ki.name);
			cr_expect(strstr(out, want) != NULL &&
			    strstr(out, " is out of range ") != NULL &&
			    strchr(out, '\n') == out + strlen(out) - 1,
			    "%s.%s = %.17g: %s", ki.group, ki.name, v, out);
			free(out);
			free(text);
		}
	}
}

/* String keys at their longest, and one byte longer. */
Test(config, string_lengths)
{
	struct config_keyinfo	 ki;
	struct config		*c;
	char			*value, *text, *out, *q, want[128];
	size_t			 i, n, extra, k;

	for (i = 0; config_key_info(i, &ki) == 0; i++) {
		if (strcmp(ki.type, "string") != 0 ||
		    strcmp(ki.name, "timezone") == 0)
			continue;	/* no zone name is 64 bytes long */
		for (extra = 0; extra < 2; extra++) {
			n = (size_t)ki.max + extra;
			value = malloc(n + 1);
			cr_assert_not_null(value);
			memset(value, 'a', n);
			value[n] = '\0';
			if (is_key(&ki, "obd", "device"))
				value[0] = '/';	/* a path, not "tcp:" */
			if (is_key(&ki, "platform", "url"))
				memcpy(value, "https://h/", 10);
			/* At most 8 pins and the ";" between them. */
			for (k = 0; is_key(&ki, "platform", "pinned_pubkey") &&
			    extra == 0 && k + strlen(PIN_A) <= n;
			    k += strlen(PIN_A) + 1) {
				if (k > 0)
					value[k - 1] = ';';
				memcpy(value + k, PIN_A, strlen(PIN_A));
			}
			if (strcmp(ki.group, "platform") == 0) {
				q = xasprintf("\"%s\"", value);
				text = platform_text(ki.name, q);
				free(q);
			} else if (strcmp(ki.group, "device") == 0) {
				cr_assert(asprintf(&text, "device = { %s = "
				    "\"%s\"; %s };\n", ki.name, value,
				    strcmp(ki.name, "id") == 0 ? "" :
				    "id = \"SC-0001\";") != -1);
			} else {
				cr_assert(strchr(ki.group, '.') == NULL,
				    "%s.%s: string keys of sub-groups are not "
				    "covered here", ki.group, ki.name);
				cr_assert(asprintf(&text, "device = { id = "
				    "\"SC-0001\"; };\n%s = { %s = \"%s\"; };\n",
				    ki.group, ki.name, value) != -1);
			}
			if (extra == 0) {
				c = load_text_ok(text);
				config_free(c);
			} else {
				out = load_text_fail(text, NULL);
				snprintf(want, sizeof(want), ": %s.%s: is %zu "
				    "bytes long, at most %.0f allowed\n",
				    ki.group, ki.name, n, ki.max);
				cr_expect(strstr(out, want) != NULL, "%s",
				    out);
				free(out);
			}
			free(text);
			free(value);
		}
	}
}

/* obd and trips. */

/* "device = { id }; obd = { BODY };", which must load. */
static struct config *
load_obd_ok(const char *body)
{
	struct config	*c;
	char		*text;

	cr_assert(asprintf(&text, "device = { id = \"SC-0001\"; };\n"
	    "obd = {\n%s\n};\n", body) != -1);
	c = load_text_ok(text);
	free(text);
	return c;
}

/*
 * "device = { id }; obd = {\nBODY\n};", which must fail with exactly one
 * line ending in want ("LINE: message"; BODY starts on line 3).
 */
static void
expect_obd_error(const char *body, const char *want)
{
	char	*text, *out;

	cr_assert(asprintf(&text, "device = { id = \"SC-0001\"; };\n"
	    "obd = {\n%s\n};\n", body) != -1);
	out = load_text_fail(text, NULL);
	cr_expect(strchr(out, '\n') == out + strlen(out) - 1,
	    "%s: more than one line:\n%s", body, out);
	cr_expect(has_suffix(out, want) && out[strlen(out) - strlen(want) -
	    1] == ':', "%s:\n--- got\n%s--- want\n...:%s", body, out, want);
	free(out);
	free(text);
}

Test(config, obd_baud_list)
{
	static const int	 rates[] = { 9600, 19200, 38400, 57600, 115200,
	    230400, 460800, 500000, 921600, 1000000, 2000000 };
	struct config_keyinfo	 ki;
	struct config		*c;
	char			 body[64], want[512];
	const char		*list;
	size_t			 i, k;
	int			 d, v;

	for (k = 0; config_key_info(k, &ki) == 0; k++)
		if (is_key(&ki, "obd", "baud"))
			break;
	cr_assert(is_key(&ki, "obd", "baud"));
	list = "9600, 19200, 38400, 57600, 115200, 230400, 460800, "
	    "500000, 921600, 1000000, 2000000";
	/* The help names exactly the rates that load. */
	cr_expect(strstr(ki.help, list) != NULL, "%s", ki.help);
	cr_expect_eq(ki.min, rates[0]);
	cr_expect_eq(ki.max, rates[sizeof(rates) / sizeof(rates[0]) - 1]);
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		snprintf(body, sizeof(body), "baud = %d;", rates[i]);
		c = load_obd_ok(body);
		cr_expect_eq(c->obd.baud, rates[i]);
		config_free(c);
		for (d = -1; d <= 1; d += 2) {
			v = rates[i] + d;
			snprintf(body, sizeof(body), "baud = %d;", v);
			if (v < ki.min || v > ki.max)
				snprintf(want, sizeof(want), "3: obd.baud: %d "
				    "is out of range 9600..2000000\n", v);
			else
				snprintf(want, sizeof(want), "3: obd.baud: %d "
				    "is not a standard rate: use one of %s\n",
				    v, list);
			expect_obd_error(body, want);
		}
	}
	expect_obd_error("baud = 10400;", "3: obd.baud: 10400 is not a "
	    "standard rate: use one of 9600, 19200, 38400, 57600, 115200, "
	    "230400, 460800, 500000, 921600, 1000000, 2000000\n");
	expect_obd_error("baud = 38400.0;", "3: obd.baud: expected int, got "
	    "float\n");
	expect_obd_error("baud = \"38400\";", "3: obd.baud: expected int, got "
	    "string\n");
}

Test(config, obd_device_tcp_good)
{
	static const char *const good[] = {
		"tcp:192.168.0.10:35000",	/* the usual Wi-Fi dongle */
		"tcp:192.168.4.1:23",
		"tcp:127.0.0.1:1",
		"tcp:10.0.0.1:65535",
		"tcp:0.0.0.0:35000",
		"tcp:[::1]:35000",
		"tcp:[fe80::1]:35000",
		"tcp:[2001:db8::a:b]:23",
		"tcp:[::ffff:192.168.0.10]:35000",
		"tcp:[fd00::10]:35000",
		/* the longest IPv6 text, 45 characters */
		"tcp:[0000:0000:0000:0000:0000:ffff:192.168.100.200]:65535",
	};
	struct config	*c;
	char		 body[128];
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(body, sizeof(body), "driver = \"elm327\"; "
		    "device = \"%s\";", good[i]);
		c = load_obd_ok(body);
		cr_expect_str_eq(c->obd.device, good[i]);
		cr_expect_eq(c->obd.driver, CONFIG_OBD_ELM327);
		config_free(c);
	}
}

Test(config, obd_device_tcp_bad)
{
	static const struct {
		const char	*device;
		const char	*why;
	} bad[] = {
		{ "tcp:", "no port, expected tcp:HOST:PORT such as "
		  "\"tcp:192.168.0.10:35000\"" },
		{ "tcp:192.168.0.10", "no port, expected tcp:HOST:PORT such as "
		  "\"tcp:192.168.0.10:35000\"" },
		{ "tcp::35000", "no host, expected tcp:HOST:PORT such as "
		  "\"tcp:192.168.0.10:35000\"" },
		{ "tcp:192.168.0.10:", "port must be a number 1..65535" },
		{ "tcp:192.168.0.10:0", "port must be a number 1..65535" },
		{ "tcp:192.168.0.10:65536", "port must be a number 1..65535" },
		{ "tcp:192.168.0.10:350000", "port must be a number 1..65535" },
		{ "tcp:192.168.0.10:035000", "port must be a number "
		  "1..65535" },	/* no leading zero: octal or decimal? */
		{ "tcp:192.168.0.10:08080", "port must be a number 1..65535" },
		{ "tcp:192.168.0.10:00", "port must be a number 1..65535" },
		{ "tcp:192.168.0.10:+35", "port must be a number 1..65535" },
		{ "tcp:192.168.0.10:-1", "port must be a number 1..65535" },
		{ "tcp:192.168.0.10:35000 ", "port must be a number "
		  "1..65535" },
		{ "tcp:192.168.0.10:3500x", "port must be a number 1..65535" },
		{ "tcp: 192.168.0.10:35000", "host must be a numeric IPv4 "
		  "address or an [IPv6] address, not a name" },
		{ "tcp:192.168.0:35000", "host must be a numeric IPv4 address "
		  "or an [IPv6] address, not a name" },
		{ "tcp:256.1.1.1:35000", "host must be a numeric IPv4 address "
		  "or an [IPv6] address, not a name" },
		{ "tcp:wifi-obd.local:35000", "host must be a numeric IPv4 "
		  "address or an [IPv6] address, not a name" },
		{ "tcp:localhost:35000", "host must be a numeric IPv4 address "
		  "or an [IPv6] address, not a name" },
		{ "tcp:192.168.0.10:35000:1", "host must be a numeric IPv4 "
		  "address or an [IPv6] address, not a name" },
		{ "tcp:fe80::1:35000", "an IPv6 address goes in brackets, as "
		  "in \"tcp:[fe80::1]:35000\"" },
		{ "tcp:::1:35000", "an IPv6 address goes in brackets, as in "
		  "\"tcp:[fe80::1]:35000\"" },
		{ "tcp:[::1]", "no port, expected tcp:[IPv6]:PORT" },
		{ "tcp:[::1]35000", "no port, expected tcp:[IPv6]:PORT" },
		{ "tcp:[::1]:", "port must be a number 1..65535" },
		{ "tcp:[::1]:70000", "port must be a number 1..65535" },
		{ "tcp:[::1:35000", "no \"]\" closing the IPv6 address, "
		  "expected tcp:[IPv6]:PORT" },
		{ "tcp:[]:35000", "not a numeric IPv6 address in [ ]" },
		{ "tcp:[192.168.0.10]:35000", "not a numeric IPv6 address in "
		  "[ ]" },
		{ "tcp:[fe80::1%wlan0]:35000", "not a numeric IPv6 address in "
		  "[ ]" },
		{ "tcp:[obd.local]:35000", "not a numeric IPv6 address in "
		  "[ ]" },
		/* longer than any IPv6 address */
		{ "tcp:[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]:1",
		  "not a numeric IPv6 address in [ ]" },
		{ "tcp:[0000:0000:0000:0000:0000:ffff:192.168.100.2001]:1",
		  "not a numeric IPv6 address in [ ]" },
	};
	char	 body[256], want[512];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "device = \"%s\";",
		    bad[i].device);
		snprintf(want, sizeof(want), "3: obd.device: \"%s\": %s\n",
		    bad[i].device, bad[i].why);
		expect_obd_error(body, want);
	}
}

/* Not "tcp:": an absolute path, whatever the driver. */
Test(config, obd_device_paths)
{
	static const char *const good[] = {
		"/dev/ttyUSB0",
		"/dev/ttyACM0",
		"/dev/rfcomm0",
		"/dev/pts/3",
		"/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A5028-if00-port0",
	};
	struct config	*c;
	char		 body[128];
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(body, sizeof(body), "device = \"%s\";", good[i]);
		c = load_obd_ok(body);
		cr_expect_str_eq(c->obd.device, good[i]);
		config_free(c);
	}
	expect_obd_error("device = \"ttyUSB0\";", "3: obd.device: "
	    "\"ttyUSB0\" is neither an absolute device path such as "
	    "\"/dev/ttyUSB0\" nor \"tcp:HOST:PORT\"\n");
	expect_obd_error("device = \"TCP:192.168.0.10:35000\";", "3: "
	    "obd.device: \"TCP:192.168.0.10:35000\" is neither an absolute "
	    "device path such as \"/dev/ttyUSB0\" nor \"tcp:HOST:PORT\"\n");
	expect_obd_error("device = \"192.168.0.10:35000\";", "3: obd.device: "
	    "\"192.168.0.10:35000\" is neither an absolute device path such "
	    "as \"/dev/ttyUSB0\" nor \"tcp:HOST:PORT\"\n");
	expect_obd_error("device = \"/dev/\";", "3: obd.device: must name a "
	    "device, not a directory (ends in \"/\")\n");
	expect_obd_error("device = \"/dev/tty\\tUSB0\";", "3: obd.device: "
	    "contains a control character\n");
	/* Empty is fine while no driver needs it. */
	c = load_obd_ok("device = \"\";");
	cr_expect_str_eq(c->obd.device, "");
	config_free(c);
	c = load_obd_ok("driver = \"socketcan\"; device = \"\";");
	cr_expect_str_eq(c->obd.device, "");
	config_free(c);
}

Test(config, obd_interface_names)
{
	static const char *const good[] = {
		"can0", "vcan0", "slcan0", "can-bus_1.x", "can012345678901",
	};
	static const char *const bad[] = {
		"can 0", "can/0", "can:0", ".", "..", " can0",
	};
	struct config	*c;
	char		 body[128], want[256];
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(body, sizeof(body), "driver = \"socketcan\"; "
		    "interface = \"%s\";", good[i]);
		c = load_obd_ok(body);
		cr_expect_str_eq(c->obd.interface, good[i]);
		cr_expect_eq(c->obd.driver, CONFIG_OBD_SOCKETCAN);
		config_free(c);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "interface = \"%s\";", bad[i]);
		snprintf(want, sizeof(want), "3: obd.interface: \"%s\" is not "
		    "a network interface name (no \"/\", \":\" or spaces, not "
		    "\".\" or \"..\")\n", bad[i]);
		expect_obd_error(body, want);
	}
	/* IFNAMSIZ is 16 with the NUL. */
	expect_obd_error("driver = \"socketcan\";\ninterface = "
	    "\"can0123456789012\";", "4: obd.interface: is 16 bytes long, at "
	    "most 15 allowed\n");
	c = load_obd_ok("interface = \"\";");
	cr_expect_str_eq(c->obd.interface, "");
	config_free(c);
	c = load_obd_ok("driver = \"elm327\"; interface = \"\";");
	cr_expect_str_eq(c->obd.interface, "");
	config_free(c);
}

/*
 * Rules between two keys: reported once, at the later key in the file,
 * naming the default when the other key is left out; not reported when
 * the other key is wrong itself.
 */
Test(config, obd_cross_field_rules)
{
	struct config	*c;
	char		*out;

	/* Equal is fine. */
	c = load_obd_ok("poll_fast_ms = 5000; poll_slow_ms = 5000;\n"
	    "retry_min_ms = 60000; retry_max_ms = 60000;");
	cr_expect_eq(c->obd.poll_slow_ms, 5000);
	cr_expect_eq(c->obd.retry_min_ms, 60000);
	config_free(c);
	/* Fine in either order, and against the defaults. */
	c = load_obd_ok("poll_slow_ms = 20000;\npoll_fast_ms = 15000;");
	config_free(c);
	c = load_obd_ok("poll_fast_ms = 10000;");
	config_free(c);
	c = load_obd_ok("retry_min_ms = 60000;");
	config_free(c);

	expect_obd_error("poll_fast_ms = 5000;\npoll_slow_ms = 4999;",
	    "4: obd.poll_slow_ms: 4999 must not be less than "
	    "obd.poll_fast_ms (5000)\n");
	expect_obd_error("poll_slow_ms = 4999;\ntimeout_ms = 500;\n"
	    "poll_fast_ms = 5000;", "5: obd.poll_fast_ms: 5000 must not be "
	    "more than obd.poll_slow_ms (4999)\n");
	expect_obd_error("poll_fast_ms = 10001;", "3: obd.poll_fast_ms: 10001 "
	    "must not be more than obd.poll_slow_ms (10000, the default)\n");
	expect_obd_error("poll_slow_ms = 999;", "3: obd.poll_slow_ms: 999 "
	    "must not be less than obd.poll_fast_ms (1000, the default)\n");
	expect_obd_error("retry_min_ms = 2000;\nretry_max_ms = 1999;",
	    "4: obd.retry_max_ms: 1999 must not be less than "
	    "obd.retry_min_ms (2000)\n");
	expect_obd_error("retry_max_ms = 1999;\nretry_min_ms = 2000;",
	    "4: obd.retry_min_ms: 2000 must not be more than "
	    "obd.retry_max_ms (1999)\n");
	c = load_obd_ok("retry_max_ms = 1000;");	/* == the default min */
	config_free(c);

	/* The other key wrong: only its own error. */
	expect_obd_error("poll_fast_ms = 70000;\npoll_slow_ms = 500;",
	    "3: obd.poll_fast_ms: 70000 is out of range 20..60000\n");
	expect_obd_error("poll_slow_ms = \"x\";\npoll_fast_ms = 20000;",
	    "3: obd.poll_slow_ms: expected int, got string\n");

	/* Drivers that need a device or an interface. */
	expect_obd_error("driver = \"elm327\";\ndevice = \"\";",
	    "4: obd.device: must not be empty when obd.driver is "
	    "\"elm327\"\n");
	expect_obd_error("device = \"\";\ndriver = \"elm327\";",
	    "4: obd.driver: \"elm327\" needs obd.device, which is empty\n");
	expect_obd_error("driver = \"socketcan\";\ninterface = \"\";",
	    "4: obd.interface: must not be empty when obd.driver is "
	    "\"socketcan\"\n");
	expect_obd_error("interface = \"\";\ndriver = \"socketcan\";",
	    "4: obd.driver: \"socketcan\" needs obd.interface, which is "
	    "empty\n");
	/* A bad driver name says so, and no more. */
	expect_obd_error("device = \"\";\ndriver = \"ELM327\";",
	    "4: obd.driver: \"ELM327\" is not one of none, elm327, "
	    "socketcan\n");
	c = load_obd_ok("driver = \"none\"; device = \"\"; interface = \"\";");
	config_free(c);

	/* Errors stay in file order around a rule reported late. */
	out = load_text_fail("device = { id = \"SC-0001\"; };\n"
	    "obd = {\n"
	    "\tbaud = 1;\n"
	    "\tpoll_slow_ms = 500;\n"
	    "\tdtc_interval_s = 5;\n"
	    "\tpoll_fast_ms = 600;\n"
	    "\ttimeout_ms = 50;\n"
	    "};\n"
	    "trips = { stationary_end_s = 1; };\n", NULL);
	cr_expect(strstr(out, ":3: obd.baud: 1 is out of range 9600..2000000\n")
	    != NULL, "%s", out);
	cr_expect(strstr(out, ":5: obd.dtc_interval_s: 5 is out of range "
	    "10..86400\n") != NULL && strstr(out, ":6: obd.poll_fast_ms: 600 "
	    "must not be more than obd.poll_slow_ms (500)\n") != NULL &&
	    strstr(out, ":7: obd.timeout_ms: 50 is out of range 100..30000\n")
	    != NULL && strstr(out, ":9: trips.stationary_end_s: 1 is out of "
	    "range 30..7200\n") != NULL, "%s", out);
	cr_expect(strstr(out, ":3:") < strstr(out, ":5:") &&
	    strstr(out, ":5:") < strstr(out, ":6:") &&
	    strstr(out, ":6:") < strstr(out, ":7:") &&
	    strstr(out, ":7:") < strstr(out, ":9:"), "%s", out);
	free(out);
}

/* The checks also apply to an obd group pulled in with @include. */
Test(config, obd_rule_across_include)
{
	char	 main[PATH_MAX], want[PATH_MAX + 128];
	char	*dir = make_tmpdir();

	snprintf(main, sizeof(main), "%s/main.conf", dir);
	write_in(dir, "main.conf", "device = { id = \"SC-0001\"; };\n"
	    "obd = {\n\tpoll_fast_ms = 4000;\n@include \"obd.conf\"\n};\n");
	write_in(dir, "obd.conf", "# slow readings\n\tpoll_slow_ms = 3000;\n");
	snprintf(want, sizeof(want), "%s/obd.conf:2: obd.poll_slow_ms: 3000 "
	    "must not be less than obd.poll_fast_ms (4000)", dir);
	expect_one_error(main, want);
	rm_in(dir, "main.conf");
	rm_in(dir, "obd.conf");
	cr_expect_eq(rmdir(dir), 0, "rmdir %s: %s", dir, strerror(errno));
	free(dir);
}

Test(config, trips_and_tank)
{
	struct config	*c;
	char		*out;

	c = load_text_ok("device = { id = \"SC-0001\"; tank_l = 55; };\n"
	    "trips = { ign_off_end_s = 0; stationary_end_s = 30; };\n");
	cr_expect_eq(c->device.tank_l, 55.0);
	cr_expect_eq(c->trips.ign_off_end_s, 0);
	cr_expect_eq(c->trips.stationary_end_s, 30);
	config_free(c);
	c = load_text_ok("device = { id = \"SC-0001\"; tank_l = 47.5; };\n");
	cr_expect_eq(c->device.tank_l, 47.5);
	config_free(c);
	out = load_text_fail("device = { id = \"SC-0001\";\n"
	    "tank_l = \"55\"; };\ntrips = { ign_off_end_s = 1.5; };\n", NULL);
	cr_expect(strstr(out, ":2: device.tank_l: expected float, got "
	    "string\n") != NULL && strstr(out, ":3: trips.ign_off_end_s: "
	    "expected int, got float\n") != NULL, "%s", out);
	free(out);
	out = load_text_fail("device = { id = \"SC-0001\"; };\n"
	    "trips = { idle_end_s = 60; };\n", NULL);
	cr_expect(has_suffix(out, ":2: trips.idle_end_s: unknown key (known: "
	    "ign_off_end_s, stationary_end_s)\n"), "%s", out);
	free(out);
}

/* --help-config shows the new groups with their ranges and choices. */
Test(config, print_table_obd_and_trips)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*fp;

	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_print_table(fp);
	fclose(fp);
	cr_expect(strstr(text, "\nobd.driver ") != NULL &&
	    strstr(text, "none|elm327|socketcan") != NULL, "%s", text);
	cr_expect(strstr(text, "\"/dev/ttyUSB0\"") != NULL);
	cr_expect(strstr(text, "9600..2000000") != NULL);
	cr_expect(strstr(text, "0..15 bytes") != NULL);
	cr_expect(strstr(text, "\ntrips.stationary_end_s ") != NULL);
	cr_expect(strstr(text, "\ndevice.tank_l ") != NULL &&
	    strstr(text, "0..2000") != NULL);
	free(text);
}

/* Bounded output: a file with very many mistakes gives 100 + 1 lines. */
Test(config, error_count_is_capped)
{
	struct config_errors	 errs;

	cr_assert_null(config_load(CONF_DIR "/bad_too_many_errors.conf",
	    &errs));
	cr_expect_eq(errs.n, 101);
	cr_expect(has_suffix(errs.lines[errs.n - 1], ":0: 5 more errors not "
	    "shown"), "%s", errs.lines[errs.n - 1]);
	config_errors_free(&errs);
}

/*
 * SIGHUP: main.c loads the file again and keeps the running config when
 * that fails.  The module's part: a failed load changes nothing in a
 * config loaded earlier from the same file, and reports why.
 */
Test(config, failed_reload_leaves_running_config)
{
	struct config_errors	 errs;
	struct config		*old, *nc;
	FILE			*fp;
	char			*path;

	path = write_tmp("device = { id = \"SC-0001\"; };\n"
	    "gnss = { port = 3000; };\n");
	old = load_ok(path);

	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("device = { id = \"SC-0001\"; };\ngnss = { port = 0; };\n", fp);
	fclose(fp);
	cr_assert_null(config_load(path, &errs));
	cr_assert_eq(errs.n, 1);
	cr_expect(has_suffix(errs.lines[0], ":2: gnss.port: 0 is out of range "
	    "1..65535"), "%s", errs.lines[0]);
	config_errors_free(&errs);
	cr_expect_eq(old->gnss.port, 3000);
	cr_expect_str_eq(old->device.id, "SC-0001");
	cr_expect_str_eq(old->file, path);

	/*
	 * @include "" names the include directory: an error, where libconfig
	 * alone would exit(2) and take the running daemon with it.
	 */
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("device = { id = \"SC-0002\"; };\n@include \"\"\n", fp);
	fclose(fp);
	cr_assert_null(config_load(path, &errs));
	cr_assert_eq(errs.n, 1);
	cr_expect(has_suffix(errs.lines[0], ":2: @include \"\": empty file "
	    "name"), "%s", errs.lines[0]);
	config_errors_free(&errs);
	cr_expect_eq(old->gnss.port, 3000);

	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("device = { id = \"SC-0002\"; };\ngnss = { port = 3001; };\n", fp);
	fclose(fp);
	nc = load_ok(path);
	cr_expect_eq(nc->gnss.port, 3001);
	cr_expect(!config_equal(old, nc));
	cr_expect_eq(old->gnss.port, 3000);
	config_free(old);
	config_free(nc);
	unlink(path);
	free(path);
}

/* rules: the usage rules (rules.h) and ctl.admin_group. */

#define BIT(cls)	(1u << (cls))

/* Keys left out keep rules_config_default()'s values, and only those. */
Test(config, rules_defaults_are_the_engines)
{
	struct rules_config	 d;
	struct config		*c = load_ok(CONF_DIR "/good_minimal.conf");

	rules_config_default(&d);
	/* Filled from device: general, tank_l 0 = unknown. */
	cr_expect_eq(c->rules.vehicle_class, CONFIG_CLASS_GENERAL);
	cr_expect(isnan(c->rules.fuel_drop.tank_l));
	d.vehicle_class = c->rules.vehicle_class;
	d.fuel_drop.tank_l = c->rules.fuel_drop.tank_l;
	cr_expect(memcmp(&d, &c->rules, sizeof(d)) == 0,
	    "defaults differ from rules_config_default()");
	/* The values rules.h documents, which conf/ and docs/ repeat. */
	cr_expect_eq(c->rules.dispatch_grace_s, 900);
	cr_expect_eq(c->rules.after_hours_use.c.exempt_classes,
	    BIT(CONFIG_CLASS_EMERGENCY) | BIT(CONFIG_CLASS_LAW_ENFORCEMENT));
	cr_expect_eq(c->rules.holiday_use.c.exempt_classes,
	    BIT(CONFIG_CLASS_EMERGENCY) | BIT(CONFIG_CLASS_LAW_ENFORCEMENT));
	cr_expect_eq(c->rules.commute_pattern.c.exempt_classes,
	    BIT(CONFIG_CLASS_EMERGENCY) | BIT(CONFIG_CLASS_LAW_ENFORCEMENT));
	cr_expect_eq(c->rules.speeding.c.exempt_classes, 0);
	cr_expect(c->rules.dtc.c.enabled);
	cr_expect_eq(c->rules.after_hours_use.min_s, 120);
	cr_expect_eq(c->rules.overnight_parking.check_min, 22 * 60);
	cr_expect_eq(c->rules.overnight_parking.morning_min, 6 * 60);
	cr_expect_eq(c->rules.commute_pattern.morning_from_min, 6 * 60 + 30);
	cr_expect_eq(c->rules.commute_pattern.evening_to_min, 20 * 60 + 30);
	cr_expect_eq(c->rules.speeding.limit_kmh, 120.0);
	cr_expect_eq(c->rules.speeding.class_limit_kmh[1], 0.0);
	cr_expect_eq(c->rules.fatigue_driving.max_drive_s, 14400);
	cr_expect_eq(c->rules.fuel_drop.min_drop_pct, 5.0);
	cr_expect_eq(c->rules.forbidden_place.ncategories, 0);
	config_free(c);
}

/* One sub-group per rule of rules.h, named as rules_type_name(). */
Test(config, rules_groups_match_the_engine)
{
	struct config_keyinfo	 ki;
	enum rules_type		 t;
	char			 group[64];
	size_t			 i;
	bool			 enabled, exempt;

	for (t = 0; t < RULES_RULE_COUNT; t++) {
		snprintf(group, sizeof(group), "rules.%s", rules_type_name(t));
		enabled = exempt = false;
		for (i = 0; config_key_info(i, &ki) == 0; i++) {
			if (strcmp(ki.group, group) != 0)
				continue;
			enabled |= strcmp(ki.name, "enabled") == 0 &&
			    strcmp(ki.type, "bool") == 0;
			exempt |= strcmp(ki.name, "exempt") == 0 &&
			    strcmp(ki.type, "array") == 0;
		}
		cr_expect(enabled && exempt, "%s: enabled and exempt", group);
	}
	for (i = 0; config_key_info(i, &ki) == 0; i++) {
		if (strncmp(ki.group, "rules.", 6) != 0)
			continue;
		cr_expect_eq(rules_type_parse(ki.group + 6, &t), 0,
		    "%s is no rule of rules.h", ki.group);
	}
}

/* good_rules.conf sets every key; each lands in its own member. */
Test(config, rules_full_values)
{
	struct config		*c = load_ok(CONF_DIR "/good_rules.conf");
	struct rules_config	*r = &c->rules;

	cr_expect_eq(r->vehicle_class, CONFIG_CLASS_EMERGENCY);
	cr_expect_eq(r->fuel_drop.tank_l, 55.0);
	cr_expect_str_eq(c->ctl.admin_group, "fleet_admins");
	cr_expect_eq(r->dispatch_grace_s, 600);
	cr_expect(!r->after_hours_use.c.enabled);
	cr_expect_eq(r->after_hours_use.c.exempt_classes,
	    BIT(CONFIG_CLASS_EMERGENCY));
	cr_expect_eq(r->after_hours_use.min_s, 60);
	cr_expect_eq(r->after_hours_use.merge_s, 600);
	cr_expect(!r->holiday_use.c.enabled);
	cr_expect_eq(r->holiday_use.c.exempt_classes, 0);
	cr_expect_eq(r->holiday_use.min_s, 1);
	cr_expect_eq(r->holiday_use.merge_s, 0);
	cr_expect(!r->region_exit.c.enabled);
	cr_expect_eq(r->region_exit.c.exempt_classes,
	    BIT(CONFIG_CLASS_LAW_ENFORCEMENT) | BIT(CONFIG_CLASS_CONFIDENTIAL));
	cr_expect_eq(r->region_exit.min_s, 30);
	cr_expect_eq(r->region_exit.reenter_s, 120);
	cr_expect(!r->forbidden_place.c.enabled);
	cr_expect_eq(r->forbidden_place.c.exempt_classes,
	    BIT(CONFIG_CLASS_GENERAL));
	cr_expect_eq(r->forbidden_place.dwell_s, 600);
	cr_expect_eq(r->forbidden_place.exit_s, 30);
	cr_assert_eq(r->forbidden_place.ncategories, 3);
	cr_expect_str_eq(r->forbidden_place.categories[0].name, "golf");
	cr_expect_eq(r->forbidden_place.categories[0].dwell_s, 0);
	cr_expect_str_eq(r->forbidden_place.categories[1].name,
	    "entertainment");
	cr_expect_eq(r->forbidden_place.categories[1].dwell_s, 120);
	cr_expect_str_eq(r->forbidden_place.categories[2].name, "景区");
	cr_expect_eq(r->forbidden_place.categories[2].dwell_s, 1800);
	cr_expect(!r->overnight_parking.c.enabled);
	cr_expect_eq(r->overnight_parking.c.exempt_classes,
	    BIT(CONFIG_CLASS_EMERGENCY) | BIT(CONFIG_CLASS_LAW_ENFORCEMENT));
	cr_expect_eq(r->overnight_parking.check_min, 23 * 60 + 30);
	cr_expect_eq(r->overnight_parking.morning_min, 5 * 60 + 30);
	cr_expect(!r->commute_pattern.c.enabled);
	cr_expect_eq(r->commute_pattern.c.exempt_classes,
	    BIT(CONFIG_CLASS_CONFIDENTIAL));
	cr_expect_eq(r->commute_pattern.morning_from_min, 7 * 60);
	cr_expect_eq(r->commute_pattern.morning_to_min, 9 * 60);
	cr_expect_eq(r->commute_pattern.evening_from_min, 17 * 60 + 30);
	cr_expect_eq(r->commute_pattern.evening_to_min, 19 * 60 + 30);
	cr_expect_eq(r->commute_pattern.max_round_s, 3600);
	cr_expect_eq(r->commute_pattern.min_stop_s, 10);
	cr_expect_eq(r->commute_pattern.max_stop_s, 600);
	cr_expect_eq(r->commute_pattern.max_distance_m, 20000);
	cr_expect(!r->dispatch_mismatch.c.enabled);
	cr_expect_eq(r->dispatch_mismatch.c.exempt_classes, 0x0f);
	cr_expect_eq(r->dispatch_mismatch.corridor_s, 300);
	cr_expect(!r->speeding.c.enabled);
	cr_expect_eq(r->speeding.c.exempt_classes,
	    BIT(CONFIG_CLASS_EMERGENCY));
	cr_expect_eq(r->speeding.limit_kmh, 100.5);
	cr_expect_eq(r->speeding.class_limit_kmh[CONFIG_CLASS_GENERAL], 80.0);
	cr_expect_eq(r->speeding.class_limit_kmh[CONFIG_CLASS_EMERGENCY],
	    150.0);
	cr_expect_eq(r->speeding.class_limit_kmh[CONFIG_CLASS_LAW_ENFORCEMENT],
	    140.0);
	cr_expect_eq(r->speeding.class_limit_kmh[CONFIG_CLASS_CONFIDENTIAL],
	    1.0);
	cr_expect_eq(r->speeding.tolerance_kmh, 0.0);
	cr_expect_eq(r->speeding.min_s, 15);
	cr_expect_eq(r->speeding.reset_s, 0);
	cr_expect(!r->fatigue_driving.c.enabled);
	cr_expect_eq(r->fatigue_driving.c.exempt_classes,
	    BIT(CONFIG_CLASS_LAW_ENFORCEMENT));
	cr_expect_eq(r->fatigue_driving.max_drive_s, 10800);
	cr_expect_eq(r->fatigue_driving.min_rest_s, 900);
	cr_expect(!r->excessive_idle.c.enabled);
	cr_expect_eq(r->excessive_idle.c.exempt_classes,
	    BIT(CONFIG_CLASS_CONFIDENTIAL));
	cr_expect_eq(r->excessive_idle.max_idle_s, 300);
	cr_expect(!r->fuel_drop.c.enabled);
	cr_expect_eq(r->fuel_drop.c.exempt_classes, BIT(CONFIG_CLASS_GENERAL));
	cr_expect_eq(r->fuel_drop.min_drop_pct, 0.1);
	cr_expect_eq(r->fuel_drop.min_drop_l, 8.5);
	cr_expect(!r->gnss_lost_while_moving.c.enabled);
	cr_expect_eq(r->gnss_lost_while_moving.c.exempt_classes,
	    BIT(CONFIG_CLASS_EMERGENCY));
	cr_expect_eq(r->gnss_lost_while_moving.min_speed_kmh, 5.0);
	cr_expect_eq(r->gnss_lost_while_moving.min_s, 60);
	cr_expect(!r->position_jump.c.enabled);
	cr_expect_eq(r->position_jump.c.exempt_classes,
	    BIT(CONFIG_CLASS_LAW_ENFORCEMENT));
	cr_expect_eq(r->position_jump.max_kmh, 250.0);
	cr_expect_eq(r->position_jump.min_jump_m, 5000);
	cr_expect(!r->power_loss.c.enabled);
	cr_expect_eq(r->power_loss.c.exempt_classes,
	    BIT(CONFIG_CLASS_CONFIDENTIAL));
	cr_expect(!r->obd_lost.c.enabled);
	cr_expect_eq(r->obd_lost.c.exempt_classes, BIT(CONFIG_CLASS_GENERAL));
	cr_expect_eq(r->obd_lost.min_s, 120);
	cr_expect(!r->dtc.c.enabled);
	cr_expect_eq(r->dtc.c.exempt_classes,
	    BIT(CONFIG_CLASS_EMERGENCY) | BIT(CONFIG_CLASS_CONFIDENTIAL));
	cr_expect(!r->clock_jump.c.enabled);
	cr_expect_eq(r->clock_jump.c.exempt_classes,
	    BIT(CONFIG_CLASS_LAW_ENFORCEMENT));
	cr_expect_eq(r->clock_jump.tolerance_s, 60);
	config_free(c);
}

/* The dump of non-default rules loads back equal, member by member. */
Test(config, rules_dump_roundtrip)
{
	struct config	*a = load_ok(CONF_DIR "/good_rules.conf"), *b;
	char		*text = NULL, *tmp;
	size_t		 len = 0;
	FILE		*fp;

	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_dump(a, fp);
	fclose(fp);
	cr_expect(strstr(text, "rules = {\n\tdispatch_grace_s = 600;\n"
	    "\tafter_hours_use = {\n\t\tenabled = false;\n"
	    "\t\texempt = [ \"emergency\" ];\n") != NULL, "%s", text);
	cr_expect(strstr(text, "\t\tcategories = (\n"
	    "\t\t\t{ name = \"golf\"; dwell_s = 0; },\n") != NULL, "%s", text);
	cr_expect(strstr(text, "\t\tcheck_time = \"23:30\";\n") != NULL);
	cr_expect(strstr(text, "\t\tmorning = \"07:00-09:00\";\n") != NULL);
	cr_expect(strstr(text, "\t\texempt = [ ];\n") != NULL);
	cr_expect(strstr(text, "\tadmin_group = \"fleet_admins\";\n") != NULL);
	tmp = write_tmp(text);
	b = load_ok(tmp);
	cr_expect(config_equal(a, b), "%s", text);
	cr_expect(memcmp(&a->rules, &b->rules, sizeof(a->rules)) == 0,
	    "rules differ after the round trip:\n%s", text);
	cr_expect_str_eq(b->ctl.admin_group, a->ctl.admin_group);
	unlink(tmp);
	free(tmp);
	free(text);
	config_free(a);
	config_free(b);
}

Test(config, rules_derived_from_device)
{
	struct config	*c;

	c = load_text_ok("device = { id = \"SC-0001\"; "
	    "class = \"confidential\"; tank_l = 62.5; };\n");
	cr_expect_eq(c->rules.vehicle_class, CONFIG_CLASS_CONFIDENTIAL);
	cr_expect_eq(c->rules.fuel_drop.tank_l, 62.5);
	config_free(c);
	c = load_text_ok("device = { id = \"SC-0001\"; tank_l = 0; };\n");
	cr_expect(isnan(c->rules.fuel_drop.tank_l));
	config_free(c);
}

/* "device = { id }; rules = { BODY };" must fail with exactly want. */
static void
expect_rules_error(const char *body, const char *want)
{
	char	*text, *out;

	cr_assert(asprintf(&text, "device = { id = \"SC-0001\"; };\n"
	    "rules = {\n%s\n};\n", body) != -1);
	out = load_text_fail(text, NULL);
	cr_expect(has_suffix(out, want) && strchr(out, '\n') ==
	    out + strlen(out) - 1, "%s\n--- got\n%s--- want\n...%s", body,
	    out, want);
	free(out);
	free(text);
}

static struct config *
load_rules_ok(const char *body)
{
	struct config	*c;
	char		*text;

	cr_assert(asprintf(&text, "device = { id = \"SC-0001\"; };\n"
	    "rules = {\n%s\n};\n", body) != -1);
	c = load_text_ok(text);
	free(text);
	return c;
}

Test(config, rules_times_of_day)
{
	struct config	*c;

	c = load_rules_ok("overnight_parking = { check_time = \"00:00\"; "
	    "morning_end = \"23:59\"; };\n"
	    "commute_pattern = { morning = \"00:00-00:01\"; "
	    "evening = \"00:01-24:00\"; };");
	cr_expect_eq(c->rules.overnight_parking.check_min, 0);
	cr_expect_eq(c->rules.overnight_parking.morning_min, 23 * 60 + 59);
	cr_expect_eq(c->rules.commute_pattern.morning_from_min, 0);
	cr_expect_eq(c->rules.commute_pattern.morning_to_min, 1);
	cr_expect_eq(c->rules.commute_pattern.evening_from_min, 1);
	cr_expect_eq(c->rules.commute_pattern.evening_to_min, 24 * 60);
	config_free(c);
	/* A check time after midnight: the night still has a length. */
	c = load_rules_ok("overnight_parking = { check_time = \"02:00\"; };");
	cr_expect_eq(c->rules.overnight_parking.check_min, 120);
	config_free(c);
	expect_rules_error("overnight_parking = { check_time = \"24:00\"; };",
	    ":3: rules.overnight_parking.check_time: \"24:00\": not a time of "
	    "day (00:00 .. 23:59)\n");
	expect_rules_error("overnight_parking = { morning_end = \"06:00 \"; };",
	    ":3: rules.overnight_parking.morning_end: \"06:00 \": expected "
	    "HH:MM such as \"22:00\"\n");
	expect_rules_error("overnight_parking = { morning_end = \"22:00\"; };",
	    ":3: rules.overnight_parking.morning_end: \"22:00\" must differ "
	    "from rules.overnight_parking.check_time (\"22:00\", the "
	    "default)\n");
	expect_rules_error("commute_pattern = { evening = \"09:00-10:00\"; };",
	    ":3: rules.commute_pattern.evening: \"09:00-10:00\" must start at "
	    "or after the end of rules.commute_pattern.morning "
	    "(\"06:30-09:30\", the default)\n");
	expect_rules_error("commute_pattern = { morning = \"06:30-17:01\"; };",
	    ":3: rules.commute_pattern.morning: \"06:30-17:01\" must end at or "
	    "before the start of rules.commute_pattern.evening "
	    "(\"17:00-20:30\", the default)\n");
	/* A wrong window itself suppresses the order rule. */
	expect_rules_error("commute_pattern = { evening = \"09:00-08:00\"; };",
	    ":3: rules.commute_pattern.evening: \"09:00-08:00\": end must be "
	    "after start\n");
}

Test(config, rules_exempt_classes)
{
	struct config	*c;

	c = load_rules_ok("after_hours_use = { exempt = [ ]; };\n"
	    "speeding = { exempt = [ \"confidential\", \"general\" ]; };");
	cr_expect_eq(c->rules.after_hours_use.c.exempt_classes, 0);
	cr_expect_eq(c->rules.speeding.c.exempt_classes,
	    BIT(CONFIG_CLASS_GENERAL) | BIT(CONFIG_CLASS_CONFIDENTIAL));
	/* Untouched rules keep their default exemptions. */
	cr_expect_eq(c->rules.holiday_use.c.exempt_classes,
	    BIT(CONFIG_CLASS_EMERGENCY) | BIT(CONFIG_CLASS_LAW_ENFORCEMENT));
	config_free(c);
	expect_rules_error("dtc = { exempt = [ 1 ]; };",
	    ":3: rules.dtc.exempt: expected an array of class names "
	    "[ \"...\", ... ], got an array of int\n");
	expect_rules_error("dtc = { exempt = ( \"general\" ); };",
	    ":3: rules.dtc.exempt: expected an array of class names "
	    "[ \"...\", ... ], got list\n");
}

Test(config, rules_class_limits)
{
	struct config	*c;

	c = load_rules_ok("speeding = { limit_general_kmh = 0; "
	    "limit_emergency_kmh = 1; limit_confidential_kmh = 300; };");
	cr_expect_eq(c->rules.speeding.class_limit_kmh[0], 0.0);
	cr_expect_eq(c->rules.speeding.class_limit_kmh[1], 1.0);
	cr_expect_eq(c->rules.speeding.class_limit_kmh[3], 300.0);
	config_free(c);
	expect_rules_error("speeding = { limit_emergency_kmh = 0.99; };",
	    ":3: rules.speeding.limit_emergency_kmh: 0.99 is neither 0 (use "
	    "limit_kmh) nor in range 1..300\n");
}

Test(config, rules_categories)
{
	char	*body, *p;
	size_t	 i;

	body = malloc(4096);
	cr_assert_not_null(body);
	/* 16 entries, the longest name: fine. */
	p = body + sprintf(body, "forbidden_place = { categories = (\n");
	for (i = 0; i < RULES_MAX_CATEGORIES; i++)
		p += sprintf(p, "%s{ name = \"%0*zu\"; dwell_s = %zu; }",
		    i == 0 ? "" : ",\n", RULES_CATEGORY_MAX, i, i);
	strcpy(p, " ); };");
	{
		struct config	*c = load_rules_ok(body);

		cr_expect_eq(c->rules.forbidden_place.ncategories,
		    RULES_MAX_CATEGORIES);
		cr_expect_eq(strlen(c->rules.forbidden_place.categories[15].
		    name), RULES_CATEGORY_MAX);
		cr_expect_eq(c->rules.forbidden_place.categories[15].dwell_s,
		    15);
		config_free(c);
	}
	/* One more is too many. */
	strcpy(p, ",\n{ name = \"x\"; dwell_s = 0; } ); };");
	expect_rules_error(body, ":3: rules.forbidden_place.categories: 17 "
	    "entries, at most 16\n");
	free(body);
	expect_rules_error("forbidden_place = { categories = ( { name = "
	    "\"123456789012345678901234567890123\"; dwell_s = 0; } ); };",
	    ":3: rules.forbidden_place.categories[1]: name: is 33 bytes long, "
	    "at most 32 allowed\n");
	expect_rules_error("forbidden_place = { categories = ( { name = \"\"; "
	    "dwell_s = 0; } ); };", ":3: rules.forbidden_place.categories[1]: "
	    "name: must not be empty\n");
	expect_rules_error("forbidden_place = { categories = ( { name = \"a\"; "
	    "dwell_s = 1.5; } ); };", ":3: rules.forbidden_place."
	    "categories[1]: dwell_s: expected int, got float\n");
	expect_rules_error("forbidden_place = { categories = ( { name = \"a\"; "
	    "dwell_s = 86401; } ); };", ":3: rules.forbidden_place."
	    "categories[1]: dwell_s: 86401 is out of range 0..86400\n");
	expect_rules_error("forbidden_place = { categories = [ \"golf\" ]; };",
	    ":3: rules.forbidden_place.categories: expected a list ( { name = "
	    "\"...\"; dwell_s = ...; }, ... ), got array\n");
	expect_rules_error("forbidden_place = { categories = ( \"golf\" ); };",
	    ":3: rules.forbidden_place.categories[1]: expected a group "
	    "{ name = \"...\"; dwell_s = ...; }, got string\n");
	expect_rules_error("speeding = { categories = ( ); };",
	    ":3: rules.speeding.categories: unknown key (known: enabled, "
	    "exempt, limit_kmh, limit_general_kmh, limit_emergency_kmh, "
	    "limit_law_enforcement_kmh, limit_confidential_kmh, tolerance_kmh, "
	    "min_s, reset_s)\n");
}

Test(config, rules_unknown_and_not_groups)
{
	expect_rules_error("speeding = true;",
	    ":3: rules.speeding: expected group, got bool\n");
	expect_rules_error("limit_kmh = 100;", ":3: rules.limit_kmh: unknown "
	    "rule (known: after_hours_use, holiday_use, region_exit, "
	    "forbidden_place, overnight_parking, commute_pattern, "
	    "dispatch_mismatch, speeding, fatigue_driving, excessive_idle, "
	    "fuel_drop, gnss_lost_while_moving, position_jump, power_loss, "
	    "obd_lost, dtc, clock_jump; other keys: dispatch_grace_s)\n");
	expect_rules_error("power_loss = { min_s = 10; };",
	    ":3: rules.power_loss.min_s: unknown key (known: enabled, "
	    "exempt)\n");
	expect_rules_error("dtc = { enabled = 1; };",
	    ":3: rules.dtc.enabled: expected bool, got int\n");
}

/* admin_group and inspect_group take the same names. */
Test(config, ctl_admin_group)
{
	static const char *const good[] = {
		"", "fleetgw", "fleet_admins", "wheel", "g1", "_g", "a.b-c",
		"admins@example.com", "smb$", "0x", "1a"
	};
	static const struct {
		const char	*name;
		const char	*why;
	} bad[] = {
		{ "-x", "\"-x\" must not start with \"-\"" },
		{ "1000", "\"1000\" is all digits: give the group's name, not "
		  "its GID" },
		{ "fleet admins", "\"fleet admins\" may only contain A-Z a-z "
		  "0-9 . _ - @ and a final $" },
		{ "a:b", "\"a:b\" may only contain A-Z a-z 0-9 . _ - @ and a "
		  "final $" },
		{ "a$b", "\"a$b\" may only contain A-Z a-z 0-9 . _ - @ and a "
		  "final $" },
		{ "管理员", "\"管理员\" may only contain A-Z a-z 0-9 . _ - @ "
		  "and a final $" },
	};
	static const char *const keys[] = { "admin_group", "inspect_group" };
	struct config	*c;
	char		 text[256], want[256], *out;
	size_t		 i, k;

	for (k = 0; k < NELEM(keys); k++) {
		for (i = 0; i < NELEM(good); i++) {
			snprintf(text, sizeof(text), "device = { id = "
			    "\"SC-0001\"; };\nctl = { %s = \"%s\"; };\n",
			    keys[k], good[i]);
			c = load_text_ok(text);
			cr_expect_str_eq(k == 0 ? c->ctl.admin_group :
			    c->ctl.inspect_group, good[i]);
			/* The other key keeps its default. */
			cr_expect_str_eq(k == 0 ? c->ctl.inspect_group :
			    c->ctl.admin_group, k == 0 ? "fleetgw-inspect" : "");
			config_free(c);
		}
		for (i = 0; i < NELEM(bad); i++) {
			snprintf(text, sizeof(text), "device = { id = "
			    "\"SC-0001\"; };\nctl = { %s = \"%s\"; };\n",
			    keys[k], bad[i].name);
			out = load_text_fail(text, NULL);
			snprintf(want, sizeof(want), ":2: ctl.%s: %s\n",
			    keys[k], bad[i].why);
			cr_expect(has_suffix(out, want), "%s\n--- want ...%s",
			    out, want);
			free(out);
		}
	}
}

/* inspect_group: wrong type and length are errors with the line. */
Test(config, ctl_inspect_group_errors)
{
	char	*out, text[256], name[80];

	out = load_text_fail("device = { id = \"SC-0001\"; };\n"
	    "ctl = { inspect_group = 100; };\n", NULL);
	cr_expect(has_suffix(out, ":2: ctl.inspect_group: expected string, "
	    "got int\n"), "%s", out);
	free(out);
	memset(name, 'g', 65);
	name[65] = '\0';
	snprintf(text, sizeof(text), "device = { id = \"SC-0001\"; };\n"
	    "ctl = { inspect_group = \"%s\"; };\n", name);
	out = load_text_fail(text, NULL);
	cr_expect(strstr(out, ":2: ctl.inspect_group: ") != NULL, "%s", out);
	free(out);
}

/* --help-config lists the rules with their defaults and ranges. */
Test(config, print_table_rules)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*fp;

	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_print_table(fp);
	fclose(fp);
	cr_expect(strstr(text, "\nrules.dispatch_grace_s ") != NULL);
	cr_expect(strstr(text, "\nctl.admin_group ") != NULL);
	cr_expect(strstr(text, "\nctl.inspect_group ") != NULL &&
	    strstr(text, "\"fleetgw-inspect\"") != NULL, "%s", text);
	cr_expect(strstr(text, "\nrules.after_hours_use.exempt ") != NULL &&
	    strstr(text, "[ \"emergency\", \"law_enforcement\" ]") != NULL &&
	    strstr(text, "general|emergency|law_enforcement|confidential, "
	    "each once") != NULL, "%s", text);
	cr_expect(strstr(text, "\"22:00\"") != NULL);
	cr_expect(strstr(text, "\"06:30-09:30\"") != NULL);
	cr_expect(strstr(text, "0 or 1..300") != NULL);
	cr_expect(strstr(text, "0.1..100") != NULL);
	/* The list key, after the other forbidden_place keys. */
	cr_expect(strstr(text, "\nrules.forbidden_place.exit_s ") <
	    strstr(text, "\nrules.forbidden_place.categories "), "%s", text);
	cr_expect(strstr(text, "\nrules.forbidden_place.categories ") <
	    strstr(text, "\nrules.overnight_parking.enabled "), "%s", text);
	free(text);
}

/* platform and signing. */

/* Without the groups: nothing to upload, every default in place. */
Test(config, platform_absent_defaults)
{
	struct config	*c = load_ok(CONF_DIR "/good_minimal.conf");
	char		*text = NULL;
	size_t		 len = 0;
	FILE		*fp;

	cr_expect(!c->platform.enabled);
	cr_expect(!c->signing.enabled);
	cr_expect_str_eq(c->platform.url, "");
	cr_expect_str_eq(c->platform.ca_file, "");
	cr_expect_str_eq(c->platform.cert_file, "");
	cr_expect_str_eq(c->platform.key_file, "");
	cr_expect_str_eq(c->platform.ca_path, "");
	cr_expect_str_eq(c->platform.cert_path, "");
	cr_expect_str_eq(c->platform.key_path, "");
	cr_expect_str_eq(c->platform.pinned_pubkey, "");
	cr_expect(!c->platform.allow_insecure_http);
	cr_expect_eq(c->platform.connect_timeout_s, 15);
	cr_expect_eq(c->platform.timeout_s, 120);
	cr_expect_eq(c->platform.stall_timeout_s, 30);
	cr_expect_eq(c->platform.batch_records, 500);
	cr_expect_eq(c->platform.batch_bytes, 262144);
	cr_expect_eq(c->platform.backoff_base_s, 5.0);
	cr_expect_eq(c->platform.backoff_cap_s, 900.0);
	cr_expect_eq(c->platform.retry_after_max_s, 3600);
	cr_expect_eq(c->platform.auth_backoff_s, 600.0);
	cr_expect_eq(c->platform.poll_wait_s, 25);
	cr_expect_eq(c->platform.start_delay_max_s, 30.0);
	cr_expect_str_eq(c->signing.key_file, "");
	cr_expect_str_eq(c->signing.key_path, "");
	/* The dump leaves the groups out, so that it loads back. */
	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_dump(c, fp);
	fclose(fp);
	cr_expect(strstr(text, "platform") == NULL, "%s", text);
	cr_expect(strstr(text, "signing") == NULL, "%s", text);
	free(text);
	config_free(c);
}

/* An https platform with every key set, in a file in its own directory. */
Test(config, platform_https_values)
{
	struct config	*c;
	char		 main[PATH_MAX], want[PATH_MAX + 64];
	char		*dir = make_tmpdir();

	write_in(dir, "main.conf", "device = { id = \"SC-0001\"; };\n"
	    "platform = {\n"
	    "\turl = \"HTTPS://gw.example.gov.cn:8443/fleet/api/\";\n"
	    "\tca_file = \"certs/ca.pem\";\n"
	    "\tcert_file = \"/etc/fleetgw/client.pem\";\n"
	    "\tkey_file = \"client.key\";\n"
	    "\tpinned_pubkey = \"" PIN_A ";" PIN_B "\";\n"
	    "\tallow_insecure_http = true;\n"
	    "\tconnect_timeout_s = 5;\n"
	    "\ttimeout_s = 60;\n"
	    "\tstall_timeout_s = 10;\n"
	    "\tbatch_records = 1000;\n"
	    "\tbatch_bytes = 65536;\n"
	    "\tbackoff_base_s = 0.5;\n"
	    "\tbackoff_cap_s = 60;\n"
	    "\tretry_after_max_s = 0;\n"
	    "\tauth_backoff_s = 30.5;\n"
	    "\tpoll_wait_s = 0;\n"
	    "\tstart_delay_max_s = 0;\n"
	    "};\n"
	    "signing = { key_file = \"keys/signing.key\"; };\n");
	snprintf(main, sizeof(main), "%s/main.conf", dir);
	c = load_ok(main);
	cr_expect(c->platform.enabled);
	cr_expect(c->signing.enabled);
	/* Scheme in lower case, one trailing "/" gone. */
	cr_expect_str_eq(c->platform.url,
	    "https://gw.example.gov.cn:8443/fleet/api");
	/* As written, and resolved against the file's directory. */
	cr_expect_str_eq(c->platform.ca_file, "certs/ca.pem");
	snprintf(want, sizeof(want), "%s/certs/ca.pem", dir);
	cr_expect_str_eq(c->platform.ca_path, want);
	cr_expect_str_eq(c->platform.cert_file, "/etc/fleetgw/client.pem");
	cr_expect_str_eq(c->platform.cert_path, "/etc/fleetgw/client.pem");
	snprintf(want, sizeof(want), "%s/client.key", dir);
	cr_expect_str_eq(c->platform.key_path, want);
	snprintf(want, sizeof(want), "%s/keys/signing.key", dir);
	cr_expect_str_eq(c->signing.key_file, "keys/signing.key");
	cr_expect_str_eq(c->signing.key_path, want);
	cr_expect_str_eq(c->platform.pinned_pubkey, PIN_A ";" PIN_B);
	cr_expect(c->platform.allow_insecure_http);
	cr_expect_eq(c->platform.connect_timeout_s, 5);
	cr_expect_eq(c->platform.timeout_s, 60);
	cr_expect_eq(c->platform.stall_timeout_s, 10);
	cr_expect_eq(c->platform.batch_records, 1000);
	cr_expect_eq(c->platform.batch_bytes, 65536);
	cr_expect_eq(c->platform.backoff_base_s, 0.5);
	cr_expect_eq(c->platform.backoff_cap_s, 60.0);
	cr_expect_eq(c->platform.retry_after_max_s, 0);
	cr_expect_eq(c->platform.auth_backoff_s, 30.5);
	cr_expect_eq(c->platform.poll_wait_s, 0);
	cr_expect_eq(c->platform.start_delay_max_s, 0.0);
	config_free(c);
	roundtrip(main);
	rm_in(dir, "main.conf");
	cr_expect_eq(rmdir(dir), 0, "rmdir %s: %s", dir, strerror(errno));
	free(dir);
}

/*
 * Relative file names are taken from the directory of the file they are
 * written in: an @include'd fragment in a sub-directory has its own; a
 * main file named without a directory leaves them relative to the cwd.
 */
Test(config, platform_paths_relative_to_their_file)
{
	struct config	*c;
	char		 path[PATH_MAX], want[PATH_MAX + 64], sub[PATH_MAX];
	char		*dir = make_tmpdir();

	snprintf(sub, sizeof(sub), "%s/fleetgw.d", dir);
	cr_assert_eq(mkdir(sub, 0700), 0, "mkdir: %s", strerror(errno));
	write_in(dir, "main.conf", "device = { id = \"SC-0001\"; };\n"
	    "signing = { key_file = \"signing.key\"; };\n"
	    "@include \"fleetgw.d/platform.conf\"\n");
	write_in(dir, "fleetgw.d/platform.conf", "platform = {\n"
	    "\turl = \"https://gw.example.gov.cn\";\n"
	    "\tca_file = \"ca.pem\";\n"
	    "\tcert_file = \"../client.pem\";\n"
	    "\tkey_file = \"/etc/fleetgw/client.key\";\n"
	    "};\n");
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	c = load_ok(path);
	snprintf(want, sizeof(want), "%s/signing.key", dir);
	cr_expect_str_eq(c->signing.key_path, want);
	snprintf(want, sizeof(want), "%s/fleetgw.d/ca.pem", dir);
	cr_expect_str_eq(c->platform.ca_path, want);
	snprintf(want, sizeof(want), "%s/fleetgw.d/../client.pem", dir);
	cr_expect_str_eq(c->platform.cert_path, want);
	cr_expect_str_eq(c->platform.key_path, "/etc/fleetgw/client.key");
	cr_expect_str_eq(c->platform.ca_file, "ca.pem");
	config_free(c);

	/* "main.conf" from its own directory: names stay relative. */
	cr_assert_not_null(getcwd(path, sizeof(path)));
	cr_assert_eq(chdir(dir), 0);
	c = load_ok("main.conf");
	cr_expect_str_eq(c->signing.key_path, "signing.key");
	cr_expect_str_eq(c->platform.ca_path, "fleetgw.d/ca.pem");
	config_free(c);
	cr_assert_eq(chdir(path), 0);

	rm_in(dir, "fleetgw.d/platform.conf");
	rm_in(dir, "main.conf");
	cr_expect_eq(rmdir(sub), 0);
	cr_expect_eq(rmdir(dir), 0, "rmdir %s: %s", dir, strerror(errno));
	free(dir);
}

/* "device { id }; signing; platform = { BODY };", which must load. */
static struct config *
load_platform_ok(const char *body)
{
	struct config	*c;
	char		*text;

	cr_assert(asprintf(&text, "device = { id = \"SC-0001\"; };\n"
	    SIGNING_GROUP "platform = {\n%s\n};\n", body) != -1);
	c = load_text_ok(text);
	free(text);
	return c;
}

/*
 * The same, which must fail with exactly one line ending in want
 * ("LINE: message"; the group is on line 3, BODY starts on line 4).
 */
static void
expect_platform_error(const char *body, const char *want)
{
	char	*text, *out;

	cr_assert(asprintf(&text, "device = { id = \"SC-0001\"; };\n"
	    SIGNING_GROUP "platform = {\n%s\n};\n", body) != -1);
	out = load_text_fail(text, NULL);
	cr_expect(strchr(out, '\n') == out + strlen(out) - 1,
	    "%s: more than one line:\n%s", body, out);
	cr_expect(has_suffix(out, want) && out[strlen(out) - strlen(want) -
	    1] == ':', "%s:\n--- got\n%s--- want\n...:%s", body, out, want);
	free(out);
	free(text);
}

#define HTTPS_FILES	"ca_file = \"ca.pem\"; cert_file = \"c.pem\"; " \
	"key_file = \"c.key\";"

Test(config, platform_http_needs_the_flag)
{
	struct config	*c;

	expect_platform_error("url = \"http://127.0.0.1:8080\";",
	    "4: platform.url: http:// is refused without "
	    "platform.allow_insecure_http = true\n");
	/* Case does not smuggle it in. */
	expect_platform_error("url = \"HTTP://127.0.0.1:8080\";",
	    "4: platform.url: http:// is refused without "
	    "platform.allow_insecure_http = true\n");
	expect_platform_error("allow_insecure_http = false;\n"
	    "url = \"http://127.0.0.1:8080\";",
	    "5: platform.url: http:// is refused without "
	    "platform.allow_insecure_http = true\n");
	expect_platform_error("url = \"http://127.0.0.1:8080\";\n"
	    "allow_insecure_http = false;",
	    "5: platform.allow_insecure_http: false refuses the http:// "
	    "platform.url (true is for tests only)\n");
	/* A bad flag suppresses the rule: only its own error. */
	expect_platform_error("url = \"http://127.0.0.1:8080\";\n"
	    "allow_insecure_http = 1;",
	    "5: platform.allow_insecure_http: expected bool, got int\n");

	/* Accepted with the flag, either order, no TLS files needed. */
	c = load_platform_ok("url = \"http://127.0.0.1:8080/\";\n"
	    "allow_insecure_http = true;");
	cr_expect_str_eq(c->platform.url, "http://127.0.0.1:8080");
	cr_expect(c->platform.allow_insecure_http);
	cr_expect_str_eq(c->platform.ca_path, "");
	config_free(c);
	c = load_platform_ok("allow_insecure_http = true;\n"
	    "url = \"http://[::1]:8080/base\";");
	cr_expect_str_eq(c->platform.url, "http://[::1]:8080/base");
	config_free(c);
	/* The flag does not hurt https. */
	c = load_platform_ok("url = \"https://gw.example.gov.cn\";\n"
	    "allow_insecure_http = true; " HTTPS_FILES);
	config_free(c);
}

Test(config, platform_https_needs_ca_cert_and_key)
{
	struct config	*c;

	c = load_platform_ok("url = \"https://gw.example.gov.cn\"; "
	    HTTPS_FILES);
	cr_expect_str_eq(c->platform.cert_file, "c.pem");
	config_free(c);
	expect_platform_error("url = \"https://gw.example.gov.cn\";\n"
	    "cert_file = \"c.pem\"; key_file = \"c.key\";",
	    "3: platform.ca_file: required key is missing (platform.url is "
	    "https://)\n");
	expect_platform_error("url = \"https://gw.example.gov.cn\";\n"
	    "ca_file = \"ca.pem\"; key_file = \"c.key\";",
	    "3: platform.cert_file: required key is missing (platform.url "
	    "is https://)\n");
	/* A certificate without its key. */
	expect_platform_error("url = \"https://gw.example.gov.cn\";\n"
	    "ca_file = \"ca.pem\"; cert_file = \"c.pem\";",
	    "3: platform.key_file: required key is missing (platform.url is "
	    "https://)\n");
	/* Given empty: an error of its own, at its line. */
	expect_platform_error("url = \"https://gw.example.gov.cn\";\n"
	    "ca_file = \"\"; cert_file = \"c.pem\"; key_file = \"c.key\";",
	    "5: platform.ca_file: must not be empty\n");
	/* Over http both or neither. */
	expect_platform_error("url = \"http://127.0.0.1\";\n"
	    "allow_insecure_http = true; cert_file = \"c.pem\";",
	    "3: platform.key_file: required key is missing "
	    "(platform.cert_file is given)\n");
	expect_platform_error("url = \"http://127.0.0.1\";\n"
	    "allow_insecure_http = true; key_file = \"c.key\";",
	    "3: platform.cert_file: required key is missing "
	    "(platform.key_file is given)\n");
	c = load_platform_ok("url = \"http://127.0.0.1\"; "
	    "allow_insecure_http = true;\n"
	    "cert_file = \"c.pem\"; key_file = \"c.key\";");
	config_free(c);
	/* The url itself missing: that, and nothing about the files. */
	expect_platform_error("ca_file = \"ca.pem\";",
	    "3: platform.url: required key is missing\n");
}

Test(config, platform_url_syntax)
{
	static const struct {
		const char	*url;
		const char	*stored;
	} good[] = {
		{ "https://gw.example.gov.cn", "https://gw.example.gov.cn" },
		{ "https://gw.example.gov.cn/", "https://gw.example.gov.cn" },
		{ "https://gw.example.gov.cn:8443", NULL },
		{ "https://gw.example.gov.cn:8443/", "https://gw.example.gov.cn"
		  ":8443" },
		{ "https://gw.example.gov.cn/fleet/v2", NULL },
		{ "https://gw.example.gov.cn/fleet/v2/", "https://gw.example."
		  "gov.cn/fleet/v2" },
		{ "https://10.1.2.3:1", NULL },
		{ "https://[2001:db8::1]:65535/x", NULL },
		{ "https://[::1]", NULL },
		{ "https://gw_1.local", NULL },
		{ "Https://GW.example.gov.cn", "https://GW.example.gov.cn" },
		{ "https://h/a%20b/~u/-._!$&'()*+,;=:@", NULL },
	};
	static const struct {
		const char	*url;
		const char	*why;
	} bad[] = {
		{ "gw.example.gov.cn", "not an https:// or http:// URL, "
		  "expected https://HOST[:PORT][/BASE]" },
		{ "ftp://gw.example.gov.cn", "not an https:// or http:// URL, "
		  "expected https://HOST[:PORT][/BASE]" },
		{ "https:/gw.example.gov.cn", "not an https:// or http:// URL, "
		  "expected https://HOST[:PORT][/BASE]" },
		{ "https://", "no host, expected https://HOST[:PORT][/BASE]" },
		{ "https:///fleet", "no host, expected "
		  "https://HOST[:PORT][/BASE]" },
		{ "https://gw.example.gov.cn/my fleet", "must not contain "
		  "spaces" },
		{ "https://gw.example.gov.cn?a=1", "a query (\"?...\") is not "
		  "allowed, expected https://HOST[:PORT][/BASE]" },
		{ "https://gw.example.gov.cn/#top", "a fragment (\"#...\") is "
		  "not allowed, expected https://HOST[:PORT][/BASE]" },
		{ "https://user:pw@gw.example.gov.cn", "user info (\"user@\") "
		  "is not allowed: the client certificate identifies the "
		  "gateway" },
		{ "https://:8443", "the host must be a DNS name or an address "
		  "(A-Z a-z 0-9 . - _, an IPv6 address in [ ]), expected "
		  "https://HOST[:PORT][/BASE]" },
		{ "https://监管.gov.cn", "the host must be a DNS name or an "
		  "address (A-Z a-z 0-9 . - _, an IPv6 address in [ ]), "
		  "expected https://HOST[:PORT][/BASE]" },
		{ "https://-gw.example", "the host must be a DNS name or an "
		  "address (A-Z a-z 0-9 . - _, an IPv6 address in [ ]), "
		  "expected https://HOST[:PORT][/BASE]" },
		{ "https://gw.example.gov.cn:", "port must be a number "
		  "1..65535" },
		{ "https://gw.example.gov.cn:0", "port must be a number "
		  "1..65535" },
		{ "https://gw.example.gov.cn:65536", "port must be a number "
		  "1..65535" },
		{ "https://gw.example.gov.cn:08443", "port must be a number "
		  "1..65535" },
		{ "https://gw.example.gov.cn:84a3", "port must be a number "
		  "1..65535" },
		{ "https://[::1", "not a numeric IPv6 address in [ ]" },
		{ "https://[]", "not a numeric IPv6 address in [ ]" },
		{ "https://[gw.example]", "not a numeric IPv6 address in [ ]" },
		{ "https://[::1]8443", "expected \":PORT\" or \"/\" after the "
		  "IPv6 address" },
		{ "https://h/a\\\\b", "the path may only contain A-Z a-z 0-9 - "
		  ". _ ~ ! $ & ' ( ) * + , ; = : @ / and %XX escapes" },
		{ "https://h/a%2", "the path may only contain A-Z a-z 0-9 - . "
		  "_ ~ ! $ & ' ( ) * + , ; = : @ / and %XX escapes" },
		{ "https://h/\\\"x\\\"", "the path may only contain A-Z a-z "
		  "0-9 - . _ ~ ! $ & ' ( ) * + , ; = : @ / and %XX escapes" },
	};
	struct config	*c;
	char		 body[256], want[512];
	size_t		 i;

	for (i = 0; i < NELEM(good); i++) {
		snprintf(body, sizeof(body), "url = \"%s\"; " HTTPS_FILES,
		    good[i].url);
		c = load_platform_ok(body);
		cr_expect_str_eq(c->platform.url, good[i].stored != NULL ?
		    good[i].stored : good[i].url);
		config_free(c);
	}
	for (i = 0; i < NELEM(bad); i++) {
		snprintf(body, sizeof(body), "url = \"%s\";\n"
		    "allow_insecure_http = true; " HTTPS_FILES, bad[i].url);
		/* Quoted back with the escapes of the file. */
		snprintf(want, sizeof(want), "4: platform.url: \"%s\": %s\n",
		    bad[i].url, bad[i].why);
		expect_platform_error(body, want);
	}
	/* An http:// URL is checked the same way. */
	expect_platform_error("url = \"http://h?x\"; allow_insecure_http = "
	    "true;", "4: platform.url: \"http://h?x\": a query (\"?...\") is "
	    "not allowed, expected https://HOST[:PORT][/BASE]\n");
}

Test(config, platform_pinned_pubkey)
{
	static const char *const good[] = {
		"", PIN_A, PIN_A ";" PIN_B,
		"sha256//++++++++++++++++++++++++++++++++++++++++++8=",
	};
	static const struct {
		const char	*pins;
		int		 which;
	} bad[] = {
		{ "sha256//", 1 },
		{ "YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=", 1 },
		{ "sha1//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=", 1 },
		{ "SHA256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=", 1 },
		/* 43 characters, no padding */
		{ "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE", 1 },
		/* 45 */
		{ "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwEA=", 1 },
		/* not base64 */
		{ "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRM-E=", 1 },
		{ "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRM=E=", 1 },
		{ PIN_A ";", 2 },
		{ PIN_A "; " PIN_B, 2 },
		{ PIN_A "," PIN_B, 1 },
		{ ";" PIN_A, 1 },
		{ PIN_A ";" PIN_B ";x", 3 },
	};
	struct config	*c;
	char		 body[512], want[512];
	size_t		 i;

	for (i = 0; i < NELEM(good); i++) {
		snprintf(body, sizeof(body), "url = \"https://h\"; "
		    HTTPS_FILES "\npinned_pubkey = \"%s\";", good[i]);
		c = load_platform_ok(body);
		cr_expect_str_eq(c->platform.pinned_pubkey, good[i]);
		config_free(c);
	}
	for (i = 0; i < NELEM(bad); i++) {
		snprintf(body, sizeof(body), "url = \"https://h\"; "
		    HTTPS_FILES "\npinned_pubkey = \"%s\";", bad[i].pins);
		snprintf(want, sizeof(want), "5: platform.pinned_pubkey: pin "
		    "%d: expected \"sha256//\" and 44 base64 characters (the "
		    "SHA-256 of the server's public key), pins separated by "
		    "\";\"\n", bad[i].which);
		expect_platform_error(body, want);
	}
}

Test(config, platform_backoff_order)
{
	struct config	*c;

	c = load_platform_ok("url = \"https://h\"; " HTTPS_FILES "\n"
	    "backoff_base_s = 10; backoff_cap_s = 10;");
	cr_expect_eq(c->platform.backoff_cap_s, 10.0);
	config_free(c);
	c = load_platform_ok("url = \"https://h\"; " HTTPS_FILES "\n"
	    "backoff_cap_s = 5;");	/* == the default base */
	config_free(c);
	expect_platform_error("url = \"https://h\"; " HTTPS_FILES "\n"
	    "backoff_base_s = 20.5;\nbackoff_cap_s = 20.25;",
	    "6: platform.backoff_cap_s: 20.25 must not be less than "
	    "platform.backoff_base_s (20.5)\n");
	expect_platform_error("url = \"https://h\"; " HTTPS_FILES "\n"
	    "backoff_cap_s = 20.25;\nbackoff_base_s = 20.5;",
	    "6: platform.backoff_base_s: 20.5 must not be more than "
	    "platform.backoff_cap_s (20.25)\n");
	expect_platform_error("url = \"https://h\"; " HTTPS_FILES "\n"
	    "backoff_cap_s = 4.99;",
	    "5: platform.backoff_cap_s: 4.99 must not be less than "
	    "platform.backoff_base_s (5, the default)\n");
	/* A wrong key itself suppresses the rule. */
	expect_platform_error("url = \"https://h\"; " HTTPS_FILES "\n"
	    "backoff_base_s = 601;\nbackoff_cap_s = 1;",
	    "5: platform.backoff_base_s: 601 is out of range 0.01..600\n");
}

Test(config, platform_needs_signing)
{
	struct config	*c;
	char		*out;

	out = load_text_fail("device = { id = \"SC-0001\"; };\n"
	    "platform = { url = \"https://h\"; " HTTPS_FILES " };\n", NULL);
	cr_expect(has_suffix(out, ":1: signing.key_file: required key is "
	    "missing (no signing group, which platform needs)\n") &&
	    strchr(out, '\n') == out + strlen(out) - 1, "%s", out);
	free(out);
	/* signing on its own is fine (nothing uploaded). */
	c = load_text_ok("device = { id = \"SC-0001\"; };\n"
	    "signing = { key_file = \"/etc/fleetgw/signing.key\"; };\n");
	cr_expect(c->signing.enabled);
	cr_expect(!c->platform.enabled);
	cr_expect_str_eq(c->signing.key_path, "/etc/fleetgw/signing.key");
	config_free(c);
	out = load_text_fail("device = { id = \"SC-0001\"; };\n"
	    "signing = { };\n", NULL);
	cr_expect(has_suffix(out, ":2: signing.key_file: required key is "
	    "missing\n"), "%s", out);
	free(out);
	out = load_text_fail("device = { id = \"SC-0001\"; };\n"
	    "signing = { key_file = \"\"; };\n", NULL);
	cr_expect(has_suffix(out, ":2: signing.key_file: must not be "
	    "empty\n"), "%s", out);
	free(out);
	out = load_text_fail("device = { id = \"SC-0001\"; };\n"
	    "signing = { key_file = \"/etc/fleetgw/\"; };\n", NULL);
	cr_expect(has_suffix(out, ":2: signing.key_file: must name a file, "
	    "not a directory (ends in \"/\")\n"), "%s", out);
	free(out);
}

/* Dumps of platform configs load back equal. */
Test(config, platform_dump_roundtrip)
{
	char	*path, *text = NULL;
	size_t	 len = 0;
	FILE	*fp;
	struct config *c;

	/* http: no TLS files, which the dump must leave out. */
	path = write_tmp("device = { id = \"SC-0001\"; };\n" SIGNING_GROUP
	    "platform = { url = \"http://127.0.0.1:8080/\"; "
	    "allow_insecure_http = true; pinned_pubkey = \"" PIN_A "\"; "
	    "backoff_base_s = 0.25; };\n");
	roundtrip(path);
	c = load_ok(path);
	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_dump(c, fp);
	fclose(fp);
	cr_expect(strstr(text, "platform = {\n\turl = "
	    "\"http://127.0.0.1:8080\";\n\tpinned_pubkey = ") != NULL, "%s",
	    text);
	cr_expect(strstr(text, "ca_file") == NULL, "%s", text);
	cr_expect(strstr(text, "signing = {\n\tkey_file = \"signing.key\";\n"
	    "\tcheckpoint_interval_s = 300;\n};\n") != NULL, "%s", text);
	cr_expect(strstr(text, "\tbackoff_base_s = 0.25;\n") != NULL, "%s",
	    text);
	free(text);
	config_free(c);
	unlink(path);
	free(path);
}

/* --help-config lists the platform and signing keys. */
Test(config, print_table_platform)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*fp;

	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_print_table(fp);
	fclose(fp);
	cr_expect(strstr(text, "\nplatform.url ") != NULL &&
	    strstr(text, "1..1024 bytes") != NULL, "%s", text);
	cr_expect(strstr(text, "\nsigning.key_file ") != NULL);
	cr_expect(strstr(text, "\"\" or 1..8 pins") != NULL);
	cr_expect(strstr(text, "1024..16777216") != NULL);
	cr_expect(strstr(text, "0.01..600") != NULL);
	cr_expect(strstr(text, "\nstorage.commit_rows ") <
	    strstr(text, "\nplatform.url ") && strstr(text, "\nplatform.url ")
	    < strstr(text, "\nsigning.key_file ") &&
	    strstr(text, "\nsigning.key_file ") < strstr(text, "\nctl.socket "),
	    "%s", text);
	free(text);
}
