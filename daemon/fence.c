/* SPDX-License-Identifier: MIT */
/*
 * fence.c - geofences: builder, validation, indexes and queries (fence.h).
 *
 * Geometry lives on an int32 lattice of 1e-7 degree.  Every polygon
 * predicate is exact: the orientation of (a, b, p) compares two int64
 * products, which cannot overflow because a fence spans at most 60 degrees
 * (6e8 units) and a query point is tested only inside the fence's bbox.
 * No __int128: the daemon runs on 32-bit ARM.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fence.h"
#include "geo.h"
#include "util.h"

#define UNITS_PER_DEG	1e7		/* 1 / FENCE_LATTICE_DEG */
#define LAT_MAX_U	900000000	/* 90 degrees in lattice units */
#define LON_MAX_U	1800000000	/* 180 degrees */
#define M_PER_DEG	(GEO_EARTH_RADIUS_M * M_PI / 180.0)

/*
 * Polygons with up to LOOP_EDGES edges are tested edge by edge behind
 * their bbox: 64 integer edge tests cost less than a cache miss or two,
 * and a classified grid for each of thousands of small forbidden places
 * would cost more memory than the whole rest of the set.
 */
#define LOOP_EDGES	64
#define LOOP_SEGS	32		/* corridor segments without a grid */

/* Classified grid of one polygon: cells per edge, and the caps. */
#define PG_CELLS_PER_EDGE	64
#define PG_MIN_CELLS		256
#define PG_MAX_CELLS		(1u << 20)
#define PG_MAX_SIDE		1024u

#define CELL_OUT	0
#define CELL_IN		1
#define CELL_MIXED	2

/* Set grid of small fences. */
#define SET_CELLS_PER_FENCE	32	/* 12 bytes of index a fence, sparse */
#define SET_MIN_CELLS		1024
#define SET_MAX_CELLS		(2u << 20)
#define SET_MIN_CELL_U		20000	/* 0.002 degree */
#define SET_LARGE_CELLS		16	/* more cells than this: "large" */

/* Validation grid: cells per edge, cap. */
#define VAL_MAX_CELLS		(4u << 20)

/*
 * Circles: the equirectangular distance (cos at the mean latitude, by a
 * second-order expansion around the centre) decides unless it is within
 * this margin of the radius; then geo_distance_m() decides.  The fast
 * formula differs from the haversine by at most about 1.1e-4 of the
 * radius below 70 degrees of latitude and up to 100 km (measured on 2e6
 * random points; test_fence.c checks rims): the margin is 9 times that.
 * Closer to the poles every test is exact.
 */
#define CIRCLE_MARGIN_REL	1e-3
#define CIRCLE_MARGIN_M		0.05
#define CIRCLE_FAST_MAX_LAT	70.0

#define MINV(a, b)	((a) < (b) ? (a) : (b))
#define MAXV(a, b)	((a) > (b) ? (a) : (b))

/* A uniform grid over part of the lattice: cell (i, j) covers x in
 * [x0 + i*cw, x0 + (i+1)*cw) and y likewise. */
struct fence_raster {
	int64_t		 x0, y0;
	int64_t		 cw, ch;	/* 1 << sx, 1 << sy */
	unsigned	 sx, sy;
	uint32_t	 nx, ny;
};

/* Classified grid of one polygon plus its slab index (one slab per grid
 * row, listing the edges whose y-range meets the row, coordinates
 * inline). */
struct fence_pgrid {
	struct fence_raster g;
	uint8_t		*cls;		/* 2 bits per cell */
	uint32_t	*slab_off;	/* ny + 1 */
	int32_t		*slab_seg;	/* x1 y1 x2 y2 per entry */
};

/* Segment buckets of one corridor. */
struct fence_cgrid {
	struct fence_raster g;
	uint32_t	*off;		/* nx * ny + 1 */
	uint32_t	*seg;
};

struct fence {
	struct fence_info info;
	int32_t		 bx0, by0, bx1, by1;	/* bbox, lattice, inclusive */
	int32_t		*xy;		/* all vertices, ring after ring */
	uint32_t	*ring_end;	/* nrings ends, then nparts + 1 first
					   rings */
	uint32_t	 nv, nrings, nparts;
	bool		 exact_only;	/* circle near a pole */
	union {
		struct {
			double	 cosc, sinc;	/* of the centre latitude */
			double	 in2, out2;	/* fast path thresholds, m^2 */
		} c;
		struct {
			double	 h, h2;		/* half width, squared */
			double	*kx;		/* per segment, m per unit */
		} k;
	} u;
	struct fence_pgrid *pg;
	struct fence_cgrid *cg;
	size_t		 mem;		/* all this fence holds */
	size_t		 smem;		/* of which its strings */
};

/* One small fence in one set cell: its bbox as corner and extent, so
 * that the test is two unsigned compares and no branch. */
struct fence_gent {
	uint32_t	 x0, y0, w, h;
	uint32_t	 idx;
};

struct fence_set {
	struct fence	*f;
	size_t		 n;
	uint32_t	*hash;		/* open addressing, idx + 1, 0 empty */
	size_t		 hcap;
	struct fence_raster g;		/* small fences */
	uint64_t	*gocc;		/* 1 bit per cell: any fence? */
	uint32_t	*grank;		/* per 64 cells: occupied before */
	uint32_t	*goff;		/* per occupied cell + 1: into gent */
	struct fence_gent *gent;
	size_t		 gent_n;
	uint32_t	*large;		/* ascending */
	int32_t		*large_bb;	/* 4 per large fence */
	size_t		 nlarge;
	size_t		 mem;		/* everything */
	size_t		 imem;		/* geometry and indexes */
};

enum fence_bstate {
	BS_IDLE,
	BS_BEGUN,
	BS_CIRCLE,
	BS_RECT,
	BS_CORRIDOR,
	BS_POLY
};

struct fence_builder {
	struct fence	*f;
	size_t		 n, cap;
	uint32_t	*hash;
	size_t		 hcap;
	/* the fence being built */
	enum fence_bstate state;
	struct fence	 cur;
	double		*raw;		/* drawn (lon, lat) pairs */
	size_t		 nraw, rawcap;	/* in points */
	uint32_t	*rring;		/* ring ends in raw */
	size_t		 nrring, rringcap;
	uint32_t	*rpart;		/* first ring of each part */
	size_t		 nrpart, rpartcap;
	double		 clon, clat, radius_m, width_m;
};

static const char *const kind_names[] = {
	"region", "forbidden", "parking", "office", "destination"
};

const char *
fence_kind_name(enum fence_kind k)
{
	if ((unsigned)k >= NELEM(kind_names))
		return "unknown";
	return kind_names[k];
}

int
fence_kind_parse(const char *name, enum fence_kind *out)
{
	size_t	 i;

	for (i = 0; i < NELEM(kind_names); i++)
		if (strcmp(name, kind_names[i]) == 0) {
			*out = (enum fence_kind)i;
			return 0;
		}
	return -1;
}

const char *
fence_shape_name(enum fence_shape s)
{
	switch (s) {
	case FENCE_SHAPE_CIRCLE:
		return "circle";
	case FENCE_SHAPE_POLYGON:
		return "polygon";
	case FENCE_SHAPE_CORRIDOR:
		return "corridor";
	}
	return "unknown";
}

static int
fence_err(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fence_err(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* lround() without libm: the query path must not call it. */
static inline int64_t
fence_round(double v)
{
	int64_t	 t = (int64_t)v;
	double	 f = v - (double)t;	/* exact */

	/* Without branches: the direction is a coin toss for a fix, and a
	 * mispredicted branch costs more than the rest of the rounding. */
	return t + (f >= 0.5) - (f <= -0.5);
}

static inline int64_t
fence_floordiv(int64_t a, int64_t b)
{
	int64_t	 q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Sign of the orientation of (a, b, p): >0 p left of a->b. */
static inline int
fence_orient(int64_t ax, int64_t ay, int64_t bx, int64_t by, int64_t px,
    int64_t py)
{
	int64_t	 l = (bx - ax) * (py - ay);
	int64_t	 r = (px - ax) * (by - ay);

	return (l > r) - (l < r);
}

/*
 * One edge of GEOS RayCrossingCounter::countSegment: 1 when the edge
 * crosses the ray from p to +x, 0 when not, -1 when p is on the edge.
 */
static inline int
fence_cross(int32_t x1, int32_t y1, int32_t x2, int32_t y2, int32_t px,
    int32_t py)
{
	int	 s;

	if (x1 < px && x2 < px)
		return 0;
	if (px == x2 && py == y2)
		return -1;
	if (y1 == py && y2 == py) {
		if (px >= MINV(x1, x2) && px <= MAXV(x1, x2))
			return -1;
		return 0;
	}
	if ((y1 > py && y2 <= py) || (y2 > py && y1 <= py)) {
		s = fence_orient(x1, y1, x2, y2, px, py);
		if (s == 0)
			return -1;
		if (y2 < y1)
			s = -s;
		return s > 0;
	}
	return 0;
}

static inline uint32_t
fence_ring_start(const struct fence *f, uint32_t r)
{
	return r == 0 ? 0 : f->ring_end[r - 1];
}

static inline uint32_t
fence_part_first(const struct fence *f, uint32_t p)
{
	return f->ring_end[f->nrings + p];
}

/* Even-odd over rings [r0, r1). */
static enum fence_loc
fence_rings_locate(const struct fence *f, uint32_t r0, uint32_t r1,
    int32_t px, int32_t py)
{
	const int32_t	*xy = f->xy;
	uint32_t	 r, i, s, e, prev, cnt = 0;
	int		 c;

	for (r = r0; r < r1; r++) {
		s = fence_ring_start(f, r);
		e = f->ring_end[r];
		for (i = s, prev = e - 1; i < e; prev = i++) {
			c = fence_cross(xy[2 * prev], xy[2 * prev + 1],
			    xy[2 * i], xy[2 * i + 1], px, py);
			if (c < 0)
				return FENCE_ON;
			cnt += (uint32_t)c;
		}
	}
	return (cnt & 1) ? FENCE_IN : FENCE_OUT;
}

static enum fence_loc
fence_slab_locate(const struct fence_pgrid *pg, uint32_t row, int32_t px,
    int32_t py)
{
	const int32_t	*s = pg->slab_seg + 4 * (size_t)pg->slab_off[row];
	const int32_t	*e = pg->slab_seg + 4 * (size_t)pg->slab_off[row + 1];
	uint32_t	 cnt = 0;
	int		 c;

	for (; s < e; s += 4) {
		c = fence_cross(s[0], s[1], s[2], s[3], px, py);
		if (c < 0)
			return FENCE_ON;
		cnt += (uint32_t)c;
	}
	return (cnt & 1) ? FENCE_IN : FENCE_OUT;
}

static inline unsigned
fence_cell_get(const uint8_t *cls, size_t i)
{
	return (cls[i >> 2] >> ((i & 3) * 2)) & 3;
}

static inline void
fence_cell_set(uint8_t *cls, size_t i, unsigned v)
{
	cls[i >> 2] = (uint8_t)((cls[i >> 2] & ~(3u << ((i & 3) * 2))) |
	    (v << ((i & 3) * 2)));
}

static enum fence_loc
fence_poly_locate(const struct fence *f, int32_t px, int32_t py)
{
	const struct fence_pgrid *pg = f->pg;
	uint32_t	 ix, iy;
	unsigned	 c;

	if (pg == NULL)
		return fence_rings_locate(f, 0, f->nrings, px, py);
	ix = (uint32_t)((uint64_t)((int64_t)px - pg->g.x0) >> pg->g.sx);
	iy = (uint32_t)((uint64_t)((int64_t)py - pg->g.y0) >> pg->g.sy);
	c = fence_cell_get(pg->cls, (size_t)iy * pg->g.nx + ix);
	if (c == CELL_IN)
		return FENCE_IN;
	if (c == CELL_OUT)
		return FENCE_OUT;
	return fence_slab_locate(pg, iy, px, py);
}

static enum fence_loc
fence_circle_locate(const struct fence *f, int32_t px, int32_t py)
{
	double	 plon = px / UNITS_PER_DEG, plat = py / UNITS_PER_DEG;
	double	 dlat, d, cosm, dx, dy, d2;

	if (!f->exact_only) {
		dlat = plat - f->info.center_lat;
		/* cos at the mean latitude, expanded around the centre */
		d = dlat * (M_PI / 360.0);
		cosm = f->u.c.cosc - f->u.c.sinc * d - 0.5 * f->u.c.cosc * d * d;
		dx = (plon - f->info.center_lon) * M_PER_DEG * cosm;
		dy = dlat * M_PER_DEG;
		d2 = dx * dx + dy * dy;
		if (d2 <= f->u.c.in2)
			return FENCE_IN;
		if (d2 > f->u.c.out2)
			return FENCE_OUT;
	}
	d = geo_distance_m(f->info.center_lat, f->info.center_lon, plat,
	    plon);
	if (d < f->info.radius_m)
		return FENCE_IN;
	return d == f->info.radius_m ? FENCE_ON : FENCE_OUT;
}

/* Squared distance in metres from p to segment i of a corridor. */
static inline double
fence_seg_d2(const struct fence *f, uint32_t i, int32_t px, int32_t py)
{
	const int32_t	*a = f->xy + 2 * (size_t)i;
	double		 kx = f->u.k.kx[i];
	double		 ky = M_PER_DEG / UNITS_PER_DEG;
	double		 bx = (double)(a[2] - a[0]) * kx;
	double		 by = (double)(a[3] - a[1]) * ky;
	double		 qx = (double)(px - a[0]) * kx;
	double		 qy = (double)(py - a[1]) * ky;
	double		 t = (qx * bx + qy * by) / (bx * bx + by * by);

	if (t < 0)
		t = 0;
	else if (t > 1)
		t = 1;
	qx -= t * bx;
	qy -= t * by;
	return qx * qx + qy * qy;
}

static enum fence_loc
fence_corridor_locate(const struct fence *f, int32_t px, int32_t py)
{
	const struct fence_cgrid *cg = f->cg;
	enum fence_loc	 loc = FENCE_OUT;
	uint32_t	 i, a, b, c;
	double		 d2;

	if (cg == NULL) {
		a = 0;
		b = f->nv - 1;
	} else {
		c = (uint32_t)((uint64_t)((int64_t)py - cg->g.y0) >>
		    cg->g.sy) * cg->g.nx +
		    (uint32_t)((uint64_t)((int64_t)px - cg->g.x0) >> cg->g.sx);
		a = cg->off[c];
		b = cg->off[c + 1];
	}
	for (; a < b; a++) {
		i = cg == NULL ? a : cg->seg[a];
		d2 = fence_seg_d2(f, i, px, py);
		if (d2 < f->u.k.h2)
			return FENCE_IN;
		if (d2 == f->u.k.h2)
			loc = FENCE_ON;
	}
	return loc;
}

/* p is inside the fence's bbox. */
static enum fence_loc
fence_locate_in(const struct fence *f, int32_t px, int32_t py)
{
	switch (f->info.shape) {
	case FENCE_SHAPE_CIRCLE:
		return fence_circle_locate(f, px, py);
	case FENCE_SHAPE_POLYGON:
		return fence_poly_locate(f, px, py);
	case FENCE_SHAPE_CORRIDOR:
		return fence_corridor_locate(f, px, py);
	}
	return FENCE_OUT;
}

static inline bool
fence_in_bb(const int32_t *bb, int32_t px, int32_t py)
{
	return px >= bb[0] && py >= bb[1] && px <= bb[2] && py <= bb[3];
}

/* Bits set in v, without the libgcc call __builtin_popcountll becomes
 * on a baseline x86-64 or ARM build. */
static inline uint32_t
fence_popcount(uint64_t v)
{
	v = v - ((v >> 1) & 0x5555555555555555ull);
	v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (uint32_t)((v * 0x0101010101010101ull) >> 56);
}

/* Round a finite query point to the lattice; false when it is outside
 * [-180, 180] x [-90, 90] (covered by nothing) or not finite. */
static inline bool
fence_snap_query(double lon, double lat, int32_t *px, int32_t *py)
{
	if (!isfinite(lon) || !isfinite(lat) || lon < -180.0 ||
	    lon > 180.0 || lat < -90.0 || lat > 90.0)
		return false;
	*px = (int32_t)fence_round(lon * UNITS_PER_DEG);
	*py = (int32_t)fence_round(lat * UNITS_PER_DEG);
	return true;
}

/* ------------------------------------------------------------------ */
/* Rasterizing segments into a grid */

typedef void fence_visit_fn(void *, uint32_t row, uint32_t c0, uint32_t c1,
    uint32_t id);

/*
 * Cell sides are powers of two lattice units, so that finding a cell is
 * two shifts: a 64-bit division costs more than the rest of a query.
 * The log2 of the power of two nearest v (v >= 1).
 */
static unsigned
fence_log2_near(int64_t v)
{
	unsigned	 k = 0;

	if (v < 1)
		v = 1;
	while (k < 40 && ((int64_t)1 << (k + 1)) <= v)
		k++;
	/* 2^k <= v < 2^(k+1): take the nearer */
	if (v - ((int64_t)1 << k) > ((int64_t)1 << (k + 1)) - v)
		k++;
	return k;
}

static void
fence_raster_init(struct fence_raster *g, int64_t x0, int64_t y0,
    int64_t x1, int64_t y1, uint64_t cells, uint32_t maxside)
{
	int64_t	 w = x1 - x0 + 1, h = y1 - y0 + 1;
	double	 nx;
	int64_t	 ny;

	if (cells < 1)
		cells = 1;
	nx = sqrt((double)cells * (double)w / (double)h);
	if (nx < 1)
		nx = 1;
	if (nx > maxside)
		nx = maxside;
	ny = (int64_t)((double)cells / nx);
	if (ny < 1)
		ny = 1;
	if (ny > maxside)
		ny = maxside;
	g->x0 = x0;
	g->y0 = y0;
	g->sx = fence_log2_near((w + (int64_t)nx - 1) / (int64_t)nx);
	g->sy = fence_log2_near((h + ny - 1) / ny);
	/* Rounding down may have made too many cells: coarsen. */
	while (((w - 1) >> g->sx) + 1 > (int64_t)maxside)
		g->sx++;
	while (((h - 1) >> g->sy) + 1 > (int64_t)maxside)
		g->sy++;
	while ((uint64_t)(((w - 1) >> g->sx) + 1) *
	    (uint64_t)(((h - 1) >> g->sy) + 1) > 2 * cells) {
		if ((w >> g->sx) >= (h >> g->sy))
			g->sx++;
		else
			g->sy++;
	}
	g->cw = (int64_t)1 << g->sx;
	g->ch = (int64_t)1 << g->sy;
	g->nx = (uint32_t)(((w - 1) >> g->sx) + 1);
	g->ny = (uint32_t)(((h - 1) >> g->sy) + 1);
}

/*
 * Visit, row by row, every cell that the segment a-b widened by wx, wy
 * (lattice units) may touch.  Conservative: the x-range of the part of the
 * segment inside a row's closed band is widened by one more cell, which
 * absorbs the rounding of the interpolation.
 */
static void
fence_raster_seg(const struct fence_raster *g, int32_t ax, int32_t ay,
    int32_t bx, int32_t by, int64_t wx, int64_t wy, fence_visit_fn *fn,
    void *arg, uint32_t id)
{
	int64_t	 ymin = MINV(ay, by), ymax = MAXV(ay, by);
	int64_t	 r0, r1, r, c0, c1;
	double	 lo, hi, sy0, sy1, xa, xb, xlo, xhi;

	r0 = fence_floordiv(ymin - wy - g->y0, g->ch);
	r1 = fence_floordiv(ymax + wy - g->y0, g->ch);
	if (r0 < 0)
		r0 = 0;
	if (r1 > (int64_t)g->ny - 1)
		r1 = (int64_t)g->ny - 1;
	for (r = r0; r <= r1; r++) {
		lo = (double)(g->y0 + r * g->ch - wy);
		hi = (double)(g->y0 + (r + 1) * g->ch + wy);
		sy0 = MAXV(lo, (double)ymin);
		sy1 = MINV(hi, (double)ymax);
		if (ay == by) {
			xa = ax;
			xb = bx;
		} else {
			xa = ax + (double)(bx - ax) * (sy0 - ay) / (by - ay);
			xb = ax + (double)(bx - ax) * (sy1 - ay) / (by - ay);
		}
		xlo = MINV(xa, xb) - (double)wx;
		xhi = MAXV(xa, xb) + (double)wx;
		c0 = (int64_t)floor((xlo - (double)g->x0) / (double)g->cw) - 1;
		c1 = (int64_t)floor((xhi - (double)g->x0) / (double)g->cw) + 1;
		if (c0 < 0)
			c0 = 0;
		if (c1 > (int64_t)g->nx - 1)
			c1 = (int64_t)g->nx - 1;
		if (c0 <= c1)
			fn(arg, (uint32_t)r, (uint32_t)c0, (uint32_t)c1, id);
	}
}

/* Compressed cell -> id lists, built in two passes over the same
 * rasterization (count, then fill). */
struct fence_csr {
	const struct fence_raster *g;
	uint32_t	*off;		/* ncells + 1 */
	uint32_t	*ids;
	uint32_t	*pos;
	bool		 fill;
};

static void
fence_csr_visit(void *arg, uint32_t row, uint32_t c0, uint32_t c1,
    uint32_t id)
{
	struct fence_csr *cs = arg;
	size_t		 base = (size_t)row * cs->g->nx, c;

	for (c = c0; c <= c1; c++) {
		if (cs->fill)
			cs->ids[cs->pos[base + c]++] = id;
		else
			cs->off[base + c + 1]++;
	}
}

static void
fence_csr_prefix(struct fence_csr *cs, size_t ncells)
{
	size_t	 c;

	for (c = 0; c < ncells; c++)
		cs->off[c + 1] += cs->off[c];
	cs->ids = xreallocarray(NULL, MAXV(cs->off[ncells], 1),
	    sizeof(*cs->ids));
	cs->pos = xreallocarray(NULL, ncells, sizeof(*cs->pos));
	memcpy(cs->pos, cs->off, ncells * sizeof(*cs->pos));
	cs->fill = true;
}

/* ------------------------------------------------------------------ */
/* Per-fence indexes */

struct fence_pg_ctx {
	struct fence_pgrid *pg;
	const int32_t	*seg;		/* the edge being visited */
	uint32_t	*pos;
	bool		 fill;
};

static void
fence_pg_visit(void *arg, uint32_t row, uint32_t c0, uint32_t c1,
    uint32_t id)
{
	struct fence_pg_ctx *cx = arg;
	struct fence_pgrid *pg = cx->pg;
	size_t		 base = (size_t)row * pg->g.nx, c;

	(void)id;
	if (cx->fill) {
		memcpy(pg->slab_seg + 4 * (size_t)cx->pos[row]++, cx->seg,
		    4 * sizeof(int32_t));
		return;
	}
	pg->slab_off[row + 1]++;
	for (c = c0; c <= c1; c++)
		fence_cell_set(pg->cls, base + c, CELL_MIXED);
}

static void
fence_pgrid_build(struct fence *f)
{
	struct fence_pgrid *pg;
	struct fence_pg_ctx cx;
	uint64_t	 cells;
	size_t		 ncells, base, c;
	uint32_t	 r, i, s, e, prev, row;
	int32_t		 seg[4], cxp, cyp;
	enum fence_loc	 loc;
	unsigned	 last;
	int		 pass;

	pg = xcalloc(1, sizeof(*pg));
	cells = (uint64_t)f->nv * PG_CELLS_PER_EDGE;
	cells = MAXV(cells, PG_MIN_CELLS);
	cells = MINV(cells, PG_MAX_CELLS);
	fence_raster_init(&pg->g, f->bx0, f->by0, f->bx1, f->by1, cells,
	    PG_MAX_SIDE);
	ncells = (size_t)pg->g.nx * pg->g.ny;
	pg->cls = xcalloc((ncells + 3) / 4, 1);
	pg->slab_off = xcalloc(pg->g.ny + 1, sizeof(*pg->slab_off));
	memset(&cx, 0, sizeof(cx));
	cx.pg = pg;
	cx.seg = seg;
	for (pass = 0; pass < 2; pass++) {
		for (r = 0; r < f->nrings; r++) {
			s = fence_ring_start(f, r);
			e = f->ring_end[r];
			for (i = s, prev = e - 1; i < e; prev = i++) {
				seg[0] = f->xy[2 * prev];
				seg[1] = f->xy[2 * prev + 1];
				seg[2] = f->xy[2 * i];
				seg[3] = f->xy[2 * i + 1];
				fence_raster_seg(&pg->g, seg[0], seg[1],
				    seg[2], seg[3], 0, 0, fence_pg_visit, &cx,
				    0);
			}
		}
		if (pass == 0) {
			for (row = 0; row < pg->g.ny; row++)
				pg->slab_off[row + 1] += pg->slab_off[row];
			pg->slab_seg = xreallocarray(NULL,
			    MAXV(pg->slab_off[pg->g.ny], 1),
			    4 * sizeof(int32_t));
			cx.pos = xreallocarray(NULL, pg->g.ny,
			    sizeof(*cx.pos));
			memcpy(cx.pos, pg->slab_off,
			    pg->g.ny * sizeof(*cx.pos));
			cx.fill = true;
		}
	}
	free(cx.pos);

	/*
	 * Classify the free cells.  Two neighbours in a row that no edge
	 * touches are joined by a segment no edge meets, so they share
	 * their class: only the first free cell after a MIXED run needs an
	 * exact test of its centre.
	 */
	for (row = 0; row < pg->g.ny; row++) {
		base = (size_t)row * pg->g.nx;
		last = CELL_MIXED;
		cyp = (int32_t)(pg->g.y0 + row * pg->g.ch + pg->g.ch / 2);
		for (c = 0; c < pg->g.nx; c++) {
			if (fence_cell_get(pg->cls, base + c) == CELL_MIXED) {
				last = CELL_MIXED;
				continue;
			}
			if (last == CELL_MIXED) {
				cxp = (int32_t)(pg->g.x0 + (int64_t)c *
				    pg->g.cw + pg->g.cw / 2);
				loc = fence_slab_locate(pg, row, cxp, cyp);
				/* ON cannot happen in a free cell; stay
				 * safe if it does */
				last = loc == FENCE_IN ? CELL_IN :
				    loc == FENCE_OUT ? CELL_OUT : CELL_MIXED;
			}
			fence_cell_set(pg->cls, base + c, last);
		}
	}
	f->pg = pg;
	f->mem += sizeof(*pg) + (ncells + 3) / 4 +
	    (pg->g.ny + 1) * sizeof(uint32_t) +
	    (size_t)MAXV(pg->slab_off[pg->g.ny], 1) * 4 * sizeof(int32_t);
}

static void
fence_pgrid_free(struct fence_pgrid *pg)
{
	if (pg == NULL)
		return;
	free(pg->cls);
	free(pg->slab_off);
	free(pg->slab_seg);
	free(pg);
}

/* Half width of a corridor, in lattice units along x and y, rounded
 * up: the margin by which segments are widened in the buckets and the
 * bbox. */
static void
fence_corridor_margin(const struct fence *f, int64_t *wx, int64_t *wy)
{
	double	 dlat, maxlat, c;

	dlat = f->u.k.h / M_PER_DEG;
	*wy = (int64_t)ceil(dlat * UNITS_PER_DEG * 1.001) + 2;
	maxlat = MAXV(fabs(f->by0 / UNITS_PER_DEG),
	    fabs(f->by1 / UNITS_PER_DEG)) + 2 * dlat;
	c = maxlat >= 89.9 ? 0 : cos(maxlat * M_PI / 180.0);
	if (c < 1e-3)
		*wx = (int64_t)LON_MAX_U * 2;
	else
		*wx = (int64_t)ceil(dlat / c * UNITS_PER_DEG * 1.001) + 2;
}

static void
fence_cgrid_build(struct fence *f, int64_t wx, int64_t wy)
{
	struct fence_cgrid *cg;
	struct fence_csr cs;
	uint32_t	 nseg = f->nv - 1, i;
	size_t		 ncells;
	int		 pass;

	cg = xcalloc(1, sizeof(*cg));
	fence_raster_init(&cg->g, f->bx0, f->by0, f->bx1, f->by1,
	    MINV((uint64_t)nseg * 2, 1u << 16), 1024);
	ncells = (size_t)cg->g.nx * cg->g.ny;
	memset(&cs, 0, sizeof(cs));
	cs.g = &cg->g;
	cs.off = xcalloc(ncells + 1, sizeof(*cs.off));
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < nseg; i++)
			fence_raster_seg(&cg->g, f->xy[2 * i],
			    f->xy[2 * i + 1], f->xy[2 * i + 2],
			    f->xy[2 * i + 3], wx, wy, fence_csr_visit, &cs, i);
		if (pass == 0)
			fence_csr_prefix(&cs, ncells);
	}
	free(cs.pos);
	cg->off = cs.off;
	cg->seg = cs.ids;
	f->cg = cg;
	f->mem += sizeof(*cg) + (ncells + 1) * sizeof(uint32_t) +
	    (size_t)MAXV(cs.off[ncells], 1) * sizeof(uint32_t);
}

static void
fence_cgrid_free(struct fence_cgrid *cg)
{
	if (cg == NULL)
		return;
	free(cg->off);
	free(cg->seg);
	free(cg);
}

static void
fence_clear(struct fence *f)
{
	free((char *)f->info.id);	/* the string block */
	free(f->xy);
	free(f->ring_end);
	if (f->info.shape == FENCE_SHAPE_CORRIDOR)
		free(f->u.k.kx);
	fence_pgrid_free(f->pg);
	fence_cgrid_free(f->cg);
	memset(f, 0, sizeof(*f));
}

/* ------------------------------------------------------------------ */
/* Validation of rings */

/* "ring R" or "part P ring R", 1-based. */
static void
fence_ring_label(const struct fence *f, uint32_t r, char *buf, size_t len)
{
	uint32_t	 p;

	for (p = 0; p + 1 < f->nparts && fence_part_first(f, p + 1) <= r;
	    p++)
		;
	if (f->nparts == 1)
		snprintf(buf, len, "ring %u", r + 1);
	else
		snprintf(buf, len, "part %u ring %u", p + 1,
		    r - fence_part_first(f, p) + 1);
}

/* Point q is collinear with a-b: is it within the segment? */
static inline bool
fence_on_seg(const int32_t *a, const int32_t *b, const int32_t *q)
{
	return q[0] >= MINV(a[0], b[0]) && q[0] <= MAXV(a[0], b[0]) &&
	    q[1] >= MINV(a[1], b[1]) && q[1] <= MAXV(a[1], b[1]);
}

#define MEET_NONE	0
#define MEET_TOUCH	1	/* one common point */
#define MEET_CROSS	2	/* proper crossing */
#define MEET_OVERLAP	3	/* collinear, common part of positive length */

/* How segments p1-p2 and q1-q2 meet; *ix, *iy a common point (lattice). */
static int
fence_seg_meet(const int32_t *p1, const int32_t *p2, const int32_t *q1,
    const int32_t *q2, double *ix, double *iy)
{
	int	 o1, o2, o3, o4, ax;
	int32_t	 plo, phi, qlo, qhi, lo, hi;
	double	 den, t;

	if (MAXV(p1[0], p2[0]) < MINV(q1[0], q2[0]) ||
	    MAXV(q1[0], q2[0]) < MINV(p1[0], p2[0]) ||
	    MAXV(p1[1], p2[1]) < MINV(q1[1], q2[1]) ||
	    MAXV(q1[1], q2[1]) < MINV(p1[1], p2[1]))
		return MEET_NONE;
	o1 = fence_orient(p1[0], p1[1], p2[0], p2[1], q1[0], q1[1]);
	o2 = fence_orient(p1[0], p1[1], p2[0], p2[1], q2[0], q2[1]);
	o3 = fence_orient(q1[0], q1[1], q2[0], q2[1], p1[0], p1[1]);
	o4 = fence_orient(q1[0], q1[1], q2[0], q2[1], p2[0], p2[1]);
	if (o1 != 0 && o2 != 0 && o3 != 0 && o4 != 0) {
		if (o1 == o2 || o3 == o4)
			return MEET_NONE;
		den = (double)(p2[0] - p1[0]) * (q2[1] - q1[1]) -
		    (double)(p2[1] - p1[1]) * (q2[0] - q1[0]);
		t = ((double)(q1[0] - p1[0]) * (q2[1] - q1[1]) -
		    (double)(q1[1] - p1[1]) * (q2[0] - q1[0])) / den;
		*ix = p1[0] + t * (p2[0] - p1[0]);
		*iy = p1[1] + t * (p2[1] - p1[1]);
		return MEET_CROSS;
	}
	if (o1 == 0 && o2 == 0) {
		/* collinear: compare the projections on the longer axis */
		ax = p1[0] != p2[0] ? 0 : 1;
		plo = MINV(p1[ax], p2[ax]);
		phi = MAXV(p1[ax], p2[ax]);
		qlo = MINV(q1[ax], q2[ax]);
		qhi = MAXV(q1[ax], q2[ax]);
		lo = MAXV(plo, qlo);
		hi = MINV(phi, qhi);
		if (lo > hi)
			return MEET_NONE;
		if (p1[ax] == lo && fence_on_seg(q1, q2, p1)) {
			*ix = p1[0];
			*iy = p1[1];
		} else if (p2[ax] == lo && fence_on_seg(q1, q2, p2)) {
			*ix = p2[0];
			*iy = p2[1];
		} else if (q1[ax] == lo) {
			*ix = q1[0];
			*iy = q1[1];
		} else {
			*ix = q2[0];
			*iy = q2[1];
		}
		return lo == hi ? MEET_TOUCH : MEET_OVERLAP;
	}
	if (o1 == 0 && fence_on_seg(p1, p2, q1)) {
		*ix = q1[0];
		*iy = q1[1];
		return MEET_TOUCH;
	}
	if (o2 == 0 && fence_on_seg(p1, p2, q2)) {
		*ix = q2[0];
		*iy = q2[1];
		return MEET_TOUCH;
	}
	if (o3 == 0 && fence_on_seg(q1, q2, p1)) {
		*ix = p1[0];
		*iy = p1[1];
		return MEET_TOUCH;
	}
	if (o4 == 0 && fence_on_seg(q1, q2, p2)) {
		*ix = p2[0];
		*iy = p2[1];
		return MEET_TOUCH;
	}
	return MEET_NONE;
}

struct fence_val {
	const struct fence *f;
	uint32_t	*ering;		/* ring of each edge */
	uint32_t	*enext;		/* end vertex of each edge */
};

/* Test a pair of edges; 0, or -1 with the reason. */
static int
fence_pair_check(const struct fence_val *v, uint32_t a, uint32_t b,
    char *why, size_t whylen)
{
	const struct fence *f = v->f;
	const int32_t	*xy = f->xy;
	char		 la[40], lb[40];
	double		 ix = 0, iy = 0;
	int		 m;
	bool		 adjacent;

	m = fence_seg_meet(xy + 2 * a, xy + 2 * v->enext[a], xy + 2 * b,
	    xy + 2 * v->enext[b], &ix, &iy);
	if (m == MEET_NONE)
		return 0;
	ix /= UNITS_PER_DEG;
	iy /= UNITS_PER_DEG;
	fence_ring_label(f, v->ering[a], la, sizeof(la));
	if (v->ering[a] == v->ering[b]) {
		/* adjacent edges: spikes are checked before */
		adjacent = v->enext[a] == b || v->enext[b] == a;
		if (adjacent)
			return 0;
		return fence_err(why, whylen, "%s crosses itself near "
		    "(%.7f, %.7f)", la, ix, iy);
	}
	if (m == MEET_TOUCH)
		return 0;
	fence_ring_label(f, v->ering[b], lb, sizeof(lb));
	if (v->ering[a] > v->ering[b]) {
		char	 t[40];

		memcpy(t, la, sizeof(t));
		memcpy(la, lb, sizeof(la));
		memcpy(lb, t, sizeof(lb));
	}
	return fence_err(why, whylen, "%s and %s %s near (%.7f, %.7f)", la,
	    lb, m == MEET_CROSS ? "cross" : "overlap along an edge", ix, iy);
}

/* Location of ring ra relative to rings [r0, r1): the first vertex of
 * ra not on their boundary decides (rings do not cross, checked first). */
static enum fence_loc
fence_ring_rel(const struct fence *f, uint32_t ra, uint32_t r0, uint32_t r1)
{
	uint32_t	 i, s = fence_ring_start(f, ra), e = f->ring_end[ra];
	enum fence_loc	 loc;

	for (i = s; i < e; i++) {
		loc = fence_rings_locate(f, r0, r1, f->xy[2 * i],
		    f->xy[2 * i + 1]);
		if (loc != FENCE_ON)
			return loc;
	}
	return FENCE_ON;
}

static void
fence_ring_bbox(const struct fence *f, uint32_t r, int32_t *bb)
{
	uint32_t	 i;

	bb[0] = bb[1] = INT32_MAX;
	bb[2] = bb[3] = INT32_MIN;
	for (i = fence_ring_start(f, r); i < f->ring_end[r]; i++) {
		bb[0] = MINV(bb[0], f->xy[2 * i]);
		bb[1] = MINV(bb[1], f->xy[2 * i + 1]);
		bb[2] = MAXV(bb[2], f->xy[2 * i]);
		bb[3] = MAXV(bb[3], f->xy[2 * i + 1]);
	}
}

static bool
fence_bb_meet(const int32_t *a, const int32_t *b)
{
	return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

static int
fence_check_nesting(const struct fence *f, char *why, size_t whylen)
{
	int32_t		*bb;
	uint32_t	 p, q, h, h2, s, e, sq, eq;
	char		 la[40], lb[40];
	int		 rc = -1;

	bb = xreallocarray(NULL, f->nrings, 4 * sizeof(int32_t));
	for (h = 0; h < f->nrings; h++)
		fence_ring_bbox(f, h, bb + 4 * h);
	for (p = 0; p < f->nparts; p++) {
		s = fence_part_first(f, p);
		e = fence_part_first(f, p + 1);
		for (h = s + 1; h < e; h++) {
			fence_ring_label(f, h, la, sizeof(la));
			if (fence_ring_rel(f, h, s, s + 1) != FENCE_IN) {
				fence_err(why, whylen, "%s (a hole) is not "
				    "inside its shell", la);
				goto out;
			}
			for (h2 = s + 1; h2 < e; h2++) {
				if (h2 == h || !fence_bb_meet(bb + 4 * h,
				    bb + 4 * h2))
					continue;
				if (fence_ring_rel(f, h, h2, h2 + 1) ==
				    FENCE_IN) {
					fence_ring_label(f, h2, lb,
					    sizeof(lb));
					fence_err(why, whylen, "%s (a hole) is "
					    "inside %s (another hole)", la, lb);
					goto out;
				}
			}
		}
		for (q = 0; q < f->nparts; q++) {
			sq = fence_part_first(f, q);
			eq = fence_part_first(f, q + 1);
			if (q == p || !fence_bb_meet(bb + 4 * s, bb + 4 * sq))
				continue;
			if (fence_ring_rel(f, s, sq, eq) == FENCE_IN) {
				fence_err(why, whylen, "part %u is inside "
				    "part %u", p + 1, q + 1);
				goto out;
			}
		}
	}
	rc = 0;
 out:
	free(bb);
	return rc;
}

/*
 * Rings must be simple and not cross each other.  Edges are bucketed in a
 * uniform grid (about one cell per edge) by the cells they may touch, and
 * only pairs sharing a cell are tested exactly: linear in practice even
 * for 30k-vertex outlines.
 */
static int
fence_check_rings(const struct fence *f, char *why, size_t whylen)
{
	struct fence_val v;
	struct fence_raster g;
	struct fence_csr cs;
	uint32_t	 r, i, s, e, a, b;
	size_t		 ncells, c;
	int		 pass, rc = 0;
	char		 lab[40];

	v.f = f;
	v.ering = xreallocarray(NULL, f->nv, sizeof(*v.ering));
	v.enext = xreallocarray(NULL, f->nv, sizeof(*v.enext));
	for (r = 0; r < f->nrings; r++) {
		s = fence_ring_start(f, r);
		e = f->ring_end[r];
		for (i = s; i < e; i++) {
			v.ering[i] = r;
			v.enext[i] = i + 1 < e ? i + 1 : s;
		}
	}
	/*
	 * Adjacent edges share their common vertex and nothing else unless
	 * the ring turns back on itself there (a spike): collinear and on
	 * the same side of the vertex.
	 */
	for (i = 0; i < f->nv && rc == 0; i++) {
		const int32_t *u, *w, *p = f->xy + 2 * (size_t)v.enext[i];

		u = f->xy + 2 * (size_t)i;
		w = f->xy + 2 * (size_t)v.enext[v.enext[i]];
		if (fence_orient(u[0], u[1], p[0], p[1], w[0], w[1]) == 0 &&
		    (int64_t)(u[0] - p[0]) * (w[0] - p[0]) +
		    (int64_t)(u[1] - p[1]) * (w[1] - p[1]) > 0) {
			fence_ring_label(f, v.ering[i], lab, sizeof(lab));
			rc = fence_err(why, whylen, "%s has a spike near "
			    "(%.7f, %.7f)", lab, p[0] / UNITS_PER_DEG,
			    p[1] / UNITS_PER_DEG);
		}
	}
	if (rc == -1)
		goto out;
	fence_raster_init(&g, f->bx0, f->by0, f->bx1, f->by1,
	    MINV((uint64_t)f->nv, VAL_MAX_CELLS), 1u << 16);
	ncells = (size_t)g.nx * g.ny;
	memset(&cs, 0, sizeof(cs));
	cs.g = &g;
	cs.off = xcalloc(ncells + 1, sizeof(*cs.off));
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < f->nv; i++)
			fence_raster_seg(&g, f->xy[2 * i], f->xy[2 * i + 1],
			    f->xy[2 * v.enext[i]], f->xy[2 * v.enext[i] + 1],
			    0, 0, fence_csr_visit, &cs, i);
		if (pass == 0)
			fence_csr_prefix(&cs, ncells);
	}
	for (c = 0; c < ncells && rc == 0; c++)
		for (a = cs.off[c]; a < cs.off[c + 1] && rc == 0; a++)
			for (b = a + 1; b < cs.off[c + 1] && rc == 0; b++)
				rc = fence_pair_check(&v, cs.ids[a],
				    cs.ids[b], why, whylen);
	free(cs.off);
	free(cs.ids);
	free(cs.pos);
 out:
	free(v.ering);
	free(v.enext);
	if (rc == 0)
		rc = fence_check_nesting(f, why, whylen);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Builder */

static uint32_t
fence_hash_str(const char *s)
{
	uint32_t	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* Slot of id in the table (holding idx + 1, 0 empty), found or empty. */
static size_t
fence_hash_slot(const uint32_t *tab, size_t cap, const struct fence *f,
    const char *id)
{
	size_t	 i = fence_hash_str(id) & (cap - 1);

	while (tab[i] != 0 && strcmp(f[tab[i] - 1].info.id, id) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static void
fence_hash_grow(struct fence_builder *b)
{
	uint32_t	*nt;
	size_t		 ncap = b->hcap == 0 ? 64 : b->hcap * 2, i;

	nt = xcalloc(ncap, sizeof(*nt));
	for (i = 0; i < b->n; i++)
		nt[fence_hash_slot(nt, ncap, b->f, b->f[i].info.id)] =
		    (uint32_t)i + 1;
	free(b->hash);
	b->hash = nt;
	b->hcap = ncap;
}

struct fence_builder *
fence_builder_new(void)
{
	struct fence_builder *b;

	b = xcalloc(1, sizeof(*b));
	fence_hash_grow(b);
	return b;
}

static void
fence_builder_reset(struct fence_builder *b)
{
	fence_clear(&b->cur);
	b->nraw = b->nrring = b->nrpart = 0;
	b->state = BS_IDLE;
}

void
fence_builder_free(struct fence_builder *b)
{
	size_t	 i;

	if (b == NULL)
		return;
	fence_builder_reset(b);
	for (i = 0; i < b->n; i++)
		fence_clear(&b->f[i]);
	free(b->f);
	free(b->hash);
	free(b->raw);
	free(b->rring);
	free(b->rpart);
	free(b);
}

size_t
fence_builder_count(const struct fence_builder *b)
{
	return b->n;
}

/* Printable UTF-8 without control characters (C0, DEL, C1). */
static bool
fence_id_ok(const char *s)
{
	const uint8_t	*p = (const uint8_t *)s;
	uint32_t	 cp;
	int		 n, k;

	while (*p != 0) {
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return false;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else
			return false;
		for (k = 1; k <= n; k++) {
			if ((p[k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 &&
		    cp <= 0x9f))
			return false;
		p += n + 1;
	}
	return true;
}

int
fence_builder_begin(struct fence_builder *b, const struct fence_spec *sp,
    char *why, size_t whylen)
{
	struct fence_info *in;
	const char	*name, *cat;
	size_t		 li, ln, lc;
	char		*blk;

	fence_builder_reset(b);
	if (sp->id == NULL || (li = strlen(sp->id)) == 0)
		return fence_err(why, whylen, "missing id");
	if (li > FENCE_ID_MAX)
		return fence_err(why, whylen, "id longer than %d bytes",
		    FENCE_ID_MAX);
	if (!fence_id_ok(sp->id))
		return fence_err(why, whylen, "id is not printable utf-8");
	if (b->hash[fence_hash_slot(b->hash, b->hcap, b->f, sp->id)] != 0)
		return fence_err(why, whylen, "duplicate id");
	if ((unsigned)sp->kind >= NELEM(kind_names))
		return fence_err(why, whylen, "unknown kind");
	if ((unsigned)sp->crs > GEO_CRS_BD09)
		return fence_err(why, whylen, "unknown crs");
	if (!isfinite(sp->speed_limit_kmh) || (sp->speed_limit_kmh != 0 &&
	    (sp->speed_limit_kmh < 1 || sp->speed_limit_kmh > 300)))
		return fence_err(why, whylen, "speed limit must be 0 or "
		    "1..300 km/h");
	if (sp->dwell_s < -1 || sp->dwell_s > 86400)
		return fence_err(why, whylen, "dwell must be -1 or 0..86400 s");
	name = sp->name != NULL ? sp->name : "";
	cat = sp->category != NULL ? sp->category : "";
	ln = strlen(name);
	lc = strlen(cat);
	/* one block: id, name, category */
	blk = xmalloc(li + ln + lc + 3);
	memcpy(blk, sp->id, li + 1);
	memcpy(blk + li + 1, name, ln + 1);
	memcpy(blk + li + ln + 2, cat, lc + 1);
	in = &b->cur.info;
	in->id = blk;
	in->name = blk + li + 1;
	in->category = blk + li + ln + 2;
	in->kind = sp->kind;
	in->crs = sp->crs;
	in->speed_limit_kmh = sp->speed_limit_kmh;
	in->dwell_s = sp->dwell_s;
	b->cur.mem = b->cur.smem = li + ln + lc + 3;
	b->state = BS_BEGUN;
	return 0;
}

static int
fence_check_point(double lon, double lat, size_t i, char *why,
    size_t whylen)
{
	if (!isfinite(lon) || !isfinite(lat))
		return fence_err(why, whylen, "point %zu is not finite", i + 1);
	if (lon < -180.0 || lon > 180.0)
		return fence_err(why, whylen, "point %zu: longitude %.7f out "
		    "of range [-180, 180]", i + 1, lon);
	if (lat < -90.0 || lat > 90.0)
		return fence_err(why, whylen, "point %zu: latitude %.7f out "
		    "of range [-90, 90]%s", i + 1, lat,
		    fabs(lon) <= 90.0 ? " (are longitude and latitude "
		    "swapped? GeoJSON and the config take [lon, lat])" : "");
	return 0;
}

/* Fails and discards the fence being built. */
static int
fence_fail(struct fence_builder *b)
{
	fence_builder_reset(b);
	return -1;
}

static int
fence_geometry_state(struct fence_builder *b, char *why, size_t whylen)
{
	if (b->state == BS_IDLE)
		return fence_err(why, whylen, "no fence begun");
	if (b->state != BS_BEGUN)
		return fence_err(why, whylen, "fence already has a geometry");
	return 0;
}

static void
fence_raw_add(struct fence_builder *b, double lon, double lat)
{
	if (b->nraw == b->rawcap) {
		b->rawcap = b->rawcap == 0 ? 256 : b->rawcap * 2;
		b->raw = xreallocarray(b->raw, b->rawcap, 2 * sizeof(double));
	}
	b->raw[2 * b->nraw] = lon;
	b->raw[2 * b->nraw + 1] = lat;
	b->nraw++;
}

static void
fence_u32_add(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*a = xreallocarray(*a, *cap, sizeof(**a));
	}
	(*a)[(*n)++] = v;
}

static int
fence_radius_check(double r, const char *what, char *why, size_t whylen)
{
	if (!isfinite(r) || r <= 0)
		return fence_err(why, whylen, "%s must be positive and finite",
		    what);
	if (r > FENCE_MAX_RADIUS_M)
		return fence_err(why, whylen, "%s %.1f m is above the maximum "
		    "%.0f m", what, r, FENCE_MAX_RADIUS_M);
	return 0;
}

int
fence_builder_circle(struct fence_builder *b, double lon, double lat,
    double radius_m, char *why, size_t whylen)
{
	if (fence_geometry_state(b, why, whylen) == -1 ||
	    fence_check_point(lon, lat, 0, why, whylen) == -1 ||
	    fence_radius_check(radius_m, "radius", why, whylen) == -1)
		return fence_fail(b);
	b->clon = lon;
	b->clat = lat;
	b->radius_m = radius_m;
	b->state = BS_CIRCLE;
	return 0;
}

int
fence_builder_rect(struct fence_builder *b, double west, double south,
    double east, double north, char *why, size_t whylen)
{
	if (fence_geometry_state(b, why, whylen) == -1 ||
	    fence_check_point(west, south, 0, why, whylen) == -1 ||
	    fence_check_point(east, north, 1, why, whylen) == -1)
		return fence_fail(b);
	if (!(west < east) || !(south < north)) {
		fence_err(why, whylen, "rectangle needs west < east and "
		    "south < north");
		return fence_fail(b);
	}
	/* counter-clockwise, then a polygon like any other */
	fence_raw_add(b, west, south);
	fence_raw_add(b, east, south);
	fence_raw_add(b, east, north);
	fence_raw_add(b, west, north);
	fence_u32_add(&b->rpart, &b->nrpart, &b->rpartcap, 0);
	fence_u32_add(&b->rring, &b->nrring, &b->rringcap, 4);
	b->state = BS_RECT;
	return 0;
}

static int
fence_points_add(struct fence_builder *b, const double *lonlat,
    size_t npoints, char *why, size_t whylen)
{
	size_t	 i;

	if (npoints > FENCE_MAX_VERTICES ||
	    b->nraw + npoints > FENCE_MAX_VERTICES)
		return fence_err(why, whylen, "more than %d vertices",
		    FENCE_MAX_VERTICES);
	for (i = 0; i < npoints; i++) {
		if (fence_check_point(lonlat[2 * i], lonlat[2 * i + 1],
		    i, why, whylen) == -1)
			return -1;
		fence_raw_add(b, lonlat[2 * i], lonlat[2 * i + 1]);
	}
	return 0;
}

int
fence_builder_corridor(struct fence_builder *b, const double *lonlat,
    size_t npoints, double width_m, char *why, size_t whylen)
{
	if (fence_geometry_state(b, why, whylen) == -1)
		return fence_fail(b);
	if (!isfinite(width_m) || width_m <= 0) {
		fence_err(why, whylen, "width must be positive and finite");
		return fence_fail(b);
	}
	if (width_m / 2 > FENCE_MAX_RADIUS_M) {
		fence_err(why, whylen, "corridor too wide: %.1f m, the "
		    "maximum is %.0f m", width_m, 2 * FENCE_MAX_RADIUS_M);
		return fence_fail(b);
	}
	if (fence_points_add(b, lonlat, npoints, why, whylen) == -1)
		return fence_fail(b);
	b->width_m = width_m;
	b->state = BS_CORRIDOR;
	return 0;
}

int
fence_builder_part(struct fence_builder *b, char *why, size_t whylen)
{
	if (b->state == BS_BEGUN)
		b->state = BS_POLY;
	else if (b->state != BS_POLY) {
		if (b->state == BS_IDLE)
			fence_err(why, whylen, "no fence begun");
		else
			fence_err(why, whylen, "part after another geometry");
		return fence_fail(b);
	}
	if (b->nrpart > 0 && b->rpart[b->nrpart - 1] == b->nrring) {
		fence_err(why, whylen, "part %zu has no ring", b->nrpart);
		return fence_fail(b);
	}
	fence_u32_add(&b->rpart, &b->nrpart, &b->rpartcap,
	    (uint32_t)b->nrring);
	return 0;
}

int
fence_builder_ring(struct fence_builder *b, const double *lonlat,
    size_t npoints, char *why, size_t whylen)
{
	if (b->state != BS_POLY || b->nrpart == 0) {
		fence_err(why, whylen, b->state == BS_IDLE ? "no fence begun" :
		    "ring outside a part");
		return fence_fail(b);
	}
	if (fence_points_add(b, lonlat, npoints, why, whylen) == -1)
		return fence_fail(b);
	fence_u32_add(&b->rring, &b->nrring, &b->rringcap,
	    (uint32_t)b->nraw);
	return 0;
}

/*
 * Densify (gcj02, bd09) and convert the drawn rings or polyline in
 * b->raw to WGS-84, snap, drop consecutive duplicates.  closed: rings
 * (the edge back to the first vertex counts).  Fills cur.xy, ring_end.
 */
static int
fence_convert(struct fence_builder *b, bool closed, char *why,
    size_t whylen)
{
	struct fence	*f = &b->cur;
	bool		 dens = f->info.crs == GEO_CRS_GCJ02 ||
			    f->info.crs == GEO_CRS_BD09;
	uint64_t	 total = 0;
	uint32_t	*pieces = NULL, r, np;
	size_t		 i, s, e, j, k, n, out = 0;
	double		 lon, lat, lon2, lat2, len, wlon, wlat;
	int64_t		 x, y;
	char		 lab[40];

	if (dens)
		pieces = xreallocarray(NULL, MAXV(b->nraw, 1),
		    sizeof(*pieces));
	for (r = 0; r < b->nrring; r++) {
		s = r == 0 ? 0 : b->rring[r - 1];
		e = b->rring[r];
		for (i = s; i < e; i++) {
			np = 1;
			if (dens && (closed || i + 1 < e)) {
				j = i + 1 < e ? i + 1 : s;
				len = geo_distance_m(b->raw[2 * i + 1],
				    b->raw[2 * i], b->raw[2 * j + 1],
				    b->raw[2 * j]);
				if (len > FENCE_DENSIFY_M)
					np = (uint32_t)ceil(len /
					    FENCE_DENSIFY_M);
			}
			if (dens)
				pieces[i] = np;
			total += np;
		}
	}
	if (total > FENCE_MAX_VERTICES) {
		free(pieces);
		return fence_err(why, whylen, "more than %d vertices after "
		    "densification", FENCE_MAX_VERTICES);
	}
	f->xy = xreallocarray(NULL, MAXV(total, 1), 2 * sizeof(int32_t));
	f->nrings = (uint32_t)b->nrring;
	f->nparts = (uint32_t)b->nrpart;
	f->ring_end = xreallocarray(NULL, f->nrings + f->nparts + 1,
	    sizeof(uint32_t));
	for (r = 0; r < b->nrpart; r++)
		f->ring_end[f->nrings + r] = b->rpart[r];
	f->ring_end[f->nrings + f->nparts] = f->nrings;
	for (r = 0; r < b->nrring; r++) {
		s = r == 0 ? 0 : b->rring[r - 1];
		e = b->rring[r];
		n = out;
		for (i = s; i < e; i++) {
			np = dens ? pieces[i] : 1;
			j = i + 1 < e ? i + 1 : s;
			for (k = 0; k < np; k++) {
				lon = b->raw[2 * i];
				lat = b->raw[2 * i + 1];
				if (k > 0) {
					/* linear in the drawn lon/lat */
					lon2 = b->raw[2 * j];
					lat2 = b->raw[2 * j + 1];
					lon += (lon2 - lon) * k / np;
					lat += (lat2 - lat) * k / np;
				}
				geo_to_wgs84(f->info.crs, lon, lat, &wlon,
				    &wlat);
				if (!isfinite(wlon) || !isfinite(wlat) ||
				    wlon < -180.0 || wlon > 180.0 ||
				    wlat < -90.0 || wlat > 90.0) {
					free(pieces);
					return fence_err(why, whylen, "point "
					    "%zu is out of range after "
					    "conversion to wgs84", i - s + 1);
				}
				x = fence_round(wlon * UNITS_PER_DEG);
				y = fence_round(wlat * UNITS_PER_DEG);
				if (out > n && f->xy[2 * out - 2] == x &&
				    f->xy[2 * out - 1] == y)
					continue;
				f->xy[2 * out] = (int32_t)x;
				f->xy[2 * out + 1] = (int32_t)y;
				out++;
			}
		}
		/* the closing duplicate(s) */
		while (closed && out - n > 1 && f->xy[2 * out - 2] ==
		    f->xy[2 * n] && f->xy[2 * out - 1] == f->xy[2 * n + 1])
			out--;
		f->ring_end[r] = (uint32_t)out;
		f->nv = (uint32_t)out;
		if (closed && out - n < 3) {
			free(pieces);
			fence_ring_label(f, r, lab, sizeof(lab));
			return fence_err(why, whylen, "%s has fewer than 3 "
			    "distinct vertices", lab);
		}
	}
	free(pieces);
	f->nv = (uint32_t)out;
	if (!closed && out < 2)
		return fence_err(why, whylen, "corridor has fewer than 2 "
		    "distinct points");
	f->mem += (size_t)MAXV(total, 1) * 2 * sizeof(int32_t) +
	    (f->nrings + f->nparts + 1) * sizeof(uint32_t);
	return 0;
}

static int
fence_span_check(const double *xy, size_t n, char *why, size_t whylen)
{
	double	 x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
	size_t	 i;

	for (i = 0; i < n; i++) {
		x0 = MINV(x0, xy[2 * i]);
		x1 = MAXV(x1, xy[2 * i]);
		y0 = MINV(y0, xy[2 * i + 1]);
		y1 = MAXV(y1, xy[2 * i + 1]);
	}
	if (x1 - x0 > FENCE_MAX_SPAN_DEG || y1 - y0 > FENCE_MAX_SPAN_DEG)
		return fence_err(why, whylen, "fence spans more than %.0f "
		    "degrees", FENCE_MAX_SPAN_DEG);
	return 0;
}

static int
fence_lattice_bbox(struct fence *f, char *why, size_t whylen)
{
	uint32_t	 i;

	f->bx0 = f->by0 = INT32_MAX;
	f->bx1 = f->by1 = INT32_MIN;
	for (i = 0; i < f->nv; i++) {
		f->bx0 = MINV(f->bx0, f->xy[2 * i]);
		f->bx1 = MAXV(f->bx1, f->xy[2 * i]);
		f->by0 = MINV(f->by0, f->xy[2 * i + 1]);
		f->by1 = MAXV(f->by1, f->xy[2 * i + 1]);
	}
	/* after conversion too: the integer predicates rely on it */
	if ((int64_t)f->bx1 - f->bx0 > (int64_t)(FENCE_MAX_SPAN_DEG *
	    UNITS_PER_DEG) || (int64_t)f->by1 - f->by0 >
	    (int64_t)(FENCE_MAX_SPAN_DEG * UNITS_PER_DEG))
		return fence_err(why, whylen, "fence spans more than %.0f "
		    "degrees", FENCE_MAX_SPAN_DEG);
	return 0;
}

static int
fence_end_circle(struct fence_builder *b, char *why, size_t whylen)
{
	struct fence	*f = &b->cur;
	double		 wlon, wlat, rho, dlat, dlon, lat0, lat1, m, c;
	int64_t		 cx, cy;

	geo_to_wgs84(f->info.crs, b->clon, b->clat, &wlon, &wlat);
	if (!isfinite(wlon) || !isfinite(wlat) || wlon < -180.0 ||
	    wlon > 180.0 || wlat < -90.0 || wlat > 90.0)
		return fence_err(why, whylen, "centre is out of range after "
		    "conversion to wgs84");
	cx = fence_round(wlon * UNITS_PER_DEG);
	cy = fence_round(wlat * UNITS_PER_DEG);
	f->info.center_lon = cx / UNITS_PER_DEG;
	f->info.center_lat = cy / UNITS_PER_DEG;
	f->info.radius_m = b->radius_m;
	/* the spherical cap of geo_distance_m(), a little wider */
	rho = b->radius_m / GEO_EARTH_RADIUS_M;
	dlat = rho * 180.0 / M_PI * (1 + 1e-9) + 2e-7;
	lat0 = f->info.center_lat - dlat;
	lat1 = f->info.center_lat + dlat;
	c = cos(f->info.center_lat * M_PI / 180.0);
	if (lat0 <= -90.0 || lat1 >= 90.0 || sin(rho) >= c) {
		dlon = 360.0;
		lat0 = MAXV(lat0, -90.0);
		lat1 = MINV(lat1, 90.0);
	} else
		dlon = asin(sin(rho) / c) * 180.0 / M_PI * (1 + 1e-9) + 2e-7;
	f->info.min_lat = lat0;
	f->info.max_lat = lat1;
	f->info.min_lon = MAXV(f->info.center_lon - dlon, -180.0);
	f->info.max_lon = MINV(f->info.center_lon + dlon, 180.0);
	f->bx0 = (int32_t)floor(f->info.min_lon * UNITS_PER_DEG);
	f->by0 = (int32_t)floor(f->info.min_lat * UNITS_PER_DEG);
	f->bx1 = (int32_t)ceil(f->info.max_lon * UNITS_PER_DEG);
	f->by1 = (int32_t)ceil(f->info.max_lat * UNITS_PER_DEG);
	f->exact_only = fabs(f->info.center_lat) > CIRCLE_FAST_MAX_LAT ||
	    dlon >= 360.0;
	f->u.c.cosc = c;
	f->u.c.sinc = sin(f->info.center_lat * M_PI / 180.0);
	m = b->radius_m * CIRCLE_MARGIN_REL + CIRCLE_MARGIN_M;
	f->u.c.in2 = b->radius_m > m ? (b->radius_m - m) * (b->radius_m - m) :
	    -1.0;
	f->u.c.out2 = (b->radius_m + m) * (b->radius_m + m);
	f->info.shape = FENCE_SHAPE_CIRCLE;
	f->info.parts = 1;
	return 0;
}

static int
fence_end_corridor(struct fence_builder *b, char *why, size_t whylen)
{
	struct fence	*f = &b->cur;
	int64_t		 wx, wy;
	uint32_t	 i;
	double		 mid;

	if (fence_span_check(b->raw, b->nraw, why, whylen) == -1)
		return -1;
	fence_u32_add(&b->rring, &b->nrring, &b->rringcap,
	    (uint32_t)b->nraw);
	fence_u32_add(&b->rpart, &b->nrpart, &b->rpartcap, 0);
	if (fence_convert(b, false, why, whylen) == -1 ||
	    fence_lattice_bbox(f, why, whylen) == -1)
		return -1;
	f->info.shape = FENCE_SHAPE_CORRIDOR;
	f->u.k.h = b->width_m / 2;
	f->u.k.h2 = f->u.k.h * f->u.k.h;
	f->u.k.kx = xreallocarray(NULL, f->nv - 1, sizeof(double));
	f->mem += (f->nv - 1) * sizeof(double);
	for (i = 0; i + 1 < f->nv; i++) {
		mid = (f->xy[2 * i + 1] + f->xy[2 * i + 3]) / 2.0 /
		    UNITS_PER_DEG;
		f->u.k.kx[i] = M_PER_DEG * cos(mid * M_PI / 180.0) /
		    UNITS_PER_DEG;
	}
	fence_corridor_margin(f, &wx, &wy);
	f->bx0 = (int32_t)MAXV((int64_t)f->bx0 - wx, -LON_MAX_U);
	f->bx1 = (int32_t)MINV((int64_t)f->bx1 + wx, LON_MAX_U);
	f->by0 = (int32_t)MAXV((int64_t)f->by0 - wy, -LAT_MAX_U);
	f->by1 = (int32_t)MINV((int64_t)f->by1 + wy, LAT_MAX_U);
	if (f->nv - 1 > LOOP_SEGS)
		fence_cgrid_build(f, wx, wy);
	f->info.radius_m = f->u.k.h;
	f->info.parts = 1;
	f->info.rings = 1;
	return 0;
}

static int
fence_end_polygon(struct fence_builder *b, char *why, size_t whylen)
{
	struct fence	*f = &b->cur;

	if (fence_span_check(b->raw, b->nraw, why, whylen) == -1 ||
	    fence_convert(b, true, why, whylen) == -1 ||
	    fence_lattice_bbox(f, why, whylen) == -1 ||
	    fence_check_rings(f, why, whylen) == -1)
		return -1;
	f->info.shape = FENCE_SHAPE_POLYGON;
	f->info.parts = f->nparts;
	f->info.rings = f->nrings;
	if (f->nv > LOOP_EDGES)
		fence_pgrid_build(f);
	return 0;
}

int
fence_builder_end(struct fence_builder *b, char *why, size_t whylen)
{
	struct fence	*f = &b->cur;
	int		 rc;

	switch (b->state) {
	case BS_IDLE:
		return fence_err(why, whylen, "no fence begun");
	case BS_BEGUN:
		fence_err(why, whylen, "fence has no geometry");
		return fence_fail(b);
	case BS_CIRCLE:
		rc = fence_end_circle(b, why, whylen);
		break;
	case BS_CORRIDOR:
		rc = fence_end_corridor(b, why, whylen);
		break;
	case BS_POLY:
		if (b->nrpart == 0 ||
		    b->rpart[b->nrpart - 1] == b->nrring) {
			fence_err(why, whylen, "part %zu has no ring",
			    MAXV(b->nrpart, 1));
			return fence_fail(b);
		}
		/* FALLTHROUGH */
	case BS_RECT:
	default:
		rc = fence_end_polygon(b, why, whylen);
		break;
	}
	if (rc == -1)
		return fence_fail(b);
	if (f->info.shape != FENCE_SHAPE_CIRCLE) {
		f->info.vertices = f->nv;
		f->info.min_lon = f->bx0 / UNITS_PER_DEG;
		f->info.min_lat = f->by0 / UNITS_PER_DEG;
		f->info.max_lon = f->bx1 / UNITS_PER_DEG;
		f->info.max_lat = f->by1 / UNITS_PER_DEG;
	}
	if (b->n == b->cap) {
		b->cap = b->cap == 0 ? 64 : b->cap * 2;
		b->f = xreallocarray(b->f, b->cap, sizeof(*b->f));
	}
	b->f[b->n] = *f;
	b->hash[fence_hash_slot(b->hash, b->hcap, b->f, f->info.id)] =
	    (uint32_t)b->n + 1;
	b->n++;
	memset(f, 0, sizeof(*f));
	b->nraw = b->nrring = b->nrpart = 0;
	b->state = BS_IDLE;
	/* load factor at most 1/2 */
	if (2 * b->n >= b->hcap)
		fence_hash_grow(b);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The set */

static int
fence_cmp_i64(const void *a, const void *b)
{
	int64_t	 x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Cell size of the set grid: the larger of what the cap on cells allows
 * over the union of all bboxes and the median fence extent (so that a
 * typical small fence sits in at most four cells).
 */
static int64_t
fence_set_cell(const struct fence *f, size_t n)
{
	int64_t		 x0 = INT64_MAX, y0 = INT64_MAX, x1 = INT64_MIN;
	int64_t		 y1 = INT64_MIN, *ext, s, med;
	uint64_t	 cap;
	size_t		 i;
	double		 area;

	ext = xreallocarray(NULL, n, sizeof(*ext));
	for (i = 0; i < n; i++) {
		x0 = MINV(x0, f[i].bx0);
		y0 = MINV(y0, f[i].by0);
		x1 = MAXV(x1, f[i].bx1);
		y1 = MAXV(y1, f[i].by1);
		ext[i] = MAXV((int64_t)f[i].bx1 - f[i].bx0,
		    (int64_t)f[i].by1 - f[i].by0);
	}
	qsort(ext, n, sizeof(*ext), fence_cmp_i64);
	med = ext[n / 2];
	free(ext);
	cap = MINV(MAXV((uint64_t)n * SET_CELLS_PER_FENCE, SET_MIN_CELLS),
	    SET_MAX_CELLS);
	area = (double)(x1 - x0 + 1) * (double)(y1 - y0 + 1);
	s = (int64_t)ceil(sqrt(area / (double)cap));
	s = MAXV(s, med);
	return MAXV(s, SET_MIN_CELL_U);
}

static void
fence_set_index(struct fence_set *set)
{
	int64_t		 s, cells, x0 = INT64_MAX, y0 = INT64_MAX;
	int64_t		 x1 = INT64_MIN, y1 = INT64_MIN;
	struct fence	*f;
	uint8_t		*large;
	size_t		 i, nsmall = 0, ncells, c, nl = 0, nwords, nocc, k;
	uint32_t	*pos, *cnt, cx0, cx1, cy0, cy1, cx, cy;
	int		 pass;

	if (set->n == 0)
		return;
	s = fence_set_cell(set->f, set->n);
	large = xcalloc(set->n, 1);
	for (i = 0; i < set->n; i++) {
		f = &set->f[i];
		cells = ((int64_t)f->bx1 / s - (int64_t)f->bx0 / s + 2) *
		    ((int64_t)f->by1 / s - (int64_t)f->by0 / s + 2);
		if (cells > SET_LARGE_CELLS) {
			large[i] = 1;
			f->info.large = true;
			nl++;
			continue;
		}
		nsmall++;
		x0 = MINV(x0, f->bx0);
		y0 = MINV(y0, f->by0);
		x1 = MAXV(x1, f->bx1);
		y1 = MAXV(y1, f->by1);
	}
	set->nlarge = nl;
	set->large = xreallocarray(NULL, MAXV(nl, 1), sizeof(uint32_t));
	set->large_bb = xreallocarray(NULL, MAXV(nl, 1), 4 * sizeof(int32_t));
	for (i = 0, nl = 0; i < set->n; i++)
		if (large[i]) {
			f = &set->f[i];
			set->large[nl] = (uint32_t)i;
			set->large_bb[4 * nl] = f->bx0;
			set->large_bb[4 * nl + 1] = f->by0;
			set->large_bb[4 * nl + 2] = f->bx1;
			set->large_bb[4 * nl + 3] = f->by1;
			nl++;
		}
	set->mem += MAXV(nl, 1) * (sizeof(uint32_t) + 4 * sizeof(int32_t));
	if (nsmall == 0) {
		free(large);
		return;
	}
	set->g.x0 = x0;
	set->g.y0 = y0;
	set->g.sx = set->g.sy = fence_log2_near(s);
	while ((uint64_t)(((x1 - x0) >> set->g.sx) + 1) *
	    (uint64_t)(((y1 - y0) >> set->g.sy) + 1) > SET_MAX_CELLS)
		set->g.sx = ++set->g.sy;
	set->g.cw = set->g.ch = (int64_t)1 << set->g.sx;
	s = set->g.cw;
	set->g.nx = (uint32_t)((x1 - x0) / s + 1);
	set->g.ny = (uint32_t)((y1 - y0) / s + 1);
	ncells = (size_t)set->g.nx * set->g.ny;
	cnt = xcalloc(ncells + 1, sizeof(uint32_t));
	pos = NULL;
	/* in fence order, so every cell lists its fences ascending */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < set->n; i++) {
			if (large[i])
				continue;
			f = &set->f[i];
			cx0 = (uint32_t)((f->bx0 - x0) / s);
			cx1 = (uint32_t)((f->bx1 - x0) / s);
			cy0 = (uint32_t)((f->by0 - y0) / s);
			cy1 = (uint32_t)((f->by1 - y0) / s);
			for (cy = cy0; cy <= cy1; cy++)
				for (cx = cx0; cx <= cx1; cx++) {
					c = (size_t)cy * set->g.nx + cx;
					if (pass == 0) {
						cnt[c + 1]++;
						continue;
					}
					set->gent[pos[c]++] = (struct
					    fence_gent){ (uint32_t)f->bx0,
					    (uint32_t)f->by0,
					    (uint32_t)f->bx1 - (uint32_t)f->bx0,
					    (uint32_t)f->by1 - (uint32_t)f->by0,
					    (uint32_t)i };
				}
		}
		if (pass == 0) {
			for (c = 0; c < ncells; c++)
				cnt[c + 1] += cnt[c];
			set->gent = xreallocarray(NULL, MAXV(cnt[ncells], 1),
			    sizeof(*set->gent));
			pos = xreallocarray(NULL, ncells, sizeof(*pos));
			memcpy(pos, cnt, ncells * sizeof(*pos));
		}
	}
	free(pos);
	free(large);

	/*
	 * Most cells are empty (places cluster in towns): keep one bit per
	 * cell, a running count per 64 cells, and offsets for the occupied
	 * cells only.  A query for an empty cell reads one word of a small
	 * bitmap instead of missing the cache on a big offset table.
	 */
	nwords = (ncells + 63) / 64;
	set->gocc = xcalloc(nwords, sizeof(uint64_t));
	set->grank = xcalloc(nwords, sizeof(uint32_t));
	for (c = 0, nocc = 0; c < ncells; c++)
		if (cnt[c + 1] > cnt[c]) {
			set->gocc[c / 64] |= (uint64_t)1 << (c % 64);
			nocc++;
		}
	set->goff = xreallocarray(NULL, nocc + 1, sizeof(uint32_t));
	for (c = 0, k = 0; c < ncells; c++) {
		if (c % 64 == 0)
			set->grank[c / 64] = (uint32_t)k;
		if (cnt[c + 1] > cnt[c])
			set->goff[k++] = cnt[c];
	}
	set->goff[k] = cnt[ncells];
	free(cnt);
	set->mem += nwords * (sizeof(uint64_t) + sizeof(uint32_t)) +
	    (nocc + 1) * sizeof(uint32_t) +
	    MAXV(set->gent_n = set->goff[nocc], 1) * sizeof(*set->gent);
}

struct fence_set *
fence_builder_finish(struct fence_builder *b)
{
	struct fence_set *set;
	size_t		 before;
	size_t		 i;

	fence_builder_reset(b);
	set = xcalloc(1, sizeof(*set));
	set->f = b->f;
	set->n = b->n;
	set->hash = b->hash;
	set->hcap = b->hcap;
	b->f = NULL;
	b->n = 0;
	b->hash = NULL;
	fence_builder_free(b);
	set->mem = sizeof(*set) + set->n * sizeof(*set->f) +
	    set->hcap * sizeof(*set->hash);
	for (i = 0; i < set->n; i++) {
		set->mem += set->f[i].mem;
		set->imem += set->f[i].mem - set->f[i].smem;
	}
	before = set->mem;
	fence_set_index(set);
	set->imem += set->mem - before;
	return set;
}

void
fence_set_free(struct fence_set *set)
{
	size_t	 i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		fence_clear(&set->f[i]);
	free(set->f);
	free(set->hash);
	free(set->goff);
	free(set->gocc);
	free(set->grank);
	free(set->gent);
	free(set->large);
	free(set->large_bb);
	free(set);
}

size_t
fence_set_count(const struct fence_set *set)
{
	return set->n;
}

const struct fence_info *
fence_set_info(const struct fence_set *set, size_t idx)
{
	if (idx >= set->n)
		return NULL;
	return &set->f[idx].info;
}

long
fence_set_find(const struct fence_set *set, const char *id)
{
	uint32_t	 v;

	if (id == NULL)
		return -1;
	v = set->hash[fence_hash_slot(set->hash, set->hcap, set->f, id)];
	return v == 0 ? -1 : (long)v - 1;
}

size_t
fence_set_query(const struct fence_set *set, double lon, double lat,
    uint32_t *out, size_t max)
{
	const struct fence_gent *e = NULL, *ee = NULL;
	const uint32_t	*lg = set->large, *le = set->large + set->nlarge;
	const int32_t	*lbb = set->large_bb;
	int32_t		 px, py;
	int64_t		 cx, cy;
	uint64_t	 w, bit;
	uint32_t	 idx, k;
	size_t		 n = 0, c;

	if (!fence_snap_query(lon, lat, &px, &py))
		return 0;
	if (set->goff != NULL) {
		cx = ((int64_t)px - set->g.x0);
		cy = ((int64_t)py - set->g.y0);
		if (cx >= 0 && cy >= 0) {
			cx >>= set->g.sx;
			cy >>= set->g.sy;
			if (cx < set->g.nx && cy < set->g.ny) {
				c = (size_t)cy * set->g.nx + (size_t)cx;
				w = set->gocc[c / 64];
				bit = (uint64_t)1 << (c % 64);
				if (w & bit) {
					k = set->grank[c / 64] +
					    fence_popcount(w & (bit - 1));
					e = set->gent + set->goff[k];
					ee = set->gent + set->goff[k + 1];
				}
			}
		}
	}
	/* merge the cell's list and the large list, both ascending */
	while (e < ee || lg < le) {
		if (lg == le || (e < ee && e->idx < *lg)) {
			if (((uint32_t)px - e->x0 > e->w) |
			    ((uint32_t)py - e->y0 > e->h)) {
				e++;
				continue;
			}
			idx = e->idx;
			e++;
		} else {
			idx = *lg++;
			lbb += 4;
			if (!fence_in_bb(lbb - 4, px, py))
				continue;
		}
		if (fence_locate_in(&set->f[idx], px, py) != FENCE_OUT) {
			if (n < max)
				out[n] = idx;
			n++;
		}
	}
	return n;
}

enum fence_loc
fence_set_locate(const struct fence_set *set, size_t idx, double lon,
    double lat)
{
	const struct fence *f;
	int32_t		 px, py;

	if (idx >= set->n || !fence_snap_query(lon, lat, &px, &py))
		return FENCE_OUT;
	f = &set->f[idx];
	if (px < f->bx0 || py < f->by0 || px > f->bx1 || py > f->by1)
		return FENCE_OUT;
	return fence_locate_in(f, px, py);
}

/* Distance in metres from q to segment a-b in a frame of kx (m per unit
 * of x) and ky. */
static double
fence_pt_seg_m(const int32_t *a, const int32_t *b, int32_t qx0,
    int32_t qy0, double kx, double ky)
{
	double	 bx = (double)(b[0] - a[0]) * kx, by = (double)(b[1] - a[1]) * ky;
	double	 qx = (double)(qx0 - a[0]) * kx, qy = (double)(qy0 - a[1]) * ky;
	double	 l2 = bx * bx + by * by, t = 0;

	if (l2 > 0)
		t = (qx * bx + qy * by) / l2;
	if (t < 0)
		t = 0;
	else if (t > 1)
		t = 1;
	qx -= t * bx;
	qy -= t * by;
	return sqrt(qx * qx + qy * qy);
}

double
fence_set_distance_m(const struct fence_set *set, size_t idx, double lon,
    double lat)
{
	const struct fence *f;
	enum fence_loc	 loc;
	int32_t		 px, py;
	uint32_t	 r, i, s, e, prev;
	double		 d = INFINITY, kx, ky = M_PER_DEG / UNITS_PER_DEG;

	if (idx >= set->n || !isfinite(lon) || !isfinite(lat))
		return NAN;
	f = &set->f[idx];
	if (f->info.shape == FENCE_SHAPE_CIRCLE) {
		lon = fence_round(lon * UNITS_PER_DEG) / UNITS_PER_DEG;
		lat = fence_round(lat * UNITS_PER_DEG) / UNITS_PER_DEG;
		return geo_distance_m(f->info.center_lat, f->info.center_lon,
		    lat, lon) - f->info.radius_m;
	}
	if (!fence_snap_query(lon, lat, &px, &py))
		return NAN;
	if (f->info.shape == FENCE_SHAPE_CORRIDOR) {
		for (i = 0; i + 1 < f->nv; i++)
			d = MINV(d, fence_pt_seg_m(f->xy + 2 * i,
			    f->xy + 2 * i + 2, px, py, f->u.k.kx[i], ky));
		return d - f->u.k.h;
	}
	kx = M_PER_DEG * cos(py / UNITS_PER_DEG * M_PI / 180.0) /
	    UNITS_PER_DEG;
	for (r = 0; r < f->nrings; r++) {
		s = fence_ring_start(f, r);
		e = f->ring_end[r];
		for (i = s, prev = e - 1; i < e; prev = i++)
			d = MINV(d, fence_pt_seg_m(f->xy + 2 * prev,
			    f->xy + 2 * i, px, py, kx, ky));
	}
	loc = fence_set_locate(set, idx, lon, lat);
	if (loc == FENCE_ON)
		return 0.0;
	return loc == FENCE_IN ? -d : d;
}

int
fence_set_ring(const struct fence_set *set, size_t idx, size_t r,
    const int32_t **xy, size_t *npoints, bool *is_hole)
{
	const struct fence *f;
	uint32_t	 s, p;

	if (idx >= set->n)
		return -1;
	f = &set->f[idx];
	if (f->info.shape == FENCE_SHAPE_CIRCLE || r >= f->nrings)
		return -1;
	s = fence_ring_start(f, (uint32_t)r);
	*xy = f->xy + 2 * (size_t)s;
	*npoints = f->ring_end[r] - s;
	if (is_hole != NULL) {
		*is_hole = true;
		if (f->info.shape == FENCE_SHAPE_CORRIDOR)
			*is_hole = false;
		for (p = 0; p < f->nparts; p++)
			if (fence_part_first(f, p) == r)
				*is_hole = false;
	}
	return 0;
}

size_t
fence_set_memory(const struct fence_set *set, size_t *index_bytes)
{
	if (index_bytes != NULL)
		*index_bytes = set->imem;
	return set->mem;
}
