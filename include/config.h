/* SPDX-License-Identifier: MIT */
/*
 * config.h - the validated configuration (libconfig file, DESIGN.md §5).
 *
 * One settings table in config.c gives type, default, range and help for
 * every key.  config_load() parses and validates the whole file and either
 * returns a complete, immutable struct config or NULL plus every problem
 * found as "FILE:LINE: message" lines.  Strings are copied out of
 * libconfig; the struct owns them.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "calendar.h"
#include "fence.h"
#include "geo.h"
#include "rules.h"

enum config_class {
	CONFIG_CLASS_GENERAL,
	CONFIG_CLASS_EMERGENCY,
	CONFIG_CLASS_LAW_ENFORCEMENT,
	CONFIG_CLASS_CONFIDENTIAL
};

enum config_fuel {
	CONFIG_FUEL_GASOLINE,
	CONFIG_FUEL_DIESEL,
	CONFIG_FUEL_ELECTRIC,
	CONFIG_FUEL_HYBRID,
	CONFIG_FUEL_LPG,
	CONFIG_FUEL_CNG
};

struct config_device {
	char		*id;		/* required, e.g. "SC-0001" */
	char		*plate;		/* e.g. "川A12345", may be "" */
	char		*unit;		/* owning unit, may be "" */
	enum config_class class;
	char		*timezone;	/* IANA name, default Asia/Shanghai */
	enum config_fuel fuel;
	double		 tank_l;	/* fuel tank volume, litres, 0..2000;
					   default 0 = unknown (trip.h: NaN) */
};

struct config_gnss {
	char		*host;		/* default "127.0.0.1" */
	int		 port;		/* default 2947 */
	double		 max_hdop;	/* default 5.0 */
	double		 max_eph_m;	/* default 200, 0 = no limit */
	int		 retry_min_ms;	/* first reconnect delay, default 250 */
	int		 retry_max_ms;	/* backoff cap, default 10000 */
	int		 stale_s;	/* silence before reconnect, default 30 */
};

/* OBD-II adapter (车载诊断 OBD). */
enum config_obd_driver {
	CONFIG_OBD_NONE,		/* no adapter fitted (the default) */
	CONFIG_OBD_ELM327,		/* ELM327 on a tty or "tcp:HOST:PORT" */
	CONFIG_OBD_SOCKETCAN		/* Linux SocketCAN interface */
};

/*
 * Periods and timeouts in milliseconds unless the name says otherwise.
 * Validated by config_load(): device is "" (allowed unless driver is
 * elm327), an absolute path ("/dev/ttyUSB0"), or "tcp:HOST:PORT" where
 * HOST is a numeric IPv4 address or a bracketed IPv6 address ("[fe80::1]",
 * no zone id) and PORT is decimal 1..65535 without a leading zero
 * (getaddrinfo() with AI_NUMERICHOST | AI_NUMERICSERV takes both, host
 * without its brackets); interface is "" (allowed
 * unless driver is socketcan) or a valid Linux interface name of at most
 * IFNAMSIZ - 1 bytes; poll_slow_ms >= poll_fast_ms and retry_max_ms >=
 * retry_min_ms.  device, baud and interface are validated whatever the
 * driver, and kept, so that switching driver needs no other edit.
 */
struct config_obd {
	enum config_obd_driver driver;	/* default none (no adapter fitted) */
	char		*device;	/* default "/dev/ttyUSB0"; tty path or
					   "tcp:HOST:PORT" */
	int		 baud;		/* default 38400; one of 9600 19200
					   38400 57600 115200 230400 460800
					   500000 921600 1000000 2000000
					   (tty only) */
	char		*interface;	/* default "can0" */
	int		 timeout_ms;	/* one command, default 1000,
					   100..30000 */
	int		 poll_fast_ms;	/* rpm, speed, voltage, fuel rate:
					   default 1000, 20..60000 */
	int		 poll_slow_ms;	/* temperatures, fuel level, odometer:
					   default 10000, 100..3600000,
					   >= poll_fast_ms */
	int		 dtc_interval_s; /* default 300, 10..86400 */
	int		 retry_min_ms;	/* default 1000, 100..60000 */
	int		 retry_max_ms;	/* default 60000, 1000..3600000,
					   >= retry_min_ms */
};

/* When a trip (行程) ends; the rest of trip.h's tuning is built in. */
struct config_trips {
	int		 ign_off_end_s;	/* default 60, 0..3600: ignition off
					   this long ends a trip */
	int		 stationary_end_s; /* default 300, 30..7200: without
					   OBD, no motion this long ends a
					   trip */
};

/*
 * One entry of the top-level "fences" list (电子围栏).  config_load()
 * checks names, types and ranges here; the geometry itself (rings that
 * cross, holes outside shells, GeoJSON files) is checked by fenceload.h
 * when the fence set is built.
 */
enum config_fence_geom {
	CONFIG_FENCE_GEOJSON,		/* geojson = "file" */
	CONFIG_FENCE_CIRCLE,		/* circle = { center; radius_m; } */
	CONFIG_FENCE_POLYGON,		/* polygon = ( [lon, lat], ... );
					   holes = ( ( [lon, lat], ... ), ... ) */
	CONFIG_FENCE_RECTANGLE,		/* rectangle = [ W, S, E, N ] */
	CONFIG_FENCE_CORRIDOR		/* corridor = { path; width_m; } */
};

struct config_ring {
	double		*lonlat;	/* npoints (lon, lat) pairs */
	size_t		 npoints;
};

struct config_fence {
	char		*id;		/* required, 1..64 bytes */
	char		*name;		/* "" when absent */
	bool		 has_kind;	/* kind given (required unless
					   geojson, whose features may set
					   it) */
	enum fence_kind	 kind;
	char		*category;	/* "" when absent */
	enum geo_crs	 crs;		/* default wgs84 */
	double		 speed_limit_kmh; /* default 0 = none, else 1..300 */
	int		 dwell_s;	/* default -1 = the rule's, 0..86400 */
	enum config_fence_geom geom;	/* exactly one geometry key */
	char		*geojson;	/* as written */
	char		*geojson_path;	/* resolved against the folder of
					   the file the entry is in */
	bool		 feature_ids;	/* geojson: a lone feature takes its
					   own id too (never set by
					   config_load(): platformset.h) */
	double		 center[2];	/* circle */
	double		 radius_m;	/* circle */
	struct config_ring shell;	/* polygon; corridor: the path */
	struct config_ring *holes;	/* polygon */
	size_t		 nholes;
	double		 rect[4];	/* west, south, east, north */
	double		 width_m;	/* corridor */
	char		*file;		/* where the entry is written, and */
	unsigned int	 line;		/* its line, for messages */
};

/*
 * The "calendar" group (工作日历): the weekly workdays, the daily work
 * periods and the listed dates (holidays, adjusted working days 调休),
 * validated so that calendar_new() accepts them (config_calendar_spec()).
 * Dates come from holidays, extra_workdays and the per-year keys
 * holidays_YYYY and extra_workdays_YYYY, usually in an @include'd file
 * such as conf/calendar/cn-2026.conf.
 */
struct config_calendar_date {
	struct calendar_date date;
	bool		 holiday;	/* false: adjusted working day */
	char		*name;		/* e.g. "国庆节"; "" when none */
	char		*file;		/* where it is written (the file */
	unsigned int	 line;		/* and line of its array) */
};

struct config_calendar {
	uint8_t		 workdays;	/* bit 0 Monday .. bit 6 Sunday;
					   default Monday..Friday */
	struct calendar_period periods[CALENDAR_MAX_PERIODS];
	size_t		 nperiods;	/* default 2: 08:30-12:00,
					   13:30-17:30; 0 = never work time */
	struct config_calendar_date *dates; /* sorted by date, unique */
	size_t		 ndates;	/* <= CALENDAR_MAX_DATES */
	struct calendar_entry *entries;	/* the same ndates dates as
					   calendar.h wants them; names
					   borrowed from dates */
};

struct config_storage {
	char		*path;		/* default /var/lib/fleetgw/fleetgw.db */
	int		 max_size_mb;	/* default 512 */
	int		 keep_days;	/* default 180 */
	int		 commit_interval_s; /* default 10 */
	int		 commit_rows;	/* default 256 */
};

/*
 * The "platform" group: uploads to the provincial supervision platform
 * (省级公务用车监管平台) and its command channel (docs/platform-api.md).
 * The group is optional; without it nothing is uploaded and every member
 * keeps its default (url "").  With it, url is required and so is the
 * "signing" group.  config_load() has checked:
 *  - url is "https://HOST[:PORT][/BASE]", or "http://..." only with
 *    allow_insecure_http; HOST a DNS name, an IPv4 address or a
 *    [bracketed IPv6] address; no user info, spaces, query or fragment.
 *    Stored with the scheme in lower case and one trailing "/" removed,
 *    so a request URL is url followed by "/v1/...".
 *  - for https, ca_file, cert_file and key_file are all given; over
 *    http, cert_file and key_file are both given or both left out.
 *  - pinned_pubkey is "" or 1..8 of "sha256//" + 44 base64 characters,
 *    separated by ";" (libcurl's CURLOPT_PINNEDPUBLICKEY).
 *  - backoff_cap_s >= backoff_base_s.
 * The *_file members hold the paths as written ("" = not given); use the
 * *_path members, resolved against the directory of the file the key is
 * written in (an absolute path stays as it is).  Whether the files exist
 * and can be read is found out when they are used.
 */
struct config_platform {
	bool		 enabled;	/* the group is in the file */
	char		*url;		/* base URL, no trailing "/";
					   "" when !enabled */
	char		*ca_file;	/* PEM CA bundle for the server
					   certificate; "" = not given */
	char		*cert_file;	/* PEM client certificate (mutual
					   TLS); "" = not given */
	char		*key_file;	/* PEM key of cert_file */
	char		*ca_path;	/* ca_file resolved; "" = not given */
	char		*cert_path;	/* cert_file resolved */
	char		*key_path;	/* key_file resolved */
	char		*pinned_pubkey;	/* "sha256//...;..."; "" = no pin */
	bool		 allow_insecure_http; /* default false: tests only */
	int		 connect_timeout_s; /* default 15, 1..300 */
	int		 timeout_s;	/* whole request, default 120,
					   5..3600 */
	int		 stall_timeout_s; /* abort under 100 B/s for this
					   long: default 30, 5..600 */
	int		 batch_records;	/* records per upload, default 500,
					   1..10000 */
	int		 batch_bytes;	/* JSON bytes per upload before
					   gzip, default 262144,
					   1024..16777216 */
	double		 backoff_base_s; /* first retry delay, default 5,
					   0.01..600 */
	double		 backoff_cap_s;	/* longest retry delay, default 900,
					   0.1..86400, >= backoff_base_s */
	int		 retry_after_max_s; /* Retry-After clamped to
					   [0, this]: default 3600,
					   0..86400 */
	double		 auth_backoff_s; /* wait after 401/403, default
					   600, 0.1..86400 */
	int		 poll_wait_s;	/* command long poll wait_s, default
					   25, 0..300; 0 = no polling */
	double		 start_delay_max_s; /* random delay before the first
					   upload after start, default 30,
					   0..600 */
};

/*
 * The "signing" group: the gateway's Ed25519 private key (PEM, PKCS#8),
 * which signs every request body (sign.h).  Optional on its own,
 * required with platform.
 */
struct config_signing {
	bool		 enabled;	/* the group is in the file */
	char		*key_file;	/* as written; "" when !enabled */
	char		*key_path;	/* resolved like the platform's */
	int		 checkpoint_interval_s; /* sign the chain heads this
					   often while they move; 10..3600,
					   default 300 */
};

struct config_ctl {
	char		*socket;	/* default /run/fleetgw/ctl.sock */
	char		*admin_group;	/* Unix group whose members may change
					   dispatch orders over the socket;
					   default "" = only root and the
					   daemon's own user; 0..64 bytes of
					   A-Z a-z 0-9 . _ - @ and a final $,
					   not all digits, no leading - */
	char		*inspect_group;	/* Unix group whose members may run the
					   read-only commands and to which
					   the socket file is given; default
					   "fleetgw-inspect", "" = none;
					   names as admin_group */
};

struct config {
	char		*file;		/* path it was loaded from */
	struct config_device  device;
	struct config_gnss    gnss;
	struct config_obd     obd;
	struct config_trips   trips;
	struct config_storage storage;
	struct config_platform platform;
	struct config_signing signing;
	struct config_ctl     ctl;
	struct config_calendar calendar;
	struct config_fence  *fences;	/* in file order */
	size_t		      nfences;
	/*
	 * The "rules" group (公务用车使用规定): rules.dispatch_grace_s and one
	 * sub-group per rule, named as rules_type_name() (rules.speeding,
	 * ...), each with enabled, exempt (an array of device.class names:
	 * bit (1 << enum config_class) of exempt_classes) and the rule's
	 * thresholds, named after the members of struct rules_config
	 * (times of day as "HH:MM" and "HH:MM-HH:MM" strings,
	 * speeding.limit_<class>_kmh for class_limit_kmh[], a
	 * forbidden_place.categories list).  Keys left out keep
	 * rules_config_default()'s values.  vehicle_class is device.class and
	 * fuel_drop.tank_l is device.tank_l (NaN when that is 0), filled by
	 * config_load().
	 */
	struct rules_config   rules;
};

/* Problems found by config_load(), in file order. */
struct config_errors {
	size_t		  n;
	char		**lines;	/* "FILE:LINE: message" */
};

/*
 * Load and validate path.  On success returns the config (caller frees
 * with config_free()) and leaves errs empty.  On failure returns NULL and
 * fills errs (caller frees with config_errors_free()); print each line as
 * is, one a line (fleetgwd -n: to stderr).
 *
 * Every error is reported, in file order, except after a syntax error
 * (libconfig stops there).  FILE is path as given, or for an @include'd
 * file the include directory (the directory of path) joined with the name
 * in the @include line: the file libconfig opened.  LINE is the line of
 * the offending setting; a missing required key is reported at the line
 * of its group, or at line 1 of path when the whole group is absent; line
 * 0 means the file as a whole (cannot open, too many errors).  At most
 * 100 lines are kept, then one "N more errors not shown" line.
 *
 * @include paths are relative to the directory of path (absolute ones are
 * not supported by libconfig 1.5 once an include directory is set).
 * Before libconfig parses anything, path and every file it includes must
 * be a regular, readable file of at most 1 MiB, and each @include name
 * non-empty, without a backslash, at most 10 levels deep and not a cycle;
 * the first @include that breaks this is reported at its line, e.g.
 * "FILE:3: @include "inc": not a regular file" (libconfig 1.5 would exit
 * the process on a directory).  path itself failing is reported at line 0
 * ("cannot open: ...", "cannot read: ...").
 */
struct config	*config_load(const char *path, struct config_errors *errs);
void		 config_free(struct config *);		/* NULL ok */
void		 config_errors_free(struct config_errors *);

/*
 * Print every setting with its effective value (fleetgwd -n -v) as a
 * libconfig file: "group = { key = value; ... };" (a "group.key" name is
 * not libconfig syntax), rules as "rules = { rule = { key = value; };
 * };", so the output loads back to an equal config.  The calendar's
 * dates all go in holidays and extra_workdays, by date (not in the
 * per-year keys they may have come from).  The groups platform and
 * signing are printed only when they were in the file, and a file name
 * of platform only when it was given; paths as written, not resolved.
 */
void		 config_dump(const struct config *, FILE *);
/*
 * Print the settings table: key, type, default, range, help, with
 * rules.forbidden_place.categories (a list, which the table and
 * config_key_info() do not hold) after the other forbidden_place keys;
 * then the calendar keys (arrays, also not in the table) in the same
 * format.
 */
void		 config_print_table(FILE *);

/*
 * Fill spec from c's calendar group, for calendar_new().  The spec
 * borrows c's entries: valid until config_free(c).  config_load() has
 * checked everything calendar_new() checks.
 */
void		 config_calendar_spec(const struct config *,
		    struct calendar_spec *);

/*
 * true when every setting is equal, as written (file and the resolved
 * *_path members are not compared; platform.enabled and signing.enabled
 * are).
 */
bool		 config_equal(const struct config *, const struct config *);

/* "general", "law_enforcement", ... as written in the file. */
const char	*config_class_name(enum config_class);
const char	*config_fuel_name(enum config_fuel);
/* "none", "elm327", "socketcan"; "unknown" for any other value. */
const char	*config_obd_driver_name(enum config_obd_driver);

/*
 * A read-only view of one row of the settings table.  The keys of a rule
 * have a dotted group, "rules.speeding": in the file that is the
 * sub-group speeding of the group rules.
 */
struct config_keyinfo {
	const char		*group;		/* "gnss", "rules.speeding" */
	const char		*name;		/* "port" */
	/*
	 * string, int, float, bool, enum; time ("HH:MM"), period
	 * ("HH:MM-HH:MM"); array (of the names in values, each at most
	 * once: a rule's exempt classes).
	 */
	const char		*type;
	const char		*help;
	/*
	 * Required when its group is present.  A group may be left out,
	 * except device, and signing when platform is present.
	 */
	bool			 required;
	/*
	 * int, float: value range; string: length range in bytes; time,
	 * period: minutes of the day, 0..1439 and 0..1440.
	 */
	double			 min;
	double			 max;
	const char *const	*values;	/* enum, array: NULL-terminated */
};

size_t		 config_key_count(void);
/* Fill ki for key i (table order); -1 if i >= config_key_count(). */
int		 config_key_info(size_t i, struct config_keyinfo *ki);

#endif /* CONFIG_H */
