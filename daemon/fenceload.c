/* SPDX-License-Identifier: MIT */
/*
 * fenceload.c - the fence set from the configuration; see fenceload.h.
 *
 * Every problem is collected, not just the first, so that a technician
 * fixes a fence file in one pass.  The builder (fence.c) checks the
 * geometry; this file checks the GeoJSON structure and says where.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fenceload.h"
#include "util.h"

/* As config.c: at most this many error lines, then a count. */
#define ERRORS_MAX	100
#define WHY_MAX		512
#define LINE_MAX_LEN	(PATH_MAX + 1024)	/* one message line */
#define WHERE_MAX	128
#define SPEED_MIN	1.0
#define SPEED_MAX	300.0
#define DWELL_MAX	86400

struct loader {
	struct fence_builder	*b;
	struct config_errors	*errs;
	struct config_errors	*warns;
	size_t			 dropped;
	double			*pts;		/* scratch (lon, lat) pairs */
	size_t			 ptscap;	/* pairs */
	char			**origin;	/* per fence built: where */
	size_t			 norigin;
};

static void
add_to(struct config_errors *e, size_t *dropped, char *line)
{
	if (dropped != NULL && e->n >= ERRORS_MAX) {
		(*dropped)++;
		free(line);
		return;
	}
	e->lines = xreallocarray(e->lines, e->n + 1, sizeof(*e->lines));
	e->lines[e->n++] = line;
}

/* One formatted line into e (errors: counted beyond the cap). */
static void
vadd(struct config_errors *e, size_t *dropped, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
vadd(struct config_errors *e, size_t *dropped, const char *fmt, va_list ap)
{
	char	 line[LINE_MAX_LEN];

	vsnprintf(line, sizeof(line), fmt, ap);
	add_to(e, dropped, xstrdup(line));
}

static void
lerr(struct loader *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lerr(struct loader *l, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vadd(l->errs, &l->dropped, fmt, ap);
	va_end(ap);
}

static void
lwarn(struct loader *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lwarn(struct loader *l, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vadd(l->warns, NULL, fmt, ap);
	va_end(ap);
}

static double *
pts_reserve(struct loader *l, size_t n)
{
	if (n > l->ptscap) {
		free(l->pts);
		l->pts = xreallocarray(NULL, n, 2 * sizeof(double));
		l->ptscap = n;
	}
	return l->pts;
}

/* The fence just ended came from origin (taken). */
static void
note_origin(struct loader *l, char *origin)
{
	l->origin = xreallocarray(l->origin, l->norigin + 1,
	    sizeof(*l->origin));
	l->origin[l->norigin++] = origin;
}

static void
spec_from_entry(const struct config_fence *f, struct fence_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->id = f->id;
	spec->name = f->name;
	spec->kind = f->kind;
	spec->category = f->category;
	spec->crs = f->crs;
	spec->speed_limit_kmh = f->speed_limit_kmh;
	spec->dwell_s = f->dwell_s;
}

/* An inline shape of the config file. */
static void
load_inline(struct loader *l, const struct config_fence *f)
{
	struct fence_builder	*b = l->b;
	struct fence_spec	 spec;
	char			 why[WHY_MAX];
	size_t			 i;
	int			 rc;

	spec_from_entry(f, &spec);
	if (fence_builder_begin(b, &spec, why, sizeof(why)) == -1)
		goto bad;
	switch (f->geom) {
	case CONFIG_FENCE_CIRCLE:
		rc = fence_builder_circle(b, f->center[0], f->center[1],
		    f->radius_m, why, sizeof(why));
		break;
	case CONFIG_FENCE_RECTANGLE:
		rc = fence_builder_rect(b, f->rect[0], f->rect[1], f->rect[2],
		    f->rect[3], why, sizeof(why));
		break;
	case CONFIG_FENCE_CORRIDOR:
		rc = fence_builder_corridor(b, f->shell.lonlat,
		    f->shell.npoints, f->width_m, why, sizeof(why));
		break;
	case CONFIG_FENCE_POLYGON:
		rc = fence_builder_part(b, why, sizeof(why));
		if (rc == 0)
			rc = fence_builder_ring(b, f->shell.lonlat,
			    f->shell.npoints, why, sizeof(why));
		for (i = 0; rc == 0 && i < f->nholes; i++)
			rc = fence_builder_ring(b, f->holes[i].lonlat,
			    f->holes[i].npoints, why, sizeof(why));
		break;
	default:
		snprintf(why, sizeof(why), "internal error: shape %d",
		    (int)f->geom);
		rc = -1;
		break;
	}
	if (rc == -1 || fence_builder_end(b, why, sizeof(why)) == -1)
		goto bad;
	note_origin(l, xasprintf("%s:%u", f->file, f->line));
	return;
bad:
	lerr(l, "%s:%u: fence \"%s\": %s", f->file, f->line, f->id, why);
}

/*
 * The whole file, at most FENCELOAD_FILE_MAX bytes: read it ourselves so
 * that an oversized or special file is refused before jansson sees it.
 */
static char *
read_file(struct loader *l, const char *path, size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) ==
	    -1) {
		lerr(l, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		lerr(l, "%s: cannot read: %s", path, S_ISDIR(st.st_mode) ?
		    strerror(EISDIR) : "not a regular file");
		close(fd);
		return NULL;
	}
	if (st.st_size > FENCELOAD_FILE_MAX) {
		lerr(l, "%s: is %jd bytes, at most %d (%d MiB) allowed: "
		    "simplify the shapes or split the file", path,
		    (intmax_t)st.st_size, FENCELOAD_FILE_MAX,
		    FENCELOAD_FILE_MAX / (1024 * 1024));
		close(fd);
		return NULL;
	}
	/* One byte more than allowed tells a file that grew meanwhile. */
	buf = xmalloc((size_t)st.st_size + 2);
	for (;;) {
		r = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			lerr(l, "%s: cannot read: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > (size_t)st.st_size)
			break;
	}
	close(fd);
	if (len > (size_t)st.st_size) {
		lerr(l, "%s: changed while being read", path);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* One GeoJSON feature being turned into a fence. */
struct feat {
	const char		*path;
	const char		*id;		/* resolved */
	char			 where[WHERE_MAX]; /* "features[3]" or "" */
	struct fence_spec	 spec;
	bool			 has_kind;
	const json_t		*props;		/* may be NULL */
};

#define FERR(l, ft, ...)	feat_err((l), (ft), __VA_ARGS__)

static void
feat_err(struct loader *l, const struct feat *ft, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
feat_err(struct loader *l, const struct feat *ft, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[WHY_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ft->id != NULL)
		lerr(l, "%s: fence \"%s\": %s%s%s", ft->path, ft->id,
		    ft->where, ft->where[0] != '\0' ? ": " : "", msg);
	else
		lerr(l, "%s: %s%s%s", ft->path, ft->where,
		    ft->where[0] != '\0' ? ": " : "", msg);
}

static const char *
json_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/* properties.KEY as a string (NULL when absent); -1 when mistyped. */
static int
prop_string(struct loader *l, const struct feat *ft, const char *key,
    const char **out)
{
	const json_t	*v;

	*out = NULL;
	if (ft->props == NULL || (v = json_object_get(ft->props, key)) ==
	    NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		FERR(l, ft, "properties.%s: expected a string, got %s", key,
		    json_type_name(v));
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* properties.KEY as a number in [min, max]; 0 absent, 1 set, -1 bad. */
static int
prop_number(struct loader *l, const struct feat *ft, const char *key,
    double min, double max, double *out)
{
	const json_t	*v;

	if (ft->props == NULL || (v = json_object_get(ft->props, key)) ==
	    NULL || json_is_null(v))
		return 0;
	if (!json_is_number(v)) {
		FERR(l, ft, "properties.%s: expected a number, got %s", key,
		    json_type_name(v));
		return -1;
	}
	*out = json_number_value(v);
	if (!(*out >= min && *out <= max)) {
		FERR(l, ft, "properties.%s: %g is out of range %g..%g", key,
		    *out, min, max);
		return -1;
	}
	return 1;
}

/* The attributes from the entry, overridden by the properties. */
static int
feat_attributes(struct loader *l, struct feat *ft)
{
	const char	*s;
	double		 v;
	int		 rc = 0, r;

	if (prop_string(l, ft, "name", &s) == -1)
		rc = -1;
	else if (s != NULL)
		ft->spec.name = s;
	if (prop_string(l, ft, "category", &s) == -1)
		rc = -1;
	else if (s != NULL)
		ft->spec.category = s;
	if (prop_string(l, ft, "kind", &s) == -1)
		rc = -1;
	else if (s != NULL) {
		if (fence_kind_parse(s, &ft->spec.kind) == -1) {
			FERR(l, ft, "properties.kind: \"%.32s\" is not one of "
			    "region, forbidden, parking, office, destination",
			    s);
			rc = -1;
		} else
			ft->has_kind = true;
	}
	if ((r = prop_number(l, ft, "speed_limit_kmh", 0.0, SPEED_MAX, &v)) ==
	    -1)
		rc = -1;
	else if (r == 1) {
		if (v != 0.0 && v < SPEED_MIN) {
			FERR(l, ft, "properties.speed_limit_kmh: 0 (none) or "
			    "1..300");
			rc = -1;
		}
		ft->spec.speed_limit_kmh = v;
	}
	if ((r = prop_number(l, ft, "dwell_s", 0.0, DWELL_MAX, &v)) == -1)
		rc = -1;
	else if (r == 1) {
		if (v != floor(v)) {
			FERR(l, ft, "properties.dwell_s: expected whole "
			    "seconds");
			rc = -1;
		}
		ft->spec.dwell_s = (int)v;
	}
	if (rc == 0 && !ft->has_kind) {
		FERR(l, ft, "no kind: set kind in the config entry or "
		    "properties.kind");
		rc = -1;
	}
	return rc;
}

/* One position [lon, lat(, alt)] into p; what names it for errors. */
static int
position(struct loader *l, const struct feat *ft, const json_t *j,
    const char *what, double *p)
{
	const json_t	*x, *y;

	if (!json_is_array(j) || json_array_size(j) < 2 ||
	    json_array_size(j) > 3 ||
	    !json_is_number(x = json_array_get(j, 0)) ||
	    !json_is_number(y = json_array_get(j, 1))) {
		FERR(l, ft, "%s: expected a position [lon, lat], got %s", what,
		    json_is_array(j) ? "an array of other values" :
		    json_type_name(j));
		return -1;
	}
	p[0] = json_number_value(x);
	p[1] = json_number_value(y);
	return 0;
}

/*
 * A list of positions into the scratch buffer.  closed: a linear ring
 * (at least 4 positions, last equal to first, which is dropped).
 */
static int
positions(struct loader *l, const struct feat *ft, const json_t *j,
    const char *what, bool closed, size_t *np)
{
	char	 w[WHERE_MAX + 32];
	double	*p;
	size_t	 i, n;

	if (!json_is_array(j)) {
		FERR(l, ft, "%s: expected an array of positions, got %s", what,
		    json_type_name(j));
		return -1;
	}
	n = json_array_size(j);
	if (closed && n < 4) {
		FERR(l, ft, "%s: a ring needs at least 4 positions (3 corners "
		    "and the first again), got %zu", what, n);
		return -1;
	}
	if (!closed && n < 2) {
		FERR(l, ft, "%s: a line needs at least 2 positions, got %zu",
		    what, n);
		return -1;
	}
	if (n > FENCE_MAX_VERTICES) {
		FERR(l, ft, "%s: %zu positions, at most %d", what, n,
		    FENCE_MAX_VERTICES);
		return -1;
	}
	p = pts_reserve(l, n);
	for (i = 0; i < n; i++) {
		snprintf(w, sizeof(w), "%s[%zu]", what, i);
		if (position(l, ft, json_array_get(j, i), w, &p[2 * i]) == -1)
			return -1;
	}
	if (closed) {
		if (p[0] != p[2 * (n - 1)] || p[1] != p[2 * (n - 1) + 1]) {
			FERR(l, ft, "%s: ring is not closed (first [%.7f, "
			    "%.7f], last [%.7f, %.7f])", what, p[0], p[1],
			    p[2 * (n - 1)], p[2 * (n - 1) + 1]);
			return -1;
		}
		n--;
	}
	*np = n;
	return 0;
}

/* The rings of one polygon (coordinates of a Polygon) as a part. */
static int
polygon_part(struct loader *l, const struct feat *ft, const json_t *rings,
    const char *what, char *why, size_t whylen)
{
	char	 w[WHERE_MAX + 32];
	size_t	 i, n;

	if (!json_is_array(rings) || json_array_size(rings) == 0) {
		FERR(l, ft, "%s: expected an array of rings, got %s", what,
		    json_is_array(rings) ? "an empty array" :
		    json_type_name(rings));
		return -2;
	}
	if (fence_builder_part(l->b, why, whylen) == -1)
		return -1;
	for (i = 0; i < json_array_size(rings); i++) {
		snprintf(w, sizeof(w), "%s[%zu]", what, i);
		if (positions(l, ft, json_array_get(rings, i), w, true, &n) ==
		    -1)
			return -2;
		if (fence_builder_ring(l->b, l->pts, n, why, whylen) == -1)
			return -1;
	}
	return 0;
}

/* The shape of one feature; 0 added, -1 error reported. */
static int
feat_geometry(struct loader *l, struct feat *ft, const json_t *geom)
{
	const json_t	*type, *coords;
	const char	*t;
	char		 why[WHY_MAX], w[WHERE_MAX + 32];
	double		 p[2], v;
	size_t		 i, n;
	int		 rc;

	if (geom == NULL || json_is_null(geom)) {
		FERR(l, ft, "has no geometry");
		return -1;
	}
	if (!json_is_object(geom) ||
	    !json_is_string(type = json_object_get(geom, "type"))) {
		FERR(l, ft, "geometry: expected an object with a \"type\"");
		return -1;
	}
	t = json_string_value(type);
	coords = json_object_get(geom, "coordinates");
	if (strcmp(t, "GeometryCollection") == 0) {
		FERR(l, ft, "geometry: GeometryCollection is not supported: "
		    "make one feature per shape");
		return -1;
	}
	if (strcmp(t, "Polygon") != 0 && strcmp(t, "MultiPolygon") != 0 &&
	    strcmp(t, "Point") != 0 && strcmp(t, "LineString") != 0) {
		FERR(l, ft, "geometry: type \"%.32s\" is not supported "
		    "(Polygon, MultiPolygon, Point with properties.radius_m, "
		    "LineString with properties.width_m)", t);
		return -1;
	}
	if (coords == NULL) {
		FERR(l, ft, "geometry: no \"coordinates\"");
		return -1;
	}
	if (fence_builder_begin(l->b, &ft->spec, why, sizeof(why)) == -1)
		goto bad;
	rc = 0;
	if (strcmp(t, "Polygon") == 0)
		rc = polygon_part(l, ft, coords, "geometry.coordinates", why,
		    sizeof(why));
	else if (strcmp(t, "MultiPolygon") == 0) {
		if (!json_is_array(coords) || json_array_size(coords) == 0) {
			FERR(l, ft, "geometry.coordinates: expected an array "
			    "of polygons, got %s", json_is_array(coords) ?
			    "an empty array" : json_type_name(coords));
			return -1;
		}
		for (i = 0; rc == 0 && i < json_array_size(coords); i++) {
			snprintf(w, sizeof(w), "geometry.coordinates[%zu]", i);
			rc = polygon_part(l, ft, json_array_get(coords, i), w,
			    why, sizeof(why));
		}
	} else if (strcmp(t, "Point") == 0) {
		if (position(l, ft, coords, "geometry.coordinates", p) == -1)
			return -1;
		if (prop_number(l, ft, "radius_m", 0.0, INFINITY, &v) != 1) {
			if (ft->props == NULL ||
			    json_object_get(ft->props, "radius_m") == NULL)
				FERR(l, ft, "a Point needs properties.radius_m "
				    "(a circle)");
			return -1;
		}
		rc = fence_builder_circle(l->b, p[0], p[1], v, why,
		    sizeof(why));
	} else {
		if (prop_number(l, ft, "width_m", 0.0, INFINITY, &v) != 1) {
			if (ft->props == NULL ||
			    json_object_get(ft->props, "width_m") == NULL)
				FERR(l, ft, "a LineString needs "
				    "properties.width_m (a corridor)");
			return -1;
		}
		if (positions(l, ft, coords, "geometry.coordinates", false,
		    &n) == -1)
			return -1;
		rc = fence_builder_corridor(l->b, l->pts, n, v, why,
		    sizeof(why));
	}
	if (rc == -2)
		return -1;	/* reported; the builder drops the fence */
	if (rc == -1 || fence_builder_end(l->b, why, sizeof(why)) == -1)
		goto bad;
	note_origin(l, xstrdup(ft->path));
	return 0;
bad:
	FERR(l, ft, "%s", why);
	return -1;
}

/* The id of feature i of n: see fenceload.h. */
static const char *
feat_id(const struct config_fence *f, const json_t *feature,
    const json_t *props, size_t i, size_t n, char *buf, size_t len)
{
	const json_t	*v;

	if (n == 1 && !f->feature_ids)
		return f->id;
	if (props != NULL && json_is_string(v = json_object_get(props, "id")))
		return json_string_value(v);
	if (feature != NULL && (v = json_object_get(feature, "id")) != NULL) {
		if (json_is_string(v))
			return json_string_value(v);
		if (json_is_integer(v)) {
			snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
			return buf;
		}
	}
	snprintf(buf, len, "%s/%zu", f->id, i + 1);
	return buf;
}

static void
load_geojson(struct loader *l, const struct config_fence *f)
{
	const char	*path = f->geojson_path;
	json_error_t	 jerr;
	json_t		*root, *feats = NULL, *feature, *geom, *props;
	const char	*type;
	struct feat	 ft;
	char		*buf, idbuf[FENCE_ID_MAX + 32];
	size_t		 len, i, n;
	bool		 collection = false, bare = false;

	if ((buf = read_file(l, path, &len)) == NULL)
		return;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (root == NULL) {
		lerr(l, "%s:%d: %s", path, jerr.line, jerr.text);
		return;
	}
	memset(&ft, 0, sizeof(ft));
	ft.path = path;
	if (!json_is_object(root) ||
	    (type = json_string_value(json_object_get(root, "type"))) ==
	    NULL) {
		lerr(l, "%s: not GeoJSON: expected an object with a \"type\"",
		    path);
		goto out;
	}
	if (strcmp(type, "FeatureCollection") == 0) {
		collection = true;
		feats = json_object_get(root, "features");
		if (!json_is_array(feats)) {
			lerr(l, "%s: FeatureCollection: \"features\" is not an "
			    "array", path);
			goto out;
		}
		if (json_array_size(feats) == 0) {
			lerr(l, "%s: FeatureCollection has no features", path);
			goto out;
		}
		n = json_array_size(feats);
	} else if (strcmp(type, "Feature") == 0)
		n = 1;
	else {
		bare = true;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		memset(&ft, 0, sizeof(ft));
		ft.path = path;
		feature = collection ? json_array_get(feats, i) : root;
		if (collection)
			snprintf(ft.where, sizeof(ft.where), "features[%zu]",
			    i);
		if (!bare && (!json_is_object(feature) ||
		    !json_is_string(json_object_get(feature, "type")) ||
		    strcmp(json_string_value(json_object_get(feature,
		    "type")), "Feature") != 0)) {
			FERR(l, &ft, "expected a Feature");
			continue;
		}
		props = bare ? NULL : json_object_get(feature, "properties");
		if (props != NULL && json_is_null(props))
			props = NULL;
		if (props != NULL && !json_is_object(props)) {
			FERR(l, &ft, "properties: expected an object, got %s",
			    json_type_name(props));
			continue;
		}
		ft.props = props;
		ft.id = feat_id(f, bare ? NULL : feature, props, i, n, idbuf,
		    sizeof(idbuf));
		spec_from_entry(f, &ft.spec);
		ft.spec.id = ft.id;
		ft.has_kind = f->has_kind;
		if (feat_attributes(l, &ft) == -1)
			continue;
		geom = bare ? feature : json_object_get(feature, "geometry");
		(void)feat_geometry(l, &ft, geom);
	}
out:
	json_decref(root);
}

/* Doubts that do not stop the load: see fenceload.h. */
static void
check_places(struct loader *l, const struct fence_set *set)
{
	const struct fence_info	*fi;
	size_t			 i;
	bool			 swapped;

	for (i = 0; i < fence_set_count(set) && i < l->norigin; i++) {
		fi = fence_set_info(set, i);
		if (geo_in_china(fi->min_lon, fi->min_lat) &&
		    geo_in_china(fi->max_lon, fi->max_lat))
			continue;
		swapped = geo_in_china(fi->min_lat, fi->min_lon) &&
		    geo_in_china(fi->max_lat, fi->max_lon);
		lwarn(l, "%s: fence \"%s\": lies outside China (lon %.5f..%.5f, "
		    "lat %.5f..%.5f)%s", l->origin[i], fi->id, fi->min_lon,
		    fi->max_lon, fi->min_lat, fi->max_lat, swapped ?
		    ": are longitude and latitude swapped?" : "");
	}
}

struct fence_set *
fenceload(const struct config *c, struct config_errors *errs,
    struct config_errors *warns)
{
	struct loader		 l;
	struct fence_set	*set;
	size_t			 i;

	memset(errs, 0, sizeof(*errs));
	memset(warns, 0, sizeof(*warns));
	memset(&l, 0, sizeof(l));
	l.errs = errs;
	l.warns = warns;
	l.b = fence_builder_new();
	for (i = 0; i < c->nfences; i++) {
		if (c->fences[i].geom == CONFIG_FENCE_GEOJSON)
			load_geojson(&l, &c->fences[i]);
		else
			load_inline(&l, &c->fences[i]);
	}
	if (l.dropped > 0)
		add_to(errs, NULL, xasprintf("%s:0: %zu more errors not shown",
		    c->file != NULL ? c->file : "config", l.dropped));
	set = fence_builder_finish(l.b);
	if (errs->n > 0) {
		fence_set_free(set);
		set = NULL;
	} else
		check_places(&l, set);
	for (i = 0; i < l.norigin; i++)
		free(l.origin[i]);
	free(l.origin);
	free(l.pts);
	return set;
}
