/* SPDX-License-Identifier: MIT */
/*
 * fleetgwctl.c - the operator's tool (DESIGN.md §4).
 *
 *   fleetgwctl [-c FILE | -s SOCKET | --db FILE] [--json] COMMAND ...
 *
 * status, check, export, dispatch add, dispatch remove and reload ask
 * the daemon over its control socket (export passes the output file's
 * descriptor along); positions, trips, events, records, dispatch list,
 * report and export --db read the database directly (read-only, also
 * while the daemon writes); verify reads only a bundle and a public key.
 * Exit status: 0 ok, 1 run-time error (database or daemon unreachable,
 * the daemon refused, a damaged bundle ...), 2 usage error.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "bundle.h"
#include "config.h"
#include "ctl.h"
#include "dispatch.h"
#include "eventjson.h"
#include "fence.h"
#include "fencejson.h"
#include "fenceload.h"
#include "geo.h"
#include "log.h"
#include "platformset.h"
#include "posjson.h"
#include "report.h"
#include "rules.h"
#include "sign.h"
#include "store.h"
#include "timefmt.h"
#include "tripjson.h"
#include "util.h"
#include "vcheck.h"
#include "wirerec.h"

#ifndef FLEETGW_VERSION
#define FLEETGW_VERSION		"0.1.0"
#endif

#define DEFAULT_CONFIG		"/etc/fleetgw/fleetgw.conf"
#define DEFAULT_TIMEZONE	"Asia/Shanghai"
#define STATUS_TIMEOUT_MS	5000
#define EXPORT_TIMEOUT_MS	120000	/* a long period on a slow card */
#define VALUE_COLUMN		16	/* status: where values start */

#define EXIT_OK		0
#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

/* Long options without a short form. */
enum {
	OPT_DB = 256,
	OPT_JSON,
	OPT_FROM,
	OPT_TO,
	OPT_LIMIT,
	OPT_AT,
	OPT_CRS,
	OPT_FROM_CONFIG,
	OPT_TYPE,
	OPT_SEVERITY,
	OPT_ID,
	OPT_PURPOSE,
	OPT_APPROVER,
	OPT_DEST,
	OPT_DEST_FENCE,
	OPT_CORRIDOR,
	OPT_FROM_SEQ,
	OPT_TO_SEQ,
	OPT_KEY,
	OPT_UNSYNCED
};

struct ctl_opts {
	const char	*config;	/* -c */
	const char	*socket;	/* -s */
	const char	*db;		/* --db */
	bool		 json;
};

struct command {
	const char	*name;
	int		(*run)(struct ctl_opts *, int, char **);
};

static const char	*progname = "fleetgwctl";

static void
usage_synopsis(FILE *fp)
{
	fprintf(fp,
"usage: %s [-c FILE | -s SOCKET | --db FILE] [--json] COMMAND ...\n"
"       %s -h | --help\n"
"       %s -V | --version\n",
	    progname, progname, progname);
}

/* The event type (which 0) or severity (1) names, ", "-separated. */
static void
usage_names(FILE *fp, int which)
{
	const char	*name;
	int		 i, col = 2;

	fputs(":\n ", fp);
	for (i = 0; ; i++) {
		name = which == 0 ? rules_type_name((enum rules_type)i) :
		    rules_severity_name((enum rules_severity)i);
		if (name == NULL)
			break;
		if (col + (int)strlen(name) + 2 > 76) {
			fputs(",\n  ", fp);
			col = 2;
		} else
			fputs(i > 0 ? ", " : " ", fp);
		fputs(name, fp);
		col += (int)strlen(name) + 2;
	}
}

static void
usage_text(FILE *fp)
{
	usage_synopsis(fp);
	fprintf(fp,
"\n"
"commands:\n"
"  status                     daemon health (needs the daemon's socket)\n"
"  positions [--from T] [--to T] [--limit N]\n"
"                             stored positions, oldest first; --from is\n"
"                             inclusive, --to exclusive\n"
"  trips [--from T] [--to T] [--limit N]\n"
"                             trips that overlap the window, by start\n"
"  events [--from T] [--to T] [--type TYPE] [--severity S] [--limit N]\n"
"                             rule events (violations ...) that overlap\n"
"                             the window, by start, grouped by day\n"
"  dispatch list [--from T] [--to T]\n"
"                             dispatch orders (派车单) whose window\n"
"                             overlaps; with -s, from the daemon's database\n"
"  dispatch add --id ID --from T --to T --purpose TEXT --approver NAME\n"
"               [--dest LON,LAT[,RADIUS_M] [--crs CRS]] [--dest-fence ID]\n"
"               [--corridor FENCE_ID]\n"
"                             add an order through the daemon (root, its\n"
"                             user or ctl.admin_group); radius 500 m unless\n"
"                             given, window at most 31 days\n"
"  dispatch remove ID         remove an order through the daemon\n"
"  reload                     the daemon rereads its configuration (as\n"
"                             SIGHUP) and says whether it took it; root,\n"
"                             its user or ctl.admin_group\n"
"  fences [--at LON,LAT [--crs CRS]] [--from-config]\n"
"                             the daemon's fences, or those that contain a\n"
"                             point (CRS wgs84, cgcs2000, gcj02, bd09) and\n"
"                             those within 1 km; without the daemon, or\n"
"                             with --from-config, the configuration's\n"
"  records STREAM [--from-seq N] [--to-seq N] [--limit N]\n"
"                             the records of stream events or positions\n"
"                             exactly as uploaded to the platform\n"
"                             (docs/platform-api.md), one per line\n"
"  pubkey [--key FILE]        the public key of the gateway's signing key\n"
"                             (signing.key_file), PEM; the platform\n"
"                             registers it\n"
"  report --from T --to T -o FILE\n"
"                             an HTML report of the period for\n"
"                             inspectors: vehicle, summary, a map of the\n"
"                             tracks, fences and events, tables per day;\n"
"                             one self-contained file (no network)\n"
"  check                      the daily check (每日一小检) through the\n"
"                             daemon: battery, coolant, MIL and DTCs,\n"
"                             fuel, GNSS, storage, sync, clock, each pass,\n"
"                             warn or fail; kept as an inspection event;\n"
"                             exit 1 when the result is fail\n"
"  export --from T --to T -o FILE [--unsynced]\n"
"                             an export bundle (docs/bundle.md): the\n"
"                             period's records with their hash chain links\n"
"                             and signed checkpoints; through the daemon\n"
"                             (recorded as an inspection_export event) or\n"
"                             --db on a database file\n"
"  verify FILE [--pubkey KEY]\n"
"                             check a bundle offline against the gateway's\n"
"                             public key: OK, or every record edited,\n"
"                             missing or reordered, bad signature, ...;\n"
"                             exit 0 only when everything checks\n"
"\n"
"options:\n"
"  -c FILE     configuration (default " DEFAULT_CONFIG "); gives the\n"
"              socket (ctl.socket) and the database (storage.path)\n"
"  -s SOCKET   the daemon's control socket\n"
"  --db FILE   read this database directly (live, stopped or a copy)\n"
"  --json      JSON output; may stand before or after the command\n"
"\n"
"T is YYYY-MM-DD (start of the day), YYYY-MM-DDTHH:MM[:SS] (both in the\n"
"device's time zone) or RFC 3339 with Z or an offset.\n"
"TYPE (events --type) is one of");
	usage_names(fp, 0);
	fprintf(fp, "\nS (events --severity) is one of");
	usage_names(fp, 1);
	fputc('\n', fp);
}

static int
usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list	ap;

	if (fmt != NULL) {
		fprintf(stderr, "%s: ", progname);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	usage_synopsis(stderr);
	fprintf(stderr, "Try '%s --help' for more.\n", progname);
	return EXIT_USAGE;
}

/* Load the configuration, printing every problem.  NULL on failure. */
static struct config *
load_config(const char *path)
{
	struct config_errors	 errs = { 0, NULL };
	struct config		*cfg;
	size_t			 i;

	if ((cfg = config_load(path, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.lines[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: %s: cannot load configuration\n",
			    progname, path);
		config_errors_free(&errs);
	}
	return cfg;
}

/*
 * Parse a command's own options (the argument vector starts with the
 * command's name).  --json and --help are accepted by every command.
 * Returns the option code, -1 at the end, or '?' after getopt complained.
 */
static int
next_opt(int argc, char **argv, const struct option *longopts,
    struct ctl_opts *o, bool *help)
{
	int	ch;

	for (;;) {
		/* -o FILE: export and report; the others refuse it. */
		ch = getopt_long(argc, argv, "+ho:", longopts, NULL);
		if (ch == OPT_JSON) {
			o->json = true;
			continue;
		}
		if (ch == 'h') {
			*help = true;
			continue;
		}
		return ch;
	}
}

/* argv for a command, argv[0] "fleetgwctl COMMAND" for getopt's messages. */
static char **
command_argv(int argc, char **argv)
{
	char	**v;
	int	  i;

	v = xcalloc((size_t)argc + 1, sizeof(*v));
	v[0] = xasprintf("%s %s", progname, argv[0]);
	for (i = 1; i < argc; i++)
		v[i] = argv[i];
	return v;
}

static void
command_argv_free(char **v)
{
	free(v[0]);
	free(v);
}

/* positions */

struct positions_ctx {
	struct posjson_list	list;
	int			failed;
};

static int
positions_row(const struct store_position *p, void *arg)
{
	struct positions_ctx	*ctx = arg;

	if (posjson_list_add(&ctx->list, p) == -1) {
		ctx->failed = 1;
		return 1;
	}
	return 0;
}

/* The zone for times: the database's, the configuration's, the default. */
static const char *
positions_zone(struct store *st, const struct config *cfg)
{
	const char	*cand[3];
	size_t		 i;

	cand[0] = store_timezone(st);
	cand[1] = cfg != NULL ? cfg->device.timezone : NULL;
	cand[2] = DEFAULT_TIMEZONE;
	for (i = 0; i < NELEM(cand); i++) {
		if (cand[i] == NULL || *cand[i] == '\0')
			continue;
		if (timefmt_zone_valid(cand[i]) == 0)
			return cand[i];
		fprintf(stderr, "%s: time zone \"%s\" not found in the zone "
		    "database, ignoring it\n", progname, cand[i]);
	}
	return NULL;
}

static int
parse_limit(const char *s, uint64_t *limit)
{
	unsigned long long	v;
	char			*end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		return -1;
	*limit = v;
	return 0;
}

/* What the database listings (positions, trips, events, orders) share. */
struct listing {
	struct config	*cfg;
	struct store	*st;
	const char	*tz;
	int64_t		 from_ms;
	int64_t		 to_ms;
	uint64_t	 limit;
	int		 type;		/* enum rules_type, -1 any */
	int		 severity;	/* enum rules_severity, -1 any */
	char		*daemon_db;	/* the daemon's storage.path (-s) */
	enum store_stream stream;	/* LS_STREAM */
	uint64_t	 from_seq;	/* LS_STREAM: 1.. */
	uint64_t	 to_seq;	/* LS_STREAM: ..UINT64_MAX */
};

/* The options a listing takes besides --from and --to. */
#define LS_LIMIT	0x1	/* --limit N */
#define LS_FILTER	0x2	/* --type, --severity */
#define LS_DAEMON_DB	0x4	/* with -s: the database the daemon names */
#define LS_STREAM	0x8	/* STREAM argument, --from-seq, --to-seq */

/* "a, b, c": the names of event types (which 0) or severities (1). */
static char *
names_list(int which)
{
	const char	*name;
	char		*all = xstrdup(""), *next;
	int		 i;

	for (i = 0; ; i++) {
		name = which == 0 ? rules_type_name((enum rules_type)i) :
		    rules_severity_name((enum rules_severity)i);
		if (name == NULL)
			break;
		next = xasprintf("%s%s%s", all, i > 0 ? ", " : "", name);
		free(all);
		all = next;
	}
	return all;
}

static int
usage_bad_name(const char *name, const char *opt, const char *arg, int which)
{
	char	*names = names_list(which);
	int	 rc;

	rc = usage_error("%s: %s: \"%s\" is not one of %s", name, opt, arg,
	    names);
	free(names);
	return rc;
}

static void	print_clean(FILE *, const char *);

/*
 * The database path the daemon on sock writes (storage.path, from its
 * status reply), a new string; NULL after printing why.
 */
static char *
daemon_db_path(const char *sock, const char *name)
{
	json_t		*req, *reply;
	const char	*path, *e;
	char		*out = NULL;

	req = json_pack("{s:s}", "cmd", "status");
	reply = ctl_request(sock, req, STATUS_TIMEOUT_MS);
	json_decref(req);
	if (reply == NULL)
		return NULL;
	path = json_string_value(json_object_get(json_object_get(reply,
	    "store"), "path"));
	if (!json_is_true(json_object_get(reply, "ok")) || path == NULL ||
	    *path == '\0') {
		e = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "%s: %s: ", progname, name);
		print_clean(stderr, e != NULL ? e : "the daemon did not name "
		    "its database");
		fputc('\n', stderr);
	} else
		out = xstrdup(path);
	json_decref(reply);
	return out;
}

/*
 * Parse a listing's options (--from, --to and those flags allow), open
 * the database read-only and find the zone.  0 when ready
 * (listing_close() after), or -1 with the exit status in *rc (usage
 * error, --help, no database).
 */
static int
listing_open(struct ctl_opts *o, int argc, char **argv, const char *name,
    unsigned flags, struct listing *ls, int *rc)
{
	static const struct option longopts[] = {
		{ "from",	required_argument,	NULL,	OPT_FROM },
		{ "to",		required_argument,	NULL,	OPT_TO },
		{ "limit",	required_argument,	NULL,	OPT_LIMIT },
		{ "type",	required_argument,	NULL,	OPT_TYPE },
		{ "severity",	required_argument,	NULL,	OPT_SEVERITY },
		{ "from-seq",	required_argument,	NULL,	OPT_FROM_SEQ },
		{ "to-seq",	required_argument,	NULL,	OPT_TO_SEQ },
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	enum rules_type		 type;
	enum rules_severity	 sev;
	const char	*from = NULL, *to = NULL, *path;
	char		 err[128];
	int64_t		 t;
	bool		 help = false;
	int		 ch;

	memset(ls, 0, sizeof(*ls));
	ls->from_ms = INT64_MIN;
	ls->to_ms = INT64_MAX;
	ls->type = ls->severity = -1;
	ls->from_seq = 1;
	ls->to_seq = UINT64_MAX;
	*rc = EXIT_RUNTIME;
	while ((ch = next_opt(argc, argv, longopts, o, &help)) != -1) {
		switch (ch) {
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_LIMIT:
			if (!(flags & LS_LIMIT)) {
				*rc = usage_error("%s takes no --limit", name);
				return -1;
			}
			if (parse_limit(optarg, &ls->limit) == -1) {
				*rc = usage_error("--limit: \"%s\" is not a "
				    "positive integer", optarg);
				return -1;
			}
			break;
		case OPT_FROM_SEQ:
		case OPT_TO_SEQ:
			if (!(flags & LS_STREAM)) {
				*rc = usage_error("%s takes no --%s", name,
				    ch == OPT_FROM_SEQ ? "from-seq" : "to-seq");
				return -1;
			}
			if (parse_limit(optarg, ch == OPT_FROM_SEQ ?
			    &ls->from_seq : &ls->to_seq) == -1) {
				*rc = usage_error("--%s: \"%s\" is not a "
				    "positive integer", ch == OPT_FROM_SEQ ?
				    "from-seq" : "to-seq", optarg);
				return -1;
			}
			break;
		case OPT_TYPE:
		case OPT_SEVERITY:
			if (!(flags & LS_FILTER)) {
				*rc = usage_error("%s takes no --%s", name,
				    ch == OPT_TYPE ? "type" : "severity");
				return -1;
			}
			if (ch == OPT_TYPE) {
				if (rules_type_parse(optarg, &type) == -1) {
					*rc = usage_bad_name(name, "--type",
					    optarg, 0);
					return -1;
				}
				ls->type = (int)type;
			} else {
				if (rules_severity_parse(optarg, &sev) == -1) {
					*rc = usage_bad_name(name,
					    "--severity", optarg, 1);
					return -1;
				}
				ls->severity = (int)sev;
			}
			break;
		default:
			*rc = usage_error(NULL);
			return -1;
		}
	}
	if (help) {
		usage_text(stdout);
		*rc = EXIT_OK;
		return -1;
	}
	if ((flags & LS_STREAM) && optind < argc) {
		if (store_stream_parse(argv[optind], &ls->stream) == -1) {
			*rc = usage_error("%s: unknown stream \"%s\" (events, "
			    "positions)", name, argv[optind]);
			return -1;
		}
		optind++;
	} else if (flags & LS_STREAM) {
		*rc = usage_error("%s: which stream? (events, positions)",
		    name);
		return -1;
	}
	if (optind < argc) {
		*rc = usage_error("%s: unexpected argument \"%s\"", name,
		    argv[optind]);
		return -1;
	}
	/* Catch malformed times before touching any file. */
	if (from != NULL && timefmt_parse(from, "UTC", &t, err,
	    sizeof(err)) == -1) {
		*rc = usage_error("--from \"%s\": %s", from, err);
		return -1;
	}
	if (to != NULL && timefmt_parse(to, "UTC", &t, err, sizeof(err)) ==
	    -1) {
		*rc = usage_error("--to \"%s\": %s", to, err);
		return -1;
	}
	if (o->socket != NULL && !(flags & LS_DAEMON_DB)) {
		*rc = usage_error("%s reads the database: use --db FILE or -c "
		    "FILE, not -s", name);
		return -1;
	}

	if (o->db != NULL)
		path = o->db;
	else if (o->socket != NULL) {
		if ((ls->daemon_db = daemon_db_path(o->socket, name)) == NULL)
			return -1;
		path = ls->daemon_db;
	} else {
		if ((ls->cfg = load_config(o->config != NULL ? o->config :
		    DEFAULT_CONFIG)) == NULL)
			return -1;
		path = ls->cfg->storage.path;
	}
	if ((ls->st = store_open_readonly(path)) == NULL)
		goto fail;
	if ((ls->tz = positions_zone(ls->st, ls->cfg)) == NULL) {
		fprintf(stderr, "%s: no usable time zone (is tzdata "
		    "installed?)\n", progname);
		goto fail;
	}
	if ((from != NULL && timefmt_parse(from, ls->tz, &ls->from_ms, err,
	    sizeof(err)) == -1) || (to != NULL && timefmt_parse(to, ls->tz,
	    &ls->to_ms, err, sizeof(err)) == -1)) {
		fprintf(stderr, "%s: %s\n", progname, err);
		goto fail;
	}
	if (ls->from_ms > ls->to_ms) {
		*rc = usage_error("--from %s is after --to %s", from, to);
		goto fail;
	}
	return 0;
fail:
	store_close(ls->st);
	config_free(ls->cfg);
	free(ls->daemon_db);
	return -1;
}

static void
listing_close(struct listing *ls)
{
	store_close(ls->st);
	config_free(ls->cfg);
	free(ls->daemon_db);
}

static int
cmd_positions(struct ctl_opts *o, int argc, char **argv)
{
	struct positions_ctx	 ctx;
	struct listing		 ls;
	int			 rc;

	if (listing_open(o, argc, argv, "positions", LS_LIMIT, &ls, &rc) ==
	    -1)
		return rc;
	rc = EXIT_RUNTIME;
	memset(&ctx, 0, sizeof(ctx));
	posjson_list_begin(&ctx.list, stdout, ls.tz, o->json);
	if (store_query_positions(ls.st, ls.from_ms, ls.to_ms, ls.limit,
	    positions_row, &ctx) == -1)
		goto out;	/* logged by the store */
	if (ctx.failed) {
		if (ctx.list.error)
			fprintf(stderr, "%s: cannot format a position time "
			    "in zone %s\n", progname, ls.tz);
		else
			fprintf(stderr, "%s: stdout: %s\n", progname,
			    strerror(errno));
		goto out;
	}
	if (posjson_list_end(&ctx.list) == -1) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	listing_close(&ls);
	return rc;
}

/* trips */

struct trips_ctx {
	struct tripjson_list	list;
	int			failed;
};

static int
trips_row(const struct store_trip *t, void *arg)
{
	struct trips_ctx	*ctx = arg;

	if (tripjson_list_add(&ctx->list, t) == -1) {
		ctx->failed = 1;
		return 1;
	}
	return 0;
}

static int
cmd_trips(struct ctl_opts *o, int argc, char **argv)
{
	struct trips_ctx	 ctx;
	struct listing		 ls;
	int			 rc;

	if (listing_open(o, argc, argv, "trips", LS_LIMIT, &ls, &rc) == -1)
		return rc;
	rc = EXIT_RUNTIME;
	memset(&ctx, 0, sizeof(ctx));
	tripjson_list_begin(&ctx.list, stdout, ls.tz, o->json);
	if (store_query_trips(ls.st, ls.from_ms, ls.to_ms, ls.limit,
	    trips_row, &ctx) == -1)
		goto out;	/* logged by the store */
	if (ctx.failed) {
		if (ctx.list.error)
			fprintf(stderr, "%s: cannot format a trip time in "
			    "zone %s\n", progname, ls.tz);
		else
			fprintf(stderr, "%s: stdout: %s\n", progname,
			    strerror(errno));
		goto out;
	}
	if (tripjson_list_end(&ctx.list) == -1) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	listing_close(&ls);
	return rc;
}

/* status */

/* Printable copy of a string from the daemon: control characters -> '?'. */
static void
print_clean(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, fp);
}

static void
print_scalar(FILE *fp, const json_t *v)
{
	char	*s;

	switch (json_typeof(v)) {
	case JSON_STRING:
		print_clean(fp, json_string_value(v));
		break;
	case JSON_INTEGER:
		fprintf(fp, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(fp, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("yes", fp);
		break;
	case JSON_FALSE:
		fputs("no", fp);
		break;
	case JSON_NULL:
		fputs("-", fp);
		break;
	default:
		s = json_dumps(v, JSON_COMPACT);
		if (s != NULL)
			print_clean(fp, s);
		free(s);
		break;
	}
}

static void
print_label(FILE *fp, int indent, const char *label)
{
	int	pad = VALUE_COLUMN - indent - (int)strlen(label);

	fprintf(fp, "%*s", indent, "");
	print_clean(fp, label);
	fprintf(fp, "%*s", pad > 0 ? pad : 1, "");
}

static void
print_field(FILE *fp, int indent, const char *label, const json_t *v)
{
	print_label(fp, indent, label);
	print_scalar(fp, v);
	fputc('\n', fp);
}

/*
 * The members of obj not named in done, generically, nested objects
 * indented; underscores become blanks ("time_steps" -> "time steps").
 */
static void
print_rest(FILE *fp, int indent, const json_t *obj, const char *const *done)
{
	const char	*key;
	const char	*const *d;
	json_t		*v;
	char		 label[64];
	char		*p;

	json_object_foreach((json_t *)obj, key, v) {
		for (d = done; *d != NULL; d++)
			if (strcmp(*d, key) == 0)
				break;
		if (*d != NULL)
			continue;
		util_strlcpy(label, key, sizeof(label));
		for (p = label; *p != '\0'; p++)
			if (*p == '_')
				*p = ' ';
		if (json_is_object(v)) {
			fprintf(fp, "%*s", indent, "");
			print_clean(fp, label);
			fputc('\n', fp);
			print_rest(fp, indent + 2, v, (const char *const[]){
			    NULL });
		} else
			print_field(fp, indent, label, v);
	}
}

static void
print_counts(FILE *fp, const json_t *used, const json_t *visible)
{
	if (json_is_integer(used))
		fprintf(fp, "%lld used", (long long)json_integer_value(used));
	if (json_is_integer(used) && json_is_integer(visible))
		fputs(", ", fp);
	if (json_is_integer(visible))
		fprintf(fp, "%lld visible",
		    (long long)json_integer_value(visible));
	fputc('\n', fp);
}

static void
status_gnss(FILE *fp, const json_t *g)
{
	static const char *const done[] = {
		"state", "host", "port", "sats_used", "sats_visible",
		"constellations", "last_fix", "last_fix_age_s", NULL
	};
	const json_t	*host, *port, *used, *vis, *cons, *last, *age, *v;
	const char	*key;
	char		 dur[TIMEFMT_DURATION_BUFSZ];

	if ((v = json_object_get(g, "state")) != NULL)
		print_field(fp, 2, "state", v);
	host = json_object_get(g, "host");
	port = json_object_get(g, "port");
	if (host != NULL || port != NULL) {
		print_label(fp, 2, "gpsd");
		if (host != NULL)
			print_scalar(fp, host);
		if (port != NULL) {
			fputc(':', fp);
			print_scalar(fp, port);
		}
		fputc('\n', fp);
	}
	used = json_object_get(g, "sats_used");
	vis = json_object_get(g, "sats_visible");
	if (json_is_integer(used) || json_is_integer(vis)) {
		print_label(fp, 2, "satellites");
		print_counts(fp, used, vis);
	}
	cons = json_object_get(g, "constellations");
	if (json_is_object(cons)) {
		json_object_foreach((json_t *)cons, key, v) {
			print_label(fp, 4, key);
			print_counts(fp, json_object_get(v, "used"),
			    json_object_get(v, "visible"));
		}
	}
	last = json_object_get(g, "last_fix");
	age = json_object_get(g, "last_fix_age_s");
	if (last != NULL) {
		print_label(fp, 2, "last fix");
		if (json_is_null(last))
			fputs("none", fp);
		else
			print_scalar(fp, last);
		if (json_is_integer(age) && timefmt_duration(
		    json_integer_value(age), dur, sizeof(dur)) == 0)
			fprintf(fp, " (%s ago)", dur);
		fputc('\n', fp);
	} else if (age != NULL)
		print_field(fp, 2, "last fix age", age);
	print_rest(fp, 2, g, done);
}

/* One engine value in status: prefix, decimals, unit. */
struct status_value {
	const char	*key;
	const char	*prefix;
	int		 decimals;
	const char	*unit;
};

/* "812 rpm" for each known value of vs, separated by ", "; "-" if none. */
static void
print_values(FILE *fp, const json_t *vals, const struct status_value *vs,
    size_t n)
{
	const json_t	*v;
	size_t		 i;
	int		 any = 0;

	for (i = 0; i < n; i++) {
		v = json_object_get(vals, vs[i].key);
		if (!json_is_number(v))
			continue;
		fprintf(fp, "%s%s%.*f%s", any ? ", " : "", vs[i].prefix,
		    vs[i].decimals, json_number_value(v), vs[i].unit);
		any = 1;
	}
	if (!any)
		fputc('-', fp);
}

static void
status_obd(FILE *fp, const json_t *o)
{
	static const char *const done[] = {
		"driver", "device", "state", "adapter", "protocol_num",
		"protocol", "vin", "vin_check_ok", "values", "values_age_s",
		"mil_on", "dtcs", "last_error", "supported_pids", NULL
	};
	static const struct status_value eng[] = {
		{ "rpm", "", 0, " rpm" }, { "speed_kmh", "", 0, " km/h" },
		{ "load_pct", "load ", 0, " %" },
		{ "throttle_pct", "throttle ", 0, " %" },
		{ "coolant_c", "coolant ", 0, " \u00b0C" },
		{ "intake_c", "intake ", 0, " \u00b0C" },
		{ "ambient_c", "ambient ", 0, " \u00b0C" },
	}, fuel[] = {
		{ "fuel_level_pct", "level ", 1, " %" },
		{ "fuel_rate_lph", "", 2, " L/h" },
		{ "maf_gps", "MAF ", 2, " g/s" },
	}, other[] = {
		{ "battery_v", "battery ", 2, " V" },
		{ "odometer_km", "odometer ", 1, " km" },
		{ "run_time_s", "engine running ", 0, " s" },
	};
	const json_t	*v, *vals, *age, *d;
	size_t		 i;

	print_label(fp, 2, "state");
	print_scalar(fp, json_object_get(o, "state"));
	if ((v = json_object_get(o, "driver")) != NULL) {
		fputs(" (", fp);
		print_scalar(fp, v);
		if (json_is_string(v = json_object_get(o, "device")) &&
		    json_string_length(v) > 0) {
			fputc(' ', fp);
			print_scalar(fp, v);
		}
		fputc(')', fp);
	}
	fputc('\n', fp);
	if (json_is_string(v = json_object_get(o, "adapter")) &&
	    json_string_length(v) > 0)
		print_field(fp, 2, "adapter", v);
	if (json_is_string(v = json_object_get(o, "protocol")) &&
	    json_string_length(v) > 0)
		print_field(fp, 2, "protocol", v);
	if (json_is_string(v = json_object_get(o, "vin"))) {
		print_label(fp, 2, "VIN");
		print_scalar(fp, v);
		if (json_is_boolean(v = json_object_get(o, "vin_check_ok")))
			fputs(json_is_true(v) ? " (check digit ok)" :
			    " (no valid check digit)", fp);
		fputc('\n', fp);
	}
	vals = json_object_get(o, "values");
	if (json_is_object(vals) && json_object_size(vals) > 0) {
		print_label(fp, 2, "engine");
		print_values(fp, vals, eng, NELEM(eng));
		fputc('\n', fp);
		print_label(fp, 2, "fuel");
		print_values(fp, vals, fuel, NELEM(fuel));
		if (json_is_true(json_object_get(vals, "fuel_rate_estimated")))
			fputs(" (rate estimated from MAF)", fp);
		fputc('\n', fp);
		print_label(fp, 2, "vehicle");
		print_values(fp, vals, other, NELEM(other));
		fputc('\n', fp);
		if (json_is_number(age = json_object_get(o, "values_age_s")))
			fprintf(fp, "%*s%*sread %.1f s ago\n", 2, "",
			    VALUE_COLUMN - 2, "", json_number_value(age));
	}
	print_label(fp, 2, "trouble codes");
	d = json_object_get(o, "dtcs");
	if (!json_is_array(d))
		fputs("not read yet", fp);
	else if (json_array_size(d) == 0)
		fputs("none", fp);
	else
		for (i = 0; i < json_array_size(d); i++) {
			v = json_array_get(d, i);
			if (i > 0)
				fputs(", ", fp);
			print_scalar(fp, json_object_get(v, "code"));
			fputs(" (", fp);
			print_scalar(fp, json_object_get(v, "kind"));
			fputc(')', fp);
		}
	v = json_object_get(o, "mil_on");
	if (json_is_boolean(v))
		fprintf(fp, "; MIL %s", json_is_true(v) ? "ON" : "off");
	fputc('\n', fp);
	if (json_is_string(v = json_object_get(o, "last_error")) &&
	    json_string_length(v) > 0)
		print_field(fp, 2, "last error", v);
	if ((v = json_object_get(o, "supported_pids")) != NULL)
		print_field(fp, 2, "PIDs supported", v);
	print_rest(fp, 2, o, done);
}

static void
status_trip(FILE *fp, const json_t *t)
{
	static const char *const done[] = {
		"id", "start", "duration_s", "distance_m", "idle_s",
		"max_speed_kmh", "fuel_used_l", "driving_s", "avg_speed_kmh",
		"odometer_start_km", "start_lat", "start_lon", NULL
	};
	const json_t	*lat, *lon;
	const json_t	*v;
	char		 dur[TIMEFMT_DURATION_BUFSZ];

	print_label(fp, 2, "ongoing");
	fputs("trip ", fp);
	print_scalar(fp, json_object_get(t, "id"));
	fputs(" since ", fp);
	print_scalar(fp, json_object_get(t, "start"));
	fputc('\n', fp);
	print_label(fp, 2, "so far");
	v = json_object_get(t, "distance_m");
	if (json_is_number(v))
		fprintf(fp, "%.2f km", json_number_value(v) / 1000.0);
	v = json_object_get(t, "duration_s");
	if (json_is_number(v) && timefmt_duration(
	    (int64_t)json_number_value(v), dur, sizeof(dur)) == 0)
		fprintf(fp, " in %s", dur);
	v = json_object_get(t, "idle_s");
	if (json_is_number(v) && timefmt_duration(
	    (int64_t)json_number_value(v), dur, sizeof(dur)) == 0)
		fprintf(fp, ", idle %s", dur);
	v = json_object_get(t, "max_speed_kmh");
	if (json_is_number(v))
		fprintf(fp, ", max %.0f km/h", json_number_value(v));
	v = json_object_get(t, "fuel_used_l");
	if (json_is_number(v))
		fprintf(fp, ", fuel %.2f L", json_number_value(v));
	fputc('\n', fp);
	v = json_object_get(t, "driving_s");
	if (json_is_number(v) && timefmt_duration(
	    (int64_t)json_number_value(v), dur, sizeof(dur)) == 0) {
		print_label(fp, 2, "driving");
		fputs(dur, fp);
		v = json_object_get(t, "avg_speed_kmh");
		if (json_is_number(v))
			fprintf(fp, ", average %.1f km/h", json_number_value(v));
		fputc('\n', fp);
	}
	lat = json_object_get(t, "start_lat");
	lon = json_object_get(t, "start_lon");
	if (json_is_number(lat) && json_is_number(lon)) {
		print_label(fp, 2, "from");
		fprintf(fp, "%.6f, %.6f", json_number_value(lat),
		    json_number_value(lon));
		v = json_object_get(t, "odometer_start_km");
		if (json_is_number(v))
			fprintf(fp, " (odometer %.1f km)",
			    json_number_value(v));
		fputc('\n', fp);
	}
	print_rest(fp, 2, t, done);
}

/* One channel's outcome: last success, last error, next retry. */
static void
status_sync_outcome(FILE *fp, const json_t *c)
{
	const json_t	*v;

	print_label(fp, 4, "last success");
	v = json_object_get(c, "last_success");
	print_clean(fp, json_is_string(v) ? json_string_value(v) : "never");
	fputc('\n', fp);
	v = json_object_get(c, "last_error");
	if (json_is_string(v)) {
		print_label(fp, 4, "last error");
		print_clean(fp, json_string_value(v));
		fputc('\n', fp);
	}
	v = json_object_get(c, "next_retry_s");
	if (json_is_number(v)) {
		print_label(fp, 4, "next retry");
		fprintf(fp, "in %.1f s (failure %" JSON_INTEGER_FORMAT ")\n",
		    json_number_value(v), json_integer_value(json_object_get(c,
		    "failures")));
	}
}

/*
 * The sync section: per stream the backlog (pending records and the
 * time of the oldest), the acknowledged seq, then the outcome of the
 * last attempts; then the command channel.
 */
static void
status_sync(FILE *fp, const json_t *y)
{
	const json_t	*streams, *st, *v;
	const char	*name;

	if (!json_is_true(json_object_get(y, "enabled"))) {
		fputs("  no platform configured\n", fp);
		return;
	}
	if ((v = json_object_get(y, "url")) != NULL)
		print_field(fp, 2, "platform", v);
	streams = json_object_get(y, "streams");
	json_object_foreach((json_t *)streams, name, st) {
		print_label(fp, 2, name);
		fprintf(fp, "%" JSON_INTEGER_FORMAT " pending",
		    json_integer_value(json_object_get(st, "pending")));
		v = json_object_get(st, "oldest_pending");
		if (json_is_string(v)) {
			fputs(", oldest ", fp);
			print_clean(fp, json_string_value(v));
		}
		fprintf(fp, "; acknowledged through %" JSON_INTEGER_FORMAT
		    " of %" JSON_INTEGER_FORMAT "%s\n",
		    json_integer_value(json_object_get(st, "acked_through")),
		    json_integer_value(json_object_get(st, "next_seq")) - 1,
		    json_is_true(json_object_get(st, "in_flight")) ?
		    ", sending" : "");
		v = json_object_get(st, "quarantined");
		if (json_integer_value(v) > 0) {
			print_label(fp, 4, "quarantined");
			fprintf(fp, "%" JSON_INTEGER_FORMAT " records refused "
			    "by the platform (kept)\n", json_integer_value(v));
		}
		status_sync_outcome(fp, st);
	}
	if (json_is_object(st = json_object_get(y, "commands"))) {
		print_label(fp, 2, "commands");
		fprintf(fp, "%s, %" JSON_INTEGER_FORMAT " run\n",
		    json_is_true(json_object_get(st, "polling")) ? "polling" :
		    "not polling", json_integer_value(json_object_get(st,
		    "run")));
		status_sync_outcome(fp, st);
	}
	if (json_is_object(st = json_object_get(y, "results")) &&
	    json_is_string(json_object_get(st, "last_error"))) {
		print_label(fp, 2, "results");
		fputs("posting\n", fp);
		status_sync_outcome(fp, st);
	}
}

static void
status_print(FILE *fp, const json_t *r)
{
	static const char *const top_done[] = {
		"ok", "version", "uptime_s", "device", "gnss", "obd", "trip",
		"store", "sync", NULL
	};
	static const char *const device_keys[] = {
		"id", "plate", "unit", "class", "timezone", NULL
	};
	static const char *const store_keys[] = {
		"path", "positions", "pending", "next_seq", "dropped", NULL
	};
	const json_t	*v, *sec;
	const char	*const *k;
	const char	*key;
	char		 dur[TIMEFMT_DURATION_BUFSZ];
	char		 label[64], *p;

	fputs("fleetgwd", fp);
	if ((v = json_object_get(r, "version")) != NULL) {
		fputc(' ', fp);
		print_scalar(fp, v);
	}
	v = json_object_get(r, "uptime_s");
	if (json_is_integer(v) && timefmt_duration(json_integer_value(v), dur,
	    sizeof(dur)) == 0)
		fprintf(fp, ", up %s", dur);
	fputc('\n', fp);
	/* Top-level scalars we do not know come first, sections after. */
	json_object_foreach((json_t *)r, key, v) {
		for (k = top_done; *k != NULL; k++)
			if (strcmp(*k, key) == 0)
				break;
		if (*k == NULL && !json_is_object(v))
			print_field(fp, 0, key, v);
	}

	if (json_is_object(sec = json_object_get(r, "device"))) {
		fputs("device\n", fp);
		for (k = device_keys; *k != NULL; k++)
			if ((v = json_object_get(sec, *k)) != NULL)
				print_field(fp, 2, *k, v);
		print_rest(fp, 2, sec, device_keys);
	}
	if (json_is_object(sec = json_object_get(r, "gnss"))) {
		fputs("gnss\n", fp);
		status_gnss(fp, sec);
	}
	if (json_is_object(sec = json_object_get(r, "obd"))) {
		fputs("obd\n", fp);
		status_obd(fp, sec);
	}
	sec = json_object_get(r, "trip");
	if (json_is_object(sec)) {
		fputs("trip\n", fp);
		status_trip(fp, sec);
	} else if (json_is_null(sec))
		fputs("trip\n  none\n", fp);
	if (json_is_object(sec = json_object_get(r, "store"))) {
		fputs("store\n", fp);
		for (k = store_keys; *k != NULL; k++) {
			if ((v = json_object_get(sec, *k)) == NULL)
				continue;
			util_strlcpy(label, *k, sizeof(label));
			for (p = label; *p != '\0'; p++)
				if (*p == '_')
					*p = ' ';
			print_field(fp, 2, label, v);
		}
		print_rest(fp, 2, sec, store_keys);
	}
	if (json_is_object(sec = json_object_get(r, "sync"))) {
		fputs("sync\n", fp);
		status_sync(fp, sec);
	}
	/* Sections we do not know yet, generically. */
	json_object_foreach((json_t *)r, key, v) {
		for (k = top_done; *k != NULL; k++)
			if (strcmp(*k, key) == 0)
				break;
		if (*k == NULL && json_is_object(v)) {
			print_clean(fp, key);
			fputc('\n', fp);
			print_rest(fp, 2, v, (const char *const[]){ NULL });
		}
	}
}

static int
cmd_status(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	struct config	*cfg = NULL;
	const char	*sock, *e;
	json_t		*req, *reply;
	bool		 help = false;
	int		 ch, rc = EXIT_RUNTIME;

	if ((ch = next_opt(argc, argv, longopts, o, &help)) != -1)
		return usage_error(NULL);
	if (help) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (optind < argc)
		return usage_error("status: unexpected argument \"%s\"",
		    argv[optind]);
	if (o->db != NULL)
		return usage_error("status asks the daemon: use -s SOCKET or "
		    "-c FILE, not --db");
	if (o->socket != NULL)
		sock = o->socket;
	else {
		if ((cfg = load_config(o->config != NULL ? o->config :
		    DEFAULT_CONFIG)) == NULL)
			return EXIT_RUNTIME;
		sock = cfg->ctl.socket;
	}

	req = json_pack("{s:s}", "cmd", "status");
	reply = ctl_request(sock, req, STATUS_TIMEOUT_MS);
	json_decref(req);
	if (reply == NULL)
		goto out;
	if (o->json) {
		if (json_dumpf(reply, stdout, JSON_INDENT(2) |
		    JSON_REAL_PRECISION(POSJSON_REAL_PRECISION)) == -1 ||
		    fputc('\n', stdout) == EOF) {
			fprintf(stderr, "%s: stdout: %s\n", progname,
			    strerror(errno));
			goto out;
		}
	} else if (json_is_true(json_object_get(reply, "ok")))
		status_print(stdout, reply);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		e = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "%s: status: ", progname);
		print_clean(stderr, e != NULL ? e : "daemon reported failure");
		fputc('\n', stderr);
		goto out;
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	json_decref(reply);
	config_free(cfg);
	return rc;
}

/* "LON,LAT" in degrees; 0, or -1. */
static int
parse_lonlat(const char *s, double *lon, double *lat)
{
	char	*end;

	errno = 0;
	*lon = strtod(s, &end);
	if (end == s || *end != ',' || errno != 0)
		return -1;
	s = end + 1;
	*lat = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0)
		return -1;
	if (!(fabs(*lon) <= 180.0 && fabs(*lat) <= 90.0))
		return -1;
	return 0;
}

/* The fences as the daemon has them, page by page; NULL on failure. */
static json_t *
fences_from_daemon(const char *sock)
{
	json_t		*all = json_array(), *req, *reply, *page;
	json_int_t	 total, off = 0;
	const char	*e;

	do {
		req = json_pack("{s:s, s:I}", "cmd", "fences", "offset", off);
		reply = ctl_request(sock, req, STATUS_TIMEOUT_MS);
		json_decref(req);
		if (reply == NULL)
			goto fail;
		if (!json_is_true(json_object_get(reply, "ok"))) {
			e = json_string_value(json_object_get(reply, "error"));
			fprintf(stderr, "%s: fences: ", progname);
			print_clean(stderr, e != NULL ? e :
			    "daemon reported failure");
			fputc('\n', stderr);
			json_decref(reply);
			goto fail;
		}
		total = json_integer_value(json_object_get(reply, "total"));
		page = json_object_get(reply, "fences");
		if (!json_is_array(page) || (json_array_size(page) == 0 &&
		    off < total)) {
			fprintf(stderr, "%s: fences: malformed reply\n",
			    progname);
			json_decref(reply);
			goto fail;
		}
		json_array_extend(all, page);
		off += (json_int_t)json_array_size(page);
		json_decref(reply);
	} while (off < total);
	return all;
fail:
	json_decref(all);
	return NULL;
}

static int
print_json(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2) |
	    JSON_REAL_PRECISION(POSJSON_REAL_PRECISION)) == -1 ||
	    fputc('\n', stdout) == EOF)
		return -1;
	return 0;
}

/*
 * fences [--at LON,LAT [--crs CRS]] [--from-config]: the daemon's fences,
 * or, when it is not running (no socket) or with --from-config, the ones
 * the configuration file defines.
 */
static int
cmd_fences(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	 no_argument,		NULL,	OPT_JSON },
		{ "at",		 required_argument,	NULL,	OPT_AT },
		{ "crs",	 required_argument,	NULL,	OPT_CRS },
		{ "from-config", no_argument,		NULL,	OPT_FROM_CONFIG },
		{ "help",	 no_argument,		NULL,	'h' },
		{ NULL,		 0,			NULL,	0 }
	};
	struct config		*cfg = NULL;
	struct fence_set	*set = NULL;
	struct config_errors	 errs, warns;
	struct stat		 st;
	const char		*sock = NULL, *at = NULL, *crsname = NULL, *e;
	const char		*conffile;
	enum geo_crs		 crs = GEO_CRS_WGS84;
	json_t			*req, *out = NULL;
	double			 lon = 0, lat = 0;
	bool			 help = false, from_config = false;
	size_t			 i;
	int			 ch, rc = EXIT_RUNTIME;

	while ((ch = next_opt(argc, argv, longopts, o, &help)) != -1) {
		switch (ch) {
		case OPT_AT:
			at = optarg;
			break;
		case OPT_CRS:
			crsname = optarg;
			break;
		case OPT_FROM_CONFIG:
			from_config = true;
			break;
		default:
			return usage_error(NULL);
		}
	}
	if (help) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (optind < argc)
		return usage_error("fences: unexpected argument \"%s\"",
		    argv[optind]);
	if (o->db != NULL)
		return usage_error("fences are not in the database: use "
		    "-s SOCKET or -c FILE, not --db");
	if (at != NULL && parse_lonlat(at, &lon, &lat) == -1)
		return usage_error("fences: --at wants LON,LAT in degrees, "
		    "e.g. 104.0665,30.5723, got \"%s\"", at);
	if (crsname != NULL && at == NULL)
		return usage_error("fences: --crs goes with --at");
	if (crsname != NULL && geo_crs_parse(crsname, &crs) == -1)
		return usage_error("fences: --crs: \"%s\" is not one of wgs84, "
		    "cgcs2000, gcj02, bd09", crsname);
	if (o->socket != NULL && from_config)
		return usage_error("fences: --from-config reads -c FILE, not "
		    "-s SOCKET");

	if (o->socket != NULL)
		sock = o->socket;
	else {
		conffile = o->config != NULL ? o->config : DEFAULT_CONFIG;
		if ((cfg = load_config(conffile)) == NULL)
			return EXIT_RUNTIME;
		if (!from_config && stat(cfg->ctl.socket, &st) == 0 &&
		    S_ISSOCK(st.st_mode))
			sock = cfg->ctl.socket;
		else {
			if (!from_config)
				fprintf(stderr, "%s: daemon not running (no "
				    "socket %s): fences as %s defines them\n",
				    progname, cfg->ctl.socket, conffile);
			set = fenceload(cfg, &errs, &warns);
			for (i = 0; i < warns.n; i++)
				fprintf(stderr, "warning: %s\n",
				    warns.lines[i]);
			for (i = 0; i < errs.n; i++)
				fprintf(stderr, "%s\n", errs.lines[i]);
			config_errors_free(&errs);
			config_errors_free(&warns);
			if (set == NULL)
				goto done;
		}
	}

	if (set != NULL) {
		if (at != NULL)
			out = fencejson_at(set, lon, lat, crs);
		else {
			out = json_array();
			for (i = 0; i < fence_set_count(set); i++)
				json_array_append_new(out,
				    fencejson_info(set, i));
		}
	} else if (at != NULL) {
		req = json_pack("{s:s, s:f, s:f, s:s}", "cmd", "fences_at",
		    "lon", lon, "lat", lat, "crs", geo_crs_name(crs));
		out = ctl_request(sock, req, STATUS_TIMEOUT_MS);
		json_decref(req);
		if (out == NULL)
			goto done;
		if (!json_is_true(json_object_get(out, "ok"))) {
			e = json_string_value(json_object_get(out, "error"));
			fprintf(stderr, "%s: fences: ", progname);
			print_clean(stderr, e != NULL ? e :
			    "daemon reported failure");
			fputc('\n', stderr);
			goto done;
		}
		json_object_del(out, "ok");
	} else if ((out = fences_from_daemon(sock)) == NULL)
		goto done;

	if (o->json) {
		if (print_json(out) == -1)
			goto write_error;
	} else if (at != NULL)
		fencejson_print_at(stdout, out);
	else
		fencejson_print_list(stdout, out);
	if (fflush(stdout) == EOF)
		goto write_error;
	rc = EXIT_OK;
	goto done;
write_error:
	fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
done:
	json_decref(out);
	fence_set_free(set);
	config_free(cfg);
	return rc;
}

/* events */

struct events_ctx {
	struct eventjson_list	list;
	int			failed;
};

static int
events_row(const struct store_event *ev, void *arg)
{
	struct events_ctx	*ctx = arg;

	if (eventjson_list_add(&ctx->list, ev) == -1) {
		ctx->failed = 1;
		return 1;
	}
	return 0;
}

static int
cmd_events(struct ctl_opts *o, int argc, char **argv)
{
	struct events_ctx	 ctx;
	struct listing		 ls;
	int			 rc;

	if (listing_open(o, argc, argv, "events", LS_LIMIT | LS_FILTER, &ls,
	    &rc) == -1)
		return rc;
	rc = EXIT_RUNTIME;
	memset(&ctx, 0, sizeof(ctx));
	eventjson_list_begin(&ctx.list, stdout, ls.tz, o->json);
	if (store_query_events(ls.st, ls.from_ms, ls.to_ms, ls.type,
	    ls.severity, ls.limit, events_row, &ctx) == -1)
		goto out;	/* logged by the store */
	if (ctx.failed) {
		if (ctx.list.error)
			fprintf(stderr, "%s: cannot format an event time in "
			    "zone %s\n", progname, ls.tz);
		else
			fprintf(stderr, "%s: stdout: %s\n", progname,
			    strerror(errno));
		goto out;
	}
	if (eventjson_list_end(&ctx.list) == -1) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	listing_close(&ls);
	return rc;
}

/* records: a stream's records exactly as the platform receives them */

struct records_ctx {
	const char	*tz;
	bool		 json;
	uint64_t	 n;
	int		 failed;	/* 1 convert, 2 write */
};

static int
records_row(const struct store_record *r, void *arg)
{
	struct records_ctx	*ctx = arg;
	json_t			*o;
	int			 w;

	if ((o = wirerec_record(r, ctx->tz)) == NULL) {
		ctx->failed = 1;
		return 1;
	}
	w = fputs(ctx->json ? (ctx->n == 0 ? "[\n" : ",\n") : "", stdout);
	if (w == EOF || json_dumpf(o, stdout, WIREREC_DUMP_FLAGS) == -1 ||
	    (!ctx->json && fputc('\n', stdout) == EOF)) {
		json_decref(o);
		ctx->failed = 2;
		return 1;
	}
	json_decref(o);
	ctx->n++;
	return 0;
}

static int
cmd_records(struct ctl_opts *o, int argc, char **argv)
{
	struct records_ctx	 ctx;
	struct listing		 ls;
	int			 rc;

	if (listing_open(o, argc, argv, "records", LS_LIMIT | LS_STREAM |
	    LS_DAEMON_DB, &ls, &rc) == -1)
		return rc;
	rc = EXIT_RUNTIME;
	memset(&ctx, 0, sizeof(ctx));
	ctx.tz = ls.tz;
	ctx.json = o->json;
	if (ls.from_seq > ls.to_seq) {
		rc = usage_error("--from-seq is above --to-seq");
		goto out;
	}
	if (store_stream_read(ls.st, ls.stream, ls.from_seq, ls.to_seq,
	    ls.limit, records_row, &ctx) == -1)
		goto out;	/* logged by the store */
	if (ctx.failed == 1) {
		fprintf(stderr, "%s: a record cannot be converted (time zone "
		    "%s)\n", progname, ls.tz);
		goto out;
	}
	if (ctx.failed == 0 && ctx.json &&
	    fputs(ctx.n == 0 ? "[]\n" : "\n]\n", stdout) == EOF)
		ctx.failed = 2;
	if (ctx.failed == 2 || fflush(stdout) == EOF) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	listing_close(&ls);
	return rc;
}

/*
 * report --from T --to T -o FILE: the inspector's HTML report with a
 * map (report.h).  Records as the listings read them (-c, -s or --db);
 * fences from the configuration (-c, with those the platform set) or
 * from the daemon (-s), none with --db alone (the report says so).  The
 * file is written beside its final name, synced, then renamed over it,
 * so a reader never sees half a report.
 */

struct report_rows {
	struct report	*r;
	int		 full;		/* REPORT_MAX_POSITIONS reached */
};

static int
report_position_row(const struct store_position *p, void *arg)
{
	struct report_rows	*rows = arg;

	if (report_add_position(rows->r, p) == -1) {
		rows->full = 1;
		return 1;
	}
	return 0;
}

static int
report_trip_row(const struct store_trip *t, void *arg)
{
	struct report_rows	*rows = arg;

	return report_add_trip(rows->r, t) == -1;
}

static int
report_event_row(const struct store_event *ev, void *arg)
{
	struct report_rows	*rows = arg;

	(void)report_add_event(rows->r, ev);	/* unknown type: left out */
	return 0;
}

static FILE	*out_tmp_open(const char *, char **);
static int	 out_tmp_commit(FILE *, char *, const char *);

/* Write r to path atomically and durably; 0, or -1 after saying why. */
static int
report_save(struct report *r, const char *path)
{
	FILE	*fp;
	char	*tmp;
	int	 rc;

	if ((fp = out_tmp_open(path, &tmp)) == NULL)
		return -1;
	if (report_write(r, fp) == -1) {
		if (errno == EINVAL)
			fprintf(stderr, "%s: report: a time cannot be shown "
			    "in the device's zone\n", progname);
		else
			fprintf(stderr, "%s: report: %s: %s\n", progname, tmp,
			    strerror(errno));
		fclose(fp);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	rc = out_tmp_commit(fp, tmp, path);
	free(tmp);
	return rc;
}

/* The fences for the report: set (-c) or infos (-s), else a note. */
static void
report_fences(struct ctl_opts *o, struct listing *ls, struct fence_set **set,
    json_t **infos, char **from, const char **note)
{
	struct config_errors	errs, warns;
	size_t			i;

	*set = NULL;
	*infos = NULL;
	*from = NULL;
	*note = NULL;
	if (ls->cfg != NULL) {
		*set = platformset_fences(ls->cfg, NULL, &errs, &warns);
		for (i = 0; i < warns.n; i++)
			fprintf(stderr, "warning: %s\n", warns.lines[i]);
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.lines[i]);
		config_errors_free(&errs);
		config_errors_free(&warns);
		if (*set != NULL)
			*from = xasprintf("the configuration %s",
			    ls->cfg->file);
		else
			*note = "the configuration's fences did not load";
	} else if (o->socket != NULL) {
		if ((*infos = fences_from_daemon(o->socket)) != NULL)
			*from = xasprintf("the daemon (%s)", o->socket);
		else
			*note = "the daemon did not list its fences";
	} else
		*note = "the report was made from a database file alone "
		    "(--db); with -c FILE or -s SOCKET the fences are drawn";
}

static int
cmd_report(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from",	required_argument,	NULL,	OPT_FROM },
		{ "to",		required_argument,	NULL,	OPT_TO },
		{ "output",	required_argument,	NULL,	'o' },
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	struct report_opts	 ro;
	struct report_counts	 cnt;
	struct report_rows	 rows = { NULL, 0 };
	struct listing		 ls;
	struct fence_set	*set = NULL;
	const char		*from = NULL, *to = NULL, *path = NULL, *note;
	const char		*v, *dbpath;
	char			*lsv[6], *fences_from = NULL, *source = NULL;
	json_t			*infos = NULL, *status = NULL, *req, *res;
	bool			 help = false;
	size_t			 i;
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, "+ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_TO:
			to = optarg;
			break;
		case 'o':
			path = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'h':
			help = true;
			break;
		default:
			return usage_error(NULL);
		}
	}
	if (help) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (optind < argc)
		return usage_error("report: unexpected argument \"%s\"",
		    argv[optind]);
	if (from == NULL || to == NULL)
		return usage_error("report: --from T and --to T are required");
	if (path == NULL || *path == '\0')
		return usage_error("report: -o FILE is required");

	/* The listings' way to the database and its zone. */
	lsv[0] = argv[0];
	lsv[1] = "--from";
	lsv[2] = (char *)from;
	lsv[3] = "--to";
	lsv[4] = (char *)to;
	lsv[5] = NULL;
	optind = 0;
	if (listing_open(o, 5, lsv, "report", LS_DAEMON_DB, &ls, &rc) == -1)
		return rc;
	rc = EXIT_RUNTIME;

	memset(&ro, 0, sizeof(ro));
	ro.vehicle.device_id = store_device_id(ls.st);
	ro.vehicle.vin = store_vin(ls.st);
	if (ls.cfg != NULL) {
		if (*ro.vehicle.device_id == '\0')
			ro.vehicle.device_id = ls.cfg->device.id;
		ro.vehicle.plate = ls.cfg->device.plate;
		ro.vehicle.unit = ls.cfg->device.unit;
		ro.vehicle.vehicle_class =
		    config_class_name(ls.cfg->device.class);
	} else if (o->socket != NULL) {
		req = json_pack("{s:s}", "cmd", "status");
		status = ctl_request(o->socket, req, STATUS_TIMEOUT_MS);
		json_decref(req);
		res = json_object_get(status, "device");
		if ((v = json_string_value(json_object_get(res, "plate"))) !=
		    NULL)
			ro.vehicle.plate = v;
		if ((v = json_string_value(json_object_get(res, "unit"))) !=
		    NULL)
			ro.vehicle.unit = v;
		if ((v = json_string_value(json_object_get(res, "class"))) !=
		    NULL)
			ro.vehicle.vehicle_class = v;
		if (*ro.vehicle.device_id == '\0' && (v = json_string_value(
		    json_object_get(res, "id"))) != NULL)
			ro.vehicle.device_id = v;
		if (*ro.vehicle.vin == '\0' && (v = json_string_value(
		    json_object_get(json_object_get(status, "obd"), "vin")))
		    != NULL)
			ro.vehicle.vin = v;
	}
	dbpath = o->db != NULL ? o->db : ls.daemon_db != NULL ?
	    ls.daemon_db : ls.cfg->storage.path;
	if (o->db != NULL)
		source = xasprintf("database file %s", dbpath);
	else if (o->socket != NULL)
		source = xasprintf("database %s of the daemon at %s", dbpath,
		    o->socket);
	else
		source = xasprintf("database %s (configuration %s)", dbpath,
		    ls.cfg->file);
	ro.tz = ls.tz;
	ro.from_utc_ms = ls.from_ms;
	ro.to_utc_ms = ls.to_ms;
	ro.generated_utc_ms = util_real_ms();
	ro.source = source;
	report_fences(o, &ls, &set, &infos, &fences_from, &note);
	ro.fences_from = fences_from;
	ro.fences_note = note;
	rows.r = report_new(&ro);
	report_set_fences(rows.r, set);
	for (i = 0; i < json_array_size(infos); i++)
		(void)report_add_fence_info(rows.r, json_array_get(infos, i));

	if (store_query_positions(ls.st, ls.from_ms, ls.to_ms, 0,
	    report_position_row, &rows) == -1 ||
	    store_query_trips(ls.st, ls.from_ms, ls.to_ms, 0,
	    report_trip_row, &rows) == -1 ||
	    store_query_events(ls.st, ls.from_ms, ls.to_ms, -1, -1, 0,
	    report_event_row, &rows) == -1)
		goto out;	/* logged by the store */
	if (rows.full) {
		fprintf(stderr, "%s: report: more than %d positions in the "
		    "period: make it shorter\n", progname,
		    REPORT_MAX_POSITIONS);
		goto out;
	}
	if (report_save(rows.r, path) == -1)
		goto out;
	report_get_counts(rows.r, &cnt);
	if (o->json) {
		res = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "file", path,
		    "trips", (json_int_t)cnt.trips, "events",
		    (json_int_t)cnt.events, "positions",
		    (json_int_t)cnt.positions, "points_drawn",
		    (json_int_t)cnt.points_drawn, "fences_drawn",
		    (json_int_t)cnt.fences_drawn);
		if (res == NULL || print_json(res) == -1) {
			json_decref(res);
			fprintf(stderr, "%s: stdout: %s\n", progname,
			    strerror(errno));
			goto out;
		}
		json_decref(res);
	} else {
		printf("report written to ");
		print_clean(stdout, path);
		printf(": %zu trips, %zu events, %zu positions (%zu track "
		    "points drawn), %zu fences on the map\n", cnt.trips,
		    cnt.events, cnt.positions, cnt.points_drawn,
		    cnt.fences_drawn);
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	report_free(rows.r);
	fence_set_free(set);
	json_decref(infos);
	json_decref(status);
	free(fences_from);
	free(source);
	listing_close(&ls);
	return rc;
}

/*
 * pubkey: the public half of the gateway's signing key (signing.key_file
 * of the configuration, or --key FILE), which the platform registers and
 * inspectors verify exports with.  PEM (SubjectPublicKeyInfo); with
 * --json {"algorithm": "ed25519", "pem": ..., "raw": base64 of the 32
 * bytes}.
 */
static int
cmd_pubkey(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key",	required_argument,	NULL,	OPT_KEY },
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	struct config	*cfg = NULL;
	struct sign_key	*k = NULL;
	const char	*path = NULL;
	unsigned char	 raw[32];
	char		 b64[64], why[512], *pem = NULL;
	json_t		*out;
	bool		 help = false;
	int		 ch, rc = EXIT_RUNTIME;

	while ((ch = next_opt(argc, argv, longopts, o, &help)) != -1) {
		if (ch != OPT_KEY)
			return usage_error(NULL);
		path = optarg;
	}
	if (help) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (optind < argc)
		return usage_error("pubkey: unexpected argument \"%s\"",
		    argv[optind]);
	if (path == NULL) {
		if (o->db != NULL || o->socket != NULL)
			return usage_error("pubkey reads signing.key_file of "
			    "the configuration (-c FILE) or --key FILE");
		if ((cfg = load_config(o->config != NULL ? o->config :
		    DEFAULT_CONFIG)) == NULL)
			return EXIT_RUNTIME;
		if (!cfg->signing.enabled) {
			fprintf(stderr, "%s: %s has no signing group (give "
			    "--key FILE)\n", progname, cfg->file);
			goto out;
		}
		path = cfg->signing.key_path;
	}
	if ((k = sign_key_load(path, why, sizeof(why))) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, why);
		goto out;
	}
	if ((pem = sign_pubkey_pem(k)) == NULL ||
	    sign_pubkey_raw(k, raw) == -1) {
		fprintf(stderr, "%s: %s: cannot derive the public key\n",
		    progname, path);
		goto out;
	}
	if (o->json) {
		EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
		out = json_pack("{s:s, s:s, s:s}", "algorithm", "ed25519",
		    "pem", pem, "raw", b64);
		if (out == NULL || json_dumpf(out, stdout, JSON_INDENT(2)) == -1 ||
		    fputc('\n', stdout) == EOF) {
			json_decref(out);
			fprintf(stderr, "%s: stdout: %s\n", progname,
			    strerror(errno));
			goto out;
		}
		json_decref(out);
	} else if (fputs(pem, stdout) == EOF) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	rc = fflush(stdout) == EOF ? EXIT_RUNTIME : EXIT_OK;
out:
	free(pem);
	sign_key_free(k);
	config_free(cfg);
	return rc;
}

/* dispatch */

struct orders_ctx {
	struct dispatch_list	list;
	int			failed;
};

static int
orders_row(const struct store_order *so, void *arg)
{
	struct orders_ctx	*ctx = arg;

	if (dispatch_list_add(&ctx->list, so) == -1) {
		ctx->failed = 1;
		return 1;
	}
	return 0;
}

static int
dispatch_list_cmd(struct ctl_opts *o, int argc, char **argv)
{
	struct orders_ctx	 ctx;
	struct listing		 ls;
	int			 rc;

	if (listing_open(o, argc, argv, "dispatch list", LS_DAEMON_DB, &ls,
	    &rc) == -1)
		return rc;
	rc = EXIT_RUNTIME;
	memset(&ctx, 0, sizeof(ctx));
	dispatch_list_begin(&ctx.list, stdout, ls.tz, o->json);
	if (store_query_orders(ls.st, ls.from_ms, ls.to_ms, orders_row,
	    &ctx) == -1) {
		dispatch_list_free(&ctx.list);
		goto out;	/* logged by the store */
	}
	if (ctx.failed) {
		if (ctx.list.error)
			fprintf(stderr, "%s: cannot format an order time in "
			    "zone %s\n", progname, ls.tz);
		else
			fprintf(stderr, "%s: stdout: %s\n", progname,
			    strerror(errno));
		dispatch_list_free(&ctx.list);
		goto out;
	}
	if (dispatch_list_end(&ctx.list) == -1) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	listing_close(&ls);
	return rc;
}

/*
 * The daemon's socket for a command that changes its state: -s, or
 * ctl.socket of the configuration (*cfg, to free).  NULL with the exit
 * status in *rc.
 */
static const char *
daemon_socket(struct ctl_opts *o, const char *name, struct config **cfg,
    int *rc)
{
	*cfg = NULL;
	if (o->db != NULL) {
		*rc = usage_error("%s goes through the daemon: use -s SOCKET "
		    "or -c FILE, not --db", name);
		return NULL;
	}
	if (o->socket != NULL)
		return o->socket;
	if ((*cfg = load_config(o->config != NULL ? o->config :
	    DEFAULT_CONFIG)) == NULL) {
		*rc = EXIT_RUNTIME;
		return NULL;
	}
	return (*cfg)->ctl.socket;
}

/*
 * Send req (taken) to the daemon; the reply when it says ok, else NULL
 * after printing why (and, with --json, the reply as it came).
 */
static json_t *
daemon_change(struct ctl_opts *o, const char *sock, const char *name,
    json_t *req)
{
	json_t		*reply;
	const char	*e;

	reply = ctl_request(sock, req, STATUS_TIMEOUT_MS);
	json_decref(req);
	if (reply == NULL) {
		fprintf(stderr, "%s: %s: not done: dispatch orders are "
		    "changed through the running daemon\n", progname, name);
		return NULL;
	}
	if (json_is_true(json_object_get(reply, "ok")))
		return reply;
	if (o->json && print_json(reply) == -1)
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
	e = json_string_value(json_object_get(reply, "error"));
	fprintf(stderr, "%s: %s: ", progname, name);
	print_clean(stderr, e != NULL ? e : "daemon reported failure");
	fputc('\n', stderr);
	json_decref(reply);
	return NULL;
}

/*
 * reload: the daemon rereads its configuration file, as on SIGHUP, and
 * says how it went (a refused file keeps the running configuration).
 * Administrators only (root, the daemon's user, ctl.admin_group).
 */
static int
cmd_reload(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	struct config	*cfg = NULL;
	const char	*sock, *e, *file;
	json_t		*req, *reply;
	bool		 help = false;
	int		 rc = EXIT_RUNTIME;

	if (next_opt(argc, argv, longopts, o, &help) != -1)
		return usage_error(NULL);
	if (help) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (optind < argc)
		return usage_error("reload: unexpected argument \"%s\"",
		    argv[optind]);
	if ((sock = daemon_socket(o, "reload", &cfg, &rc)) == NULL)
		return rc;
	rc = EXIT_RUNTIME;
	req = json_pack("{s:s}", "cmd", "reload");
	reply = ctl_request(sock, req, STATUS_TIMEOUT_MS);
	json_decref(req);
	if (reply == NULL)
		goto out;
	if (o->json && print_json(reply) == -1) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		e = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "%s: reload: ", progname);
		print_clean(stderr, e != NULL ? e : "daemon reported failure");
		fputc('\n', stderr);
		goto out;
	}
	if (!o->json) {
		file = json_string_value(json_object_get(reply, "file"));
		fputs("configuration reloaded", stdout);
		if (file != NULL) {
			fputs(" from ", stdout);
			print_clean(stdout, file);
		}
		fputc('\n', stdout);
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	json_decref(reply);
	config_free(cfg);
	return rc;
}

/* "LON,LAT[,RADIUS_M]"; 0, or -1. */
static int
parse_dest(const char *s, double *lon, double *lat, double *radius_m)
{
	char	*end;
	int	 i;
	double	*v[3] = { lon, lat, radius_m };

	*radius_m = DISPATCH_DEFAULT_RADIUS_M;
	for (i = 0; i < 3; i++) {
		errno = 0;
		*v[i] = strtod(s, &end);
		if (end == s || errno != 0 || !isfinite(*v[i]))
			return -1;
		if (*end == '\0')
			return i >= 1 ? 0 : -1;
		if (*end != ',' || i == 2)
			return -1;
		s = end + 1;
	}
	return -1;
}

/* A JSON string of an argument; NULL (usage error given) if not UTF-8. */
static json_t *
arg_string(const char *opt, const char *arg, int *rc)
{
	json_t	*s = json_string(arg);

	if (s == NULL)
		*rc = usage_error("dispatch add: %s: not valid UTF-8", opt);
	return s;
}

static int
dispatch_add_cmd(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id",		required_argument,	NULL,	OPT_ID },
		{ "from",	required_argument,	NULL,	OPT_FROM },
		{ "to",		required_argument,	NULL,	OPT_TO },
		{ "purpose",	required_argument,	NULL,	OPT_PURPOSE },
		{ "approver",	required_argument,	NULL,	OPT_APPROVER },
		{ "dest",	required_argument,	NULL,	OPT_DEST },
		{ "crs",	required_argument,	NULL,	OPT_CRS },
		{ "dest-fence",	required_argument,	NULL,	OPT_DEST_FENCE },
		{ "corridor",	required_argument,	NULL,	OPT_CORRIDOR },
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	static const struct {
		int		 opt;
		const char	*name;		/* option */
		const char	*member;	/* of the order object */
		bool		 required;
	} strs[] = {
		{ OPT_ID,	  "--id",	  "id",		    true },
		{ OPT_FROM,	  "--from",	  "valid_from",	    true },
		{ OPT_TO,	  "--to",	  "valid_to",	    true },
		{ OPT_PURPOSE,	  "--purpose",	  "purpose",	    true },
		{ OPT_APPROVER,	  "--approver",	  "approver",	    true },
		{ OPT_DEST_FENCE, "--dest-fence", "dest_fence",	    false },
		{ OPT_CORRIDOR,	  "--corridor",	  "corridor_fence", false },
	};
	const char		*val[NELEM(strs)] = { NULL };
	const char		*dest = NULL, *crsname = NULL, *sock, *tz;
	struct config		*cfg = NULL;
	struct store_order	 so;
	enum geo_crs		 crs = GEO_CRS_WGS84;
	json_t			*order, *req, *reply, *ro, *s;
	double			 lon, lat, radius;
	char			 why[256];
	bool			 help = false;
	size_t			 i;
	int			 ch, rc = EXIT_RUNTIME;

	while ((ch = next_opt(argc, argv, longopts, o, &help)) != -1) {
		if (ch == OPT_DEST) {
			dest = optarg;
			continue;
		}
		if (ch == OPT_CRS) {
			crsname = optarg;
			continue;
		}
		for (i = 0; i < NELEM(strs); i++)
			if (strs[i].opt == ch)
				break;
		if (i == NELEM(strs))
			return usage_error(NULL);
		val[i] = optarg;
	}
	if (help) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (optind < argc)
		return usage_error("dispatch add: unexpected argument \"%s\"",
		    argv[optind]);
	for (i = 0; i < NELEM(strs); i++)
		if (strs[i].required && val[i] == NULL)
			return usage_error("dispatch add: %s is required",
			    strs[i].name);
	if (dest != NULL && parse_dest(dest, &lon, &lat, &radius) == -1)
		return usage_error("dispatch add: --dest wants LON,LAT or "
		    "LON,LAT,RADIUS_M in degrees and metres, e.g. "
		    "104.072,30.5575,300, got \"%s\"", dest);
	if (crsname != NULL && dest == NULL)
		return usage_error("dispatch add: --crs goes with --dest");
	if (crsname != NULL && geo_crs_parse(crsname, &crs) == -1)
		return usage_error("dispatch add: --crs: \"%s\" is not one of "
		    "wgs84, cgcs2000, gcj02, bd09", crsname);

	order = json_object();
	for (i = 0; i < NELEM(strs); i++) {
		if (val[i] == NULL)
			continue;
		if ((s = arg_string(strs[i].name, val[i], &rc)) == NULL) {
			json_decref(order);
			return rc;
		}
		json_object_set_new(order, strs[i].member, s);
	}
	if (dest != NULL)
		json_object_set_new(order, "dest", json_pack("{s:f, s:f, s:f, "
		    "s:s}", "lon", lon, "lat", lat, "radius_m", radius, "crs",
		    geo_crs_name(crs)));

	if ((sock = daemon_socket(o, "dispatch add", &cfg, &rc)) == NULL) {
		json_decref(order);
		return rc;
	}
	/*
	 * The daemon reads local times in its zone; checking here in the
	 * configuration's (or UTC's: same result without summer time)
	 * catches mistakes before the daemon is asked.
	 */
	tz = cfg != NULL && timefmt_zone_valid(cfg->device.timezone) == 0 ?
	    cfg->device.timezone : "UTC";
	if (dispatch_from_json(order, tz, &so, why, sizeof(why)) == -1) {
		json_decref(order);
		config_free(cfg);
		return usage_error("dispatch add: %s", why);
	}
	req = json_pack("{s:s, s:o}", "cmd", "dispatch_add", "order", order);
	if ((reply = daemon_change(o, sock, "dispatch add", req)) == NULL)
		goto out;
	ro = json_object_get(reply, "order");
	if (o->json) {
		if (print_json(reply) == -1)
			goto write_error;
	} else {
		printf("order ");
		print_clean(stdout, so.o.id);
		printf(" added");
		if (json_is_string(json_object_get(ro, "valid_from")) &&
		    json_is_string(json_object_get(ro, "valid_to"))) {
			printf(": ");
			print_clean(stdout, json_string_value(
			    json_object_get(ro, "valid_from")));
			printf(" to ");
			print_clean(stdout, json_string_value(
			    json_object_get(ro, "valid_to")));
		}
		putchar('\n');
	}
	if (fflush(stdout) == EOF)
		goto write_error;
	rc = EXIT_OK;
	goto done;
write_error:
	fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
done:
	json_decref(reply);
out:
	config_free(cfg);
	return rc;
}

static int
dispatch_remove_cmd(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	struct config	*cfg = NULL;
	const char	*sock, *id;
	json_t		*req, *reply;
	bool		 help = false;
	int		 rc = EXIT_RUNTIME;

	if (next_opt(argc, argv, longopts, o, &help) != -1)
		return usage_error(NULL);
	if (help) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (optind >= argc)
		return usage_error("dispatch remove: which order? (an ID)");
	id = argv[optind++];
	/* "remove ID --json": options after the id too. */
	if (next_opt(argc, argv, longopts, o, &help) != -1)
		return usage_error(NULL);
	if (optind < argc)
		return usage_error("dispatch remove: unexpected argument "
		    "\"%s\"", argv[optind]);
	if (dispatch_id_valid(id) == -1)
		return usage_error("dispatch remove: \"%s\" is not an order id "
		    "(1 to %d printable ASCII characters without blanks or "
		    "slashes)", id, RULES_ORDER_ID_MAX);
	if ((sock = daemon_socket(o, "dispatch remove", &cfg, &rc)) == NULL)
		return rc;
	req = json_pack("{s:s, s:s}", "cmd", "dispatch_remove", "id", id);
	if ((reply = daemon_change(o, sock, "dispatch remove", req)) == NULL)
		goto out;
	if ((o->json ? print_json(reply) : printf("order %s removed\n",
	    id)) < 0 || fflush(stdout) == EOF) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto done;
	}
	rc = EXIT_OK;
done:
	json_decref(reply);
out:
	config_free(cfg);
	return rc;
}

/* dispatch list | add ... | remove ID */
static int
cmd_dispatch(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	static const struct command subs[] = {
		{ "list",	dispatch_list_cmd },
		{ "add",	dispatch_add_cmd },
		{ "remove",	dispatch_remove_cmd },
	};
	const char	*sub;
	char		**v;
	bool		 help = false;
	size_t		 i;
	int		 n, rc, j;

	if (next_opt(argc, argv, longopts, o, &help) != -1)
		return usage_error(NULL);
	if (help && optind >= argc) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (optind >= argc)
		return usage_error("dispatch: list, add or remove?");
	sub = argv[optind];
	for (i = 0; i < NELEM(subs); i++) {
		if (strcmp(sub, subs[i].name) != 0)
			continue;
		/* argv[0] "fleetgwctl dispatch SUB" for getopt's messages */
		n = argc - optind;
		v = xcalloc((size_t)n + 1, sizeof(*v));
		v[0] = xasprintf("%s dispatch %s", progname, sub);
		for (j = 1; j < n; j++)
			v[j] = argv[optind + j];
		optind = 0;	/* GNU getopt: start afresh */
		rc = help ? (usage_text(stdout), EXIT_OK) :
		    subs[i].run(o, n, v);
		free(v[0]);
		free(v);
		return rc;
	}
	return usage_error("dispatch: unknown subcommand \"%s\" (list, add, "
	    "remove)", sub);
}

/* ------------------------------------------------------ export, verify */

/*
 * Create path's temporary sibling for writing (0644 less the umask): its
 * name in *tmp (to free), the stream, or NULL after printing why.
 */
static FILE *
out_tmp_open(const char *path, char **tmp)
{
	FILE	*fp;
	mode_t	 mask;
	int	 fd;

	*tmp = xasprintf("%s.XXXXXX", path);
	if ((fd = mkstemp(*tmp)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", progname, *tmp,
		    strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0644 & ~mask);
	if ((fp = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", progname, *tmp,
		    strerror(errno));
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return fp;
}

/*
 * Make the temporary file durable under its final name: flush, fsync,
 * close, rename, fsync the directory.  fp is closed either way; on
 * failure the temporary file is removed.  0 or -1 (printed).
 */
static int
out_tmp_commit(FILE *fp, char *tmp, const char *path)
{
	char	*dir, *slash;
	int	 dfd, rc = 0;

	if (fflush(fp) == EOF || fsync(fileno(fp)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", progname, tmp,
		    strerror(errno));
		rc = -1;
	}
	if (fclose(fp) == EOF && rc == 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, tmp,
		    strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(tmp, path) == -1) {
		fprintf(stderr, "%s: %s: %s\n", progname, path,
		    strerror(errno));
		rc = -1;
	}
	if (rc == -1) {
		unlink(tmp);
		return -1;
	}
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strcpy(dir, ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dir);
	return 0;
}

/* The trusted key for verify: --pubkey, or the configuration's key. */
static struct sign_pub *
verify_key(struct ctl_opts *o, const char *path, bool *none)
{
	struct config	*cfg;
	struct sign_key	*k;
	struct sign_pub	*pub = NULL;
	char		 why[512], *pem;

	*none = false;
	if (path != NULL) {
		if ((pub = sign_pub_load(path, why, sizeof(why))) == NULL)
			fprintf(stderr, "%s: --pubkey: %s\n", progname, why);
		return pub;
	}
	/* On the gateway: the public half of signing.key_file. */
	*none = true;
	if (o->config == NULL && access(DEFAULT_CONFIG, R_OK) == -1)
		return NULL;
	cfg = load_config(o->config != NULL ? o->config : DEFAULT_CONFIG);
	if (cfg == NULL || !cfg->signing.enabled) {
		config_free(cfg);
		return NULL;
	}
	if ((k = sign_key_load(cfg->signing.key_path, why, sizeof(why))) !=
	    NULL && (pem = sign_pubkey_pem(k)) != NULL) {
		pub = sign_pub_from_pem(pem, strlen(pem));
		free(pem);
	}
	sign_key_free(k);
	config_free(cfg);
	*none = pub == NULL;
	return pub;
}

static void
verify_print(const struct bundle_result *r, FILE *fp)
{
	const struct bundle_stream_result *s;
	size_t	 i;
	int	 k;

	fprintf(fp, "bundle: device %s%s%s%s, exported %s via %s\n",
	    *r->device != '\0' ? r->device : "?", *r->plate != '\0' ? " (" :
	    "", r->plate, *r->plate != '\0' ? ")" : "",
	    *r->exported != '\0' ? r->exported : "?",
	    *r->via != '\0' ? r->via : "?");
	for (k = 0; k < STORE_STREAMS; k++) {
		s = &r->s[k];
		if (s->first == 0) {
			fprintf(fp, "%-10s none\n",
			    store_stream_name((enum store_stream)k));
			continue;
		}
		fprintf(fp, "%-10s seq %llu..%llu, %llu records, %s .. %s\n",
		    store_stream_name((enum store_stream)k),
		    (unsigned long long)s->first, (unsigned long long)s->last,
		    (unsigned long long)s->records,
		    *s->t_first != '\0' ? s->t_first : "?",
		    *s->t_last != '\0' ? s->t_last : "?");
	}
	fprintf(fp, "checkpoints: %llu, %llu with a good signature%s; end "
	    "line %s\n", (unsigned long long)r->checkpoints,
	    (unsigned long long)r->checkpoints_good, r->trusted_key ?
	    " (trusted key)" : "", r->end_signed ? "signed" : "not signed");
	for (i = 0; i < r->np; i++)
		fprintf(fp, "PROBLEM: %s\n", r->p[i].msg);
	if (r->nproblems > r->np)
		fprintf(fp, "PROBLEM: ... and %llu more\n",
		    (unsigned long long)(r->nproblems - r->np));
	if (r->ok)
		fprintf(fp, "OK\n");
	else
		fprintf(fp, "FAILED: %llu problem%s\n",
		    (unsigned long long)r->nproblems,
		    r->nproblems == 1 ? "" : "s");
}

static json_t *
verify_json(const struct bundle_result *r)
{
	const struct bundle_stream_result *s;
	json_t	*o, *streams, *probs;
	size_t	 i;
	int	 k;

	streams = json_object();
	for (k = 0; k < STORE_STREAMS; k++) {
		s = &r->s[k];
		json_object_set_new(streams, store_stream_name(
		    (enum store_stream)k), json_pack("{s:I, s:I, s:I, s:s, "
		    "s:s}", "first", (json_int_t)s->first, "last",
		    (json_int_t)s->last, "records", (json_int_t)s->records,
		    "time_first", s->t_first, "time_last", s->t_last));
	}
	probs = json_array();
	for (i = 0; i < r->np; i++)
		json_array_append_new(probs, json_pack("{s:s, s:s*, s:I, s:I, "
		    "s:s}", "kind", r->p[i].kind, "stream",
		    *r->p[i].stream != '\0' ? r->p[i].stream : NULL,
		    "from_seq", (json_int_t)r->p[i].from_seq, "to_seq",
		    (json_int_t)r->p[i].to_seq, "message", r->p[i].msg));
	o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:b, s:b, "
	    "s:I, s:o}", "ok", r->ok, "device", r->device, "plate", r->plate,
	    "exported", r->exported, "via", r->via, "streams", streams,
	    "checkpoints", (json_int_t)r->checkpoints, "checkpoints_good",
	    (json_int_t)r->checkpoints_good, "trusted_key", r->trusted_key,
	    "end_signed", r->end_signed, "problems_total",
	    (json_int_t)r->nproblems, "problems", probs);
	return o;
}

/* Verify path; 0 read, -1 unreadable (printed). */
static int
verify_file(const char *path, const struct sign_pub *key,
    struct bundle_result *r)
{
	FILE	*fp;
	int	 rc;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", progname, path,
		    strerror(errno));
		return -1;
	}
	rc = bundle_verify(fp, key, r);
	if (rc == -1)
		fprintf(stderr, "%s: %s: %s\n", progname, path,
		    strerror(errno));
	fclose(fp);
	return rc;
}

static int
cmd_verify(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pubkey",	required_argument,	NULL,	OPT_KEY },
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	struct bundle_result	*r;
	struct sign_pub		*key;
	const char		*keypath = NULL, *path = NULL;
	json_t			*out;
	bool			 help = false, none;
	int			 ch, rc;

	/* The file may come before or after the options. */
	for (;;) {
		ch = next_opt(argc, argv, longopts, o, &help);
		if (ch == -1 && optind < argc) {
			if (path != NULL)
				return usage_error("verify FILE [--pubkey KEY]: "
				    "one file only");
			path = argv[optind++];
			continue;
		}
		if (ch == -1)
			break;
		if (ch != OPT_KEY)
			return usage_error(NULL);
		keypath = optarg;
	}
	if (help) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (path == NULL)
		return usage_error("verify FILE [--pubkey KEY]: which bundle?");
	key = verify_key(o, keypath, &none);
	if (key == NULL && !none)
		return EXIT_RUNTIME;
	r = xcalloc(1, sizeof(*r));
	if (verify_file(path, key, r) == -1) {
		free(r);
		sign_pub_free(key);
		return EXIT_RUNTIME;
	}
	if (o->json) {
		out = verify_json(r);
		(void)json_dumpf(out, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(out);
	} else
		verify_print(r, stdout);
	rc = r->ok ? EXIT_OK : EXIT_RUNTIME;
	free(r);
	sign_pub_free(key);
	return rc;
}

static void
export_print(const struct bundle_summary *s, const char *path, bool json)
{
	json_t	*o, *st;
	int	 k;

	if (json) {
		st = json_object();
		for (k = 0; k < STORE_STREAMS; k++)
			json_object_set_new(st, store_stream_name(
			    (enum store_stream)k), json_pack("{s:I, s:I, s:I, "
			    "s:b}", "first", (json_int_t)s->first[k], "last",
			    (json_int_t)s->last[k], "records",
			    (json_int_t)s->records[k], "covered",
			    s->covered[k]));
		o = json_pack("{s:s, s:o, s:I, s:I}", "file", path,
		    "streams", st, "checkpoints", (json_int_t)s->checkpoints,
		    "lines", (json_int_t)s->lines);
		(void)json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	printf("exported to %s:\n", path);
	for (k = 0; k < STORE_STREAMS; k++) {
		if (s->first[k] == 0)
			printf("  %-10s none in the period\n",
			    store_stream_name((enum store_stream)k));
		else
			printf("  %-10s seq %llu..%llu, %llu records%s\n",
			    store_stream_name((enum store_stream)k),
			    (unsigned long long)s->first[k],
			    (unsigned long long)s->last[k],
			    (unsigned long long)s->records[k], s->covered[k] ?
			    "" : " (the newest not yet signed)");
	}
	printf("  %llu checkpoints\n", (unsigned long long)s->checkpoints);
}

/* The summary in an export reply. */
static int
export_summary_json(const json_t *j, struct bundle_summary *s)
{
	json_t		*st;
	json_int_t	 f, l, n;
	int		 cov, k;

	memset(s, 0, sizeof(*s));
	for (k = 0; k < STORE_STREAMS; k++) {
		st = json_object_get(json_object_get(j, "streams"),
		    store_stream_name((enum store_stream)k));
		if (json_unpack(st, "{s:I, s:I, s:I, s:b}", "first", &f,
		    "last", &l, "records", &n, "covered", &cov) == -1)
			return -1;
		s->first[k] = (uint64_t)f;
		s->last[k] = (uint64_t)l;
		s->records[k] = (uint64_t)n;
		s->covered[k] = cov;
	}
	if (json_unpack((json_t *)j, "{s:I, s:I}", "checkpoints", &f,
	    "lines", &l) == -1)
		return -1;
	s->checkpoints = (uint64_t)f;
	s->lines = (uint64_t)l;
	return 0;
}

/* Export through the daemon: it writes to the file we pass it. */
static int
export_daemon(struct ctl_opts *o, const char *from, const char *to,
    bool unsynced, FILE *fp, struct bundle_summary *sum)
{
	struct config	*cfg = NULL;
	const char	*sock, *e;
	json_t		*req, *reply;
	int		 rc = EXIT_RUNTIME;

	if ((sock = daemon_socket(o, "export", &cfg, &rc)) == NULL)
		return rc;
	req = json_pack("{s:s, s:s*, s:s*, s:b}", "cmd", "export", "from",
	    from, "to", to, "unsynced", unsynced);
	fflush(fp);
	reply = ctl_request_fd(sock, req, fileno(fp), EXPORT_TIMEOUT_MS);
	json_decref(req);
	config_free(cfg);
	if (reply == NULL)
		return EXIT_RUNTIME;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		e = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "%s: export: %s\n", progname, e != NULL ? e :
		    "the daemon refused");
		json_decref(reply);
		return EXIT_RUNTIME;
	}
	if (export_summary_json(reply, sum) == -1) {
		fprintf(stderr, "%s: export: the daemon's reply has no "
		    "summary\n", progname);
		json_decref(reply);
		return EXIT_RUNTIME;
	}
	json_decref(reply);
	/* The daemon wrote through its own descriptor: start from there. */
	if (fseeko(fp, 0, SEEK_END) == -1)
		return EXIT_RUNTIME;
	return EXIT_OK;
}

/* Export from a database file (--db, or the configuration's). */
static int
export_db(struct ctl_opts *o, const char *from, const char *to,
    bool unsynced, FILE *fp, struct bundle_summary *sum)
{
	struct config		*cfg = NULL;
	struct store		*st = NULL;
	struct bundle_opts	 bo;
	struct passwd		*pw;
	const char		*tz;
	char			 err[256];
	int			 rc = EXIT_RUNTIME;

	if (o->db == NULL && (cfg = load_config(o->config != NULL ?
	    o->config : DEFAULT_CONFIG)) == NULL)
		return EXIT_RUNTIME;
	if ((st = store_open_readonly(o->db != NULL ? o->db :
	    cfg->storage.path)) == NULL)
		goto out;
	if ((tz = positions_zone(st, cfg)) == NULL) {
		fprintf(stderr, "%s: no usable time zone\n", progname);
		goto out;
	}
	memset(&bo, 0, sizeof(bo));
	bo.from_utc_ms = INT64_MIN;
	bo.to_utc_ms = INT64_MAX;
	if ((from != NULL && timefmt_parse(from, tz, &bo.from_utc_ms, err,
	    sizeof(err)) == -1) || (to != NULL && timefmt_parse(to, tz,
	    &bo.to_utc_ms, err, sizeof(err)) == -1)) {
		fprintf(stderr, "%s: %s\n", progname, err);
		goto out;
	}
	bo.unsynced = unsynced;
	bo.via = "db";
	bo.exported_utc_ms = util_real_ms();
	bo.uid = (long)getuid();
	pw = getpwuid(getuid());
	bo.user = pw != NULL ? pw->pw_name : "";
	bo.tz = tz;
	if (cfg != NULL) {
		bo.device_id = cfg->device.id;
		bo.plate = cfg->device.plate;
		bo.unit = cfg->device.unit;
		bo.vclass = config_class_name(cfg->device.class);
	}
	if (bundle_write(st, &bo, fp, sum, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: export: %s\n", progname, err);
		goto out;
	}
	rc = EXIT_OK;
out:
	store_close(st);
	config_free(cfg);
	return rc;
}

static int
cmd_export(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from",	required_argument,	NULL,	OPT_FROM },
		{ "to",		required_argument,	NULL,	OPT_TO },
		{ "unsynced",	no_argument,		NULL,	OPT_UNSYNCED },
		{ "output",	required_argument,	NULL,	'o' },
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	struct bundle_summary	 sum;
	struct bundle_result	*r;
	const char		*from = NULL, *to = NULL, *path = NULL;
	char			 err[128], *tmp = NULL;
	size_t			 i;
	int64_t			 t;
	bool			 help = false, unsynced = false, daemon;
	FILE			*fp;
	int			 ch, rc;

	while ((ch = next_opt(argc, argv, longopts, o, &help)) != -1) {
		switch (ch) {
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_UNSYNCED:
			unsynced = true;
			break;
		case 'o':
			path = optarg;
			break;
		default:
			return usage_error(NULL);
		}
	}
	if (help) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (optind < argc)
		return usage_error("export: unexpected argument \"%s\"",
		    argv[optind]);
	if (path == NULL)
		return usage_error("export: -o FILE is required");
	if ((from == NULL || to == NULL) && !unsynced)
		return usage_error("export: --from T and --to T are required "
		    "(or --unsynced for every record the platform lacks)");
	if ((from != NULL && timefmt_parse(from, "UTC", &t, err,
	    sizeof(err)) == -1) || (to != NULL && timefmt_parse(to, "UTC",
	    &t, err, sizeof(err)) == -1))
		return usage_error("export: %s: %s", from != NULL &&
		    timefmt_parse(from, "UTC", &t, err, sizeof(err)) == -1 ?
		    "--from" : "--to", err);
	/* Through the daemon unless told to read a file. */
	daemon = o->db == NULL && (o->socket != NULL || o->config == NULL ||
	    access(o->config, R_OK) == 0);
	if (o->db != NULL)
		daemon = false;
	if ((fp = out_tmp_open(path, &tmp)) == NULL)
		return EXIT_RUNTIME;
	rc = daemon ? export_daemon(o, from, to, unsynced, fp, &sum) :
	    export_db(o, from, to, unsynced, fp, &sum);
	if (rc != EXIT_OK) {
		fclose(fp);
		unlink(tmp);
		free(tmp);
		return rc;
	}
	if (out_tmp_commit(fp, tmp, path) == -1) {
		free(tmp);
		return EXIT_RUNTIME;
	}
	free(tmp);
	export_print(&sum, path, o->json);
	/* Read it back: what the inspector takes away must hold together. */
	r = xcalloc(1, sizeof(*r));
	if (verify_file(path, NULL, r) == 0) {
		for (i = 0; i < r->np; i++)
			if (strcmp(r->p[i].kind, "no_key") != 0 &&
			    strcmp(r->p[i].kind, "untrusted") != 0 &&
			    strcmp(r->p[i].kind, "bad_signature") != 0)
				fprintf(stderr, "%s: warning: %s\n", progname,
				    r->p[i].msg);
	}
	free(r);
	return EXIT_OK;
}

/*
 * check: the daily check (每日一小检) through the daemon, which keeps the
 * result as an "inspection" event (vcheck.h).  Exit status 0 when the
 * result is pass or warn, 1 when it is fail or the check could not run.
 */
static int
cmd_check(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	struct config		*cfg = NULL;
	const char		*sock, *e;
	json_t			*req, *reply = NULL;
	enum vcheck_status	 st;
	bool			 help = false;
	int			 rc = EXIT_RUNTIME;

	if (next_opt(argc, argv, longopts, o, &help) != -1)
		return usage_error(NULL);
	if (help) {
		usage_text(stdout);
		return EXIT_OK;
	}
	if (optind < argc)
		return usage_error("check: unexpected argument \"%s\"",
		    argv[optind]);
	if ((sock = daemon_socket(o, "check", &cfg, &rc)) == NULL)
		return rc;
	rc = EXIT_RUNTIME;
	req = json_pack("{s:s}", "cmd", "check");
	reply = ctl_request(sock, req, STATUS_TIMEOUT_MS);
	json_decref(req);
	if (reply == NULL)
		goto out;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		if (o->json && print_json(reply) == -1)
			fprintf(stderr, "%s: stdout: %s\n", progname,
			    strerror(errno));
		e = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "%s: check: ", progname);
		print_clean(stderr, e != NULL ? e : "daemon reported failure");
		fputc('\n', stderr);
		goto out;
	}
	if (vcheck_status_parse(json_string_value(json_object_get(reply,
	    "result")), &st) == -1 ||
	    !json_is_array(json_object_get(reply, "items"))) {
		fprintf(stderr, "%s: check: malformed reply\n", progname);
		goto out;
	}
	if ((o->json ? print_json(reply) : vcheck_print_text(stdout,
	    reply)) == -1 || fflush(stdout) == EOF) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(errno));
		goto out;
	}
	rc = st == VCHECK_FAIL ? EXIT_RUNTIME : EXIT_OK;
out:
	json_decref(reply);
	config_free(cfg);
	return rc;
}

static const struct command commands[] = {
	{ "status",	cmd_status },
	{ "check",	cmd_check },
	{ "positions",	cmd_positions },
	{ "trips",	cmd_trips },
	{ "fences",	cmd_fences },
	{ "events",	cmd_events },
	{ "dispatch",	cmd_dispatch },
	{ "records",	cmd_records },
	{ "pubkey",	cmd_pubkey },
	{ "export",	cmd_export },
	{ "verify",	cmd_verify },
	{ "report",	cmd_report },
	{ "reload",	cmd_reload },
};


int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "db",		required_argument,	NULL,	OPT_DB },
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "help",	no_argument,		NULL,	'h' },
		{ "version",	no_argument,		NULL,	'V' },
		{ NULL,		0,			NULL,	0 }
	};
	struct ctl_opts	 o = { NULL, NULL, NULL, false };
	const char	*cmd;
	char		**v;
	size_t		 i;
	int		 ch, n, rc;

	log_init(progname, LOG_TARGET_QUIET);
	while ((ch = getopt_long(argc, argv, "+c:s:hV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 's':
			o.socket = optarg;
			break;
		case OPT_DB:
			o.db = optarg;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case 'h':
			usage_text(stdout);
			return EXIT_OK;
		case 'V':
			printf("%s %s\n", progname, FLEETGW_VERSION);
			return EXIT_OK;
		default:
			return usage_error(NULL);
		}
	}
	n = (o.config != NULL) + (o.socket != NULL) + (o.db != NULL);
	if (n > 1)
		return usage_error("-c, -s and --db exclude each other");
	if (optind >= argc)
		return usage_error("no command given");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;

	for (i = 0; i < NELEM(commands); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		v = command_argv(argc, argv);
		optind = 0;	/* GNU getopt: start afresh */
		rc = commands[i].run(&o, argc, v);
		command_argv_free(v);
		return rc;
	}
	return usage_error("unknown command \"%s\"", cmd);
}
