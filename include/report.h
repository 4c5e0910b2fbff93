/* SPDX-License-Identifier: MIT */
/*
 * report.h - the inspector's report (issue 7, fleetgwctl report): one
 * self-contained HTML file for a vehicle and a period, readable on
 * screen and printed on A4.
 *
 * Self-contained means: no network at all.  The file holds no script,
 * no <link>, no <img>, no url() in its style sheet, no web font (a
 * font-family list with CJK fallbacks the system has or not), and no
 * "http:" or "//" anywhere: the inline SVG needs no xmlns in HTML5, and
 * every text that comes from data (fence ids and names, event details, the vehicle)
 * goes through report_html_escape(), which also writes '/' as "&#47;"
 * and ':' before '/' as "&#58;", so that not even data can put "//" or
 * "http:" into the file.
 *
 * Contents, in this order:
 *  1. header: vehicle (device id, plate, unit, class, VIN when known),
 *     period, time zone, generation time, where the data came from;
 *  2. summary: trips, distance, driving time, idle time, highest speed,
 *     events by severity, violations by type (severity violation and
 *     critical), other events by type (info and warning); the numbers
 *     carry ids (sum-trips, sum-distance-km, sum-driving-s ...) and the
 *     per-type rows data-type attributes, for tests and scripts;
 *  3. the map (<svg id="map">, REPORT_MAP_W x REPORT_MAP_H units plus a
 *     legend strip): fences (polygons and circles, labelled with id and
 *     kind), one polyline per trip coloured by its local day, start and
 *     end markers, event markers labelled with their number and local
 *     time (violation/critical: red circles; warnings: amber
 *     triangles), a scale bar in m or km, a north arrow and a legend;
 *     a note under it says where the fences came from;
 *  4. one section per local day: its trips (start, end, from, to,
 *     distance, duration, driving time, highest speed) and its events
 *     (number on the map, start, end, type, severity, fence, details).
 *
 * Coordinates are WGS-84 as stored (fences are converted at load) and
 * drawn with a local equirectangular projection: x = lon * cos(mid
 * latitude), y = lat, both in metres on the mean sphere
 * (GEO_EARTH_RADIUS_M), one scale for both axes, so circles stay round
 * and the scale bar holds in every direction (error under 0.1 % across a
 * city, about 1 % across a province).
 *
 * Colours are fixed so that tests can find things in a screenshot: the
 * map frame REPORT_FRAME_COLOUR, the first day's track
 * REPORT_DAY_COLOUR0, violation markers REPORT_VIOLATION_COLOUR.
 *
 * Pure but for the FILE: the caller collects the data (store queries,
 * fences), passes the time of generation, and gets the HTML written.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "fence.h"
#include "store.h"

#define REPORT_MAP_W		1000.0	/* map area, SVG user units */
#define REPORT_MAP_H		700.0
#define REPORT_MIN_SPAN_M	1000.0	/* smallest map extent */
#define REPORT_DECIMATE_PX	1.0	/* track points closer are dropped */
#define REPORT_MAX_POSITIONS	2000000	/* per report: ~70 days at 1 Hz,
					   8 h a day; 48 MB */
#define REPORT_DETAILS_MAX	200	/* bytes of an event's details text */

#define REPORT_FRAME_COLOUR	"#0a0b0c"
#define REPORT_DAY_COLOUR0	"#1565c0"
#define REPORT_VIOLATION_COLOUR	"#d50000"
#define REPORT_WARNING_COLOUR	"#ffab00"

/* What the header says about the vehicle; NULL or "" = unknown. */
struct report_vehicle {
	const char	*device_id;
	const char	*plate;
	const char	*unit;
	const char	*vehicle_class;
	const char	*vin;
};

struct report_opts {
	struct report_vehicle vehicle;
	const char	*tz;		/* IANA zone of every time shown */
	int64_t		 from_utc_ms;	/* period; INT64_MIN: open */
	int64_t		 to_utc_ms;	/* INT64_MAX: open */
	int64_t		 generated_utc_ms;
	const char	*source;	/* "database /var/lib/...": shown */
	/*
	 * Where the fences came from ("configuration FILE", "the daemon");
	 * NULL: none were given, and fences_note says why (e.g. "--db
	 * without a configuration"), shown under the map.
	 */
	const char	*fences_from;
	const char	*fences_note;
};

struct report;

/* A new report (strings of opts copied).  Never NULL. */
struct report	*report_new(const struct report_opts *);
void		 report_free(struct report *);		/* NULL ok */

/*
 * Data, in any order.  Positions: at most REPORT_MAX_POSITIONS, then -1
 * (nothing added).  Trips and events are copied (an event's details
 * too).  0 or -1.
 */
int		 report_add_position(struct report *,
		    const struct store_position *);
int		 report_add_trip(struct report *, const struct store_trip *);
int		 report_add_event(struct report *, const struct store_event *);
size_t		 report_positions(const struct report *);

/*
 * Fences.  report_set_fences: a loaded set (fenceload(),
 * platformset_fences()), borrowed until report_write() returned; the
 * exact outlines are drawn.  report_add_fence_info: one fence as the
 * daemon's "fences" command gives it (fencejson_info(), copied): a
 * circle is drawn exactly; a polygon or corridor only as its bounding
 * box (dashed), since the reply carries no outline; the report says so.
 * 0, or -1 for an object without id or bbox.
 */
void		 report_set_fences(struct report *, const struct fence_set *);
int		 report_add_fence_info(struct report *, const json_t *info);

/*
 * Write the HTML document to fp.  0, or -1 with errno from the stream
 * (or EINVAL: a time that timefmt cannot format in opts.tz).
 */
int		 report_write(struct report *, FILE *fp);

/* Counts of the last report_write(), for the caller's message. */
struct report_counts {
	size_t		 trips;
	size_t		 events;
	size_t		 positions;
	size_t		 points_drawn;	/* track points after decimation */
	size_t		 fences_drawn;
};
void		 report_get_counts(const struct report *,
		    struct report_counts *);

/* ---- the pieces, exported for the unit tests ---- */

/*
 * The local projection: report_proj_fit() centres the box (WGS-84
 * degrees; west <= east, south <= north) in a w x h pixel area with a
 * margin of REPORT_MARGIN_FRAC on each side, the box grown to at least
 * REPORT_MIN_SPAN_M in each direction; report_proj_xy() maps a point
 * (y grows downwards, SVG-style).
 */
#define REPORT_MARGIN_FRAC	0.05
struct report_proj {
	double	lon0, lat0;	/* centre of the box, degrees */
	double	coslat;		/* cos(lat0) */
	double	px_per_m;
	double	cx, cy;		/* centre of the area, px */
	double	w, h;		/* the area, px */
};
void		 report_proj_fit(struct report_proj *, double west,
		    double south, double east, double north, double w_px,
		    double h_px);
void		 report_proj_xy(const struct report_proj *, double lon_deg,
		    double lat_deg, double *x, double *y);
/* The inverse, for tests and labels. */
void		 report_proj_lonlat(const struct report_proj *, double x,
		    double y, double *lon_deg, double *lat_deg);

/*
 * Scale bar: the longest 1, 2 or 5 x 10^k metres not longer than max_px
 * at m_per_px; returns the length in metres and sets *len_px.  label
 * gets "500 m", "2 km", "1.5 km" never (1-2-5 only), "20 m".
 */
double		 report_scale_bar(double m_per_px, double max_px,
		    double *len_px, char *label, size_t labelsz);

/*
 * Text for HTML (element content and quoted attribute values): & < > " '
 * and '/' as references, ':' too when a '/' follows (a URL in the data
 * stays text that no scanner mistakes for a reference), control characters other than tab and newline
 * as U+FFFD, bytes that are not UTF-8 as U+FFFD.  A new string.
 */
char		*report_html_escape(const char *s);
/* The same, written to fp; 0 or -1. */
int		 report_fputs_html(FILE *fp, const char *s);

/*
 * Thinning of a polyline in pixels (x, y pairs, n points, in place):
 * keeps the first point, drops every point closer than min_px to the
 * last kept one, and keeps the last point.  At min_px = 1 the drawing
 * does not change visibly while a standing car's fixes collapse to one
 * point and a day of driving keeps about one point per pixel of its
 * length.  Returns the new count.
 */
size_t		 report_decimate(double *xy, size_t n, double min_px);

/*
 * An event's details object (JSON text) as one line of "key: value"
 * pairs separated by "; ", fence_name left out (shown with the fence),
 * cut at a UTF-8 boundary to at most max bytes with "..." added.  "" for
 * {} or text that is not an object.  A new string.
 */
char		*report_details_summary(const char *json_text, size_t max);

#endif /* REPORT_H */
