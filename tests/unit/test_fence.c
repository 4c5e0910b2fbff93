/* SPDX-License-Identifier: MIT */
/*
 * test_fence.c - the fence set: exact point location on the lattice
 * (vertices, horizontal edges, rays through vertices, holes, parts),
 * the indexes against brute force, circles against geo_distance_m(),
 * corridors, validation messages, densify + convert, distances.
 *
 * Shapes are drawn in lattice units around BX, BY and converted to
 * degrees exactly (n / 1e7 rounds back to n).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fence.h"
#include "geo.h"

#define BX		1040000000	/* 104.0 E, lattice units */
#define BY		306000000	/* 30.6 N */
#define U		1000		/* shape unit: 1e-4 degree */
#define M_PER_DEG	(GEO_EARTH_RADIUS_M * M_PI / 180.0)
#define MAXPTS		4096
#define NELEMS_C(a)	(sizeof(a) / sizeof((a)[0]))

static char	 why[256];

static double
dx(int64_t x)
{
	return (double)(BX + x) / 1e7;
}

static double
dy(int64_t y)
{
	return (double)(BY + y) / 1e7;
}

static uint32_t	 rng = 12345;

static double
rnd(void)
{
	rng = rng * 1664525u + 1013904223u;
	return (rng >> 8) / 16777216.0;
}

static void
begin(struct fence_builder *b, const char *id, enum geo_crs crs)
{
	struct fence_spec sp;

	memset(&sp, 0, sizeof(sp));
	sp.id = id;
	sp.kind = FENCE_FORBIDDEN;
	sp.crs = crs;
	sp.dwell_s = -1;
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), 0, "%s",
	    why);
}

/* A ring from shape units (pairs of ints, n points) relative to BX, BY. */
static int
ring_u(struct fence_builder *b, const int *pts, size_t n, int scale)
{
	double	 xy[2 * 64];
	size_t	 i;

	cr_assert_leq(n, 64);
	for (i = 0; i < n; i++) {
		xy[2 * i] = dx((int64_t)pts[2 * i] * scale);
		xy[2 * i + 1] = dy((int64_t)pts[2 * i + 1] * scale);
	}
	return fence_builder_ring(b, xy, n, why, sizeof(why));
}

static void
end_ok(struct fence_builder *b)
{
	cr_assert_eq(fence_builder_end(b, why, sizeof(why)), 0, "%s", why);
}

/* Expect the fence to fail at end() (or earlier) with this substring. */
static void
end_fails(struct fence_builder *b, const char *sub)
{
	why[0] = '\0';
	cr_assert_eq(fence_builder_end(b, why, sizeof(why)), -1,
	    "expected failure \"%s\"", sub);
	cr_assert_not_null(strstr(why, sub), "got \"%s\", want \"%s\"", why,
	    sub);
}

static const int sq_shell[] = { 0, 0, 100, 0, 100, 100, 0, 100 };
static const int sq_hole[] = { 40, 40, 60, 40, 60, 60, 40, 60 };
static const int u_shape[] = { 0, 0, 30, 0, 30, 30, 20, 30, 20, 10, 10, 10,
    10, 30, 0, 30 };
static const int diamond[] = { 0, 10, 10, 0, 20, 10, 10, 20 };
static const int part_a[] = { 0, 0, 10, 0, 10, 10, 0, 10 };
static const int part_b[] = { 20, 0, 30, 0, 30, 10, 20, 10 };

struct loc_case {
	const char	*what;
	int64_t		 x, y;		/* lattice units from BX, BY */
	enum fence_loc	 want;
};

static void
check_cases(const struct fence_set *set, size_t idx,
    const struct loc_case *c, size_t n)
{
	uint32_t	 out[8];
	size_t		 i, k, nq;
	bool		 found;
	enum fence_loc	 got;

	for (i = 0; i < n; i++) {
		got = fence_set_locate(set, idx, dx(c[i].x), dy(c[i].y));
		cr_expect_eq(got, c[i].want, "%s: (%lld, %lld) got %d want %d",
		    c[i].what, (long long)c[i].x, (long long)c[i].y, got,
		    c[i].want);
		nq = fence_set_query(set, dx(c[i].x), dy(c[i].y), out, 8);
		for (found = false, k = 0; k < nq && k < 8; k++)
			found |= out[k] == idx;
		cr_expect_eq(found, c[i].want != FENCE_OUT, "%s: query",
		    c[i].what);
	}
}

#define L(x)	((int64_t)(x) * U)

Test(fence, locate_square_with_hole, .timeout = 60)
{
	struct fence_builder *b = fence_builder_new();
	struct fence_set *set;
	static const struct loc_case c[] = {
		{ "interior", L(20), L(20), FENCE_IN },
		{ "exterior", L(150), L(50), FENCE_OUT },
		{ "vertex sw", 0, 0, FENCE_ON },
		{ "vertex ne", L(100), L(100), FENCE_ON },
		{ "vertex nw", 0, L(100), FENCE_ON },
		{ "bottom horizontal edge", L(50), 0, FENCE_ON },
		{ "top horizontal edge", L(50), L(100), FENCE_ON },
		{ "left vertical edge", 0, L(50), FENCE_ON },
		{ "right vertical edge", L(100), L(50), FENCE_ON },
		{ "left at bottom vertex latitude", -L(10), 0, FENCE_OUT },
		{ "left at top vertex latitude", -L(10), L(100), FENCE_OUT },
		{ "right at bottom vertex latitude", L(110), 0, FENCE_OUT },
		{ "left at hole vertex latitude", -L(10), L(40), FENCE_OUT },
		{ "inside, ray along hole bottom", L(20), L(40), FENCE_IN },
		{ "inside, ray along hole top", L(20), L(60), FENCE_IN },
		{ "1e-7 west of left edge", -1, L(50), FENCE_OUT },
		{ "1e-7 east of left edge", 1, L(50), FENCE_IN },
		{ "1e-7 south of bottom edge", L(50), -1, FENCE_OUT },
		{ "1e-7 north of bottom edge", L(50), 1, FENCE_IN },
		{ "1e-7 north of top edge", L(50), L(100) + 1, FENCE_OUT },
		{ "1e-7 east of right edge", L(100) + 1, L(50), FENCE_OUT },
		{ "inside the hole", L(50), L(50), FENCE_OUT },
		{ "hole left edge", L(40), L(50), FENCE_ON },
		{ "hole bottom edge", L(50), L(40), FENCE_ON },
		{ "hole vertex", L(60), L(60), FENCE_ON },
		{ "1e-7 inside hole", L(40) + 1, L(50), FENCE_OUT },
		{ "1e-7 outside hole", L(40) - 1, L(50), FENCE_IN },
	};

	begin(b, "square", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_part(b, why, sizeof(why)), 0);
	cr_assert_eq(ring_u(b, sq_shell, 4, U), 0, "%s", why);
	cr_assert_eq(ring_u(b, sq_hole, 4, U), 0, "%s", why);
	end_ok(b);
	set = fence_builder_finish(b);
	check_cases(set, 0, c, NELEMS_C(c));
	fence_set_free(set);
}

Test(fence, locate_concave_diamond_parts, .timeout = 60)
{
	struct fence_builder *b = fence_builder_new();
	struct fence_set *set;
	static const struct loc_case cu[] = {
		{ "u: in the notch", L(15), L(20), FENCE_OUT },
		{ "u: base", L(15), L(5), FENCE_IN },
		{ "u: left prong", L(5), L(20), FENCE_IN },
		{ "u: right prong", L(25), L(20), FENCE_IN },
		{ "u: notch bottom", L(15), L(10), FENCE_ON },
		{ "u: notch side", L(10), L(20), FENCE_ON },
		{ "u: left, ray along both prong tops", -L(5), L(30),
		    FENCE_OUT },
		{ "u: between prong tops", L(15), L(30), FENCE_OUT },
		{ "u: on a prong top", L(5), L(30), FENCE_ON },
		{ "u: left, ray along the notch bottom", -L(5), L(10),
		    FENCE_OUT },
		{ "u: inside, ray along the notch bottom", L(5), L(10),
		    FENCE_IN },
		{ "u: right of polygon at notch latitude", L(35), L(10),
		    FENCE_OUT },
	};
	static const struct loc_case cd[] = {
		{ "diamond: left of the west vertex", -L(5), L(10),
		    FENCE_OUT },
		{ "diamond: ray through two vertices", L(5), L(10),
		    FENCE_IN },
		{ "diamond: right of the east vertex", L(25), L(10),
		    FENCE_OUT },
		{ "diamond: south vertex", L(10), 0, FENCE_ON },
		{ "diamond: below the south vertex", L(10), -1, FENCE_OUT },
		{ "diamond: on an edge", L(5), L(5), FENCE_ON },
		{ "diamond: 1e-7 inside an edge", L(5) + 1, L(5), FENCE_IN },
		{ "diamond: 1e-7 outside an edge", L(5) - 1, L(5),
		    FENCE_OUT },
	};
	static const struct loc_case cp[] = {
		{ "parts: first", L(5), L(5), FENCE_IN },
		{ "parts: second", L(25), L(5), FENCE_IN },
		{ "parts: between", L(15), L(5), FENCE_OUT },
		{ "parts: left of both", -L(5), L(5), FENCE_OUT },
		{ "parts: second's west edge", L(20), L(5), FENCE_ON },
	};

	begin(b, "u", GEO_CRS_WGS84);
	fence_builder_part(b, why, sizeof(why));
	cr_assert_eq(ring_u(b, u_shape, 8, U), 0);
	end_ok(b);
	begin(b, "diamond", GEO_CRS_WGS84);
	fence_builder_part(b, why, sizeof(why));
	cr_assert_eq(ring_u(b, diamond, 4, U), 0);
	end_ok(b);
	begin(b, "parts", GEO_CRS_WGS84);
	fence_builder_part(b, why, sizeof(why));
	cr_assert_eq(ring_u(b, part_a, 4, U), 0);
	fence_builder_part(b, why, sizeof(why));
	cr_assert_eq(ring_u(b, part_b, 4, U), 0);
	end_ok(b);
	set = fence_builder_finish(b);
	check_cases(set, 0, cu, NELEMS_C(cu));
	check_cases(set, 1, cd, NELEMS_C(cd));
	check_cases(set, 2, cp, NELEMS_C(cp));
	cr_assert_eq(fence_set_info(set, 2)->parts, 2);
	cr_assert_eq(fence_set_info(set, 2)->rings, 2);
	fence_set_free(set);
}

/* --- brute force, written independently of fence.c ------------------ */

struct poly {
	int64_t		 xy[2 * MAXPTS];
	size_t		 n;
};

/* GEOS RayCrossingCounter over one ring, lattice units: -1 on, 0 out,
 * 1 in. */
static int
brute_ring(const struct poly *p, int64_t px, int64_t py)
{
	size_t	 i, j;
	int	 cross = 0;

	for (i = 0; i < p->n; i++) {
		int64_t x1 = p->xy[2 * i], y1 = p->xy[2 * i + 1];
		int64_t x2, y2;

		j = (i + 1) % p->n;
		x2 = p->xy[2 * j];
		y2 = p->xy[2 * j + 1];
		if (x1 < px && x2 < px)
			continue;
		if (px == x2 && py == y2)
			return -1;
		if (y1 == py && y2 == py) {
			if (px >= (x1 < x2 ? x1 : x2) &&
			    px <= (x1 > x2 ? x1 : x2))
				return -1;
			continue;
		}
		if ((y1 > py && y2 <= py) || (y2 > py && y1 <= py)) {
			/* doubles are exact here: products < 2^53 */
			double o = (double)(x2 - x1) * (double)(py - y1) -
			    (double)(px - x1) * (double)(y2 - y1);

			if (o == 0)
				return -1;
			if (y2 < y1)
				o = -o;
			if (o > 0)
				cross ^= 1;
		}
	}
	return cross;
}

/* A star of n vertices around (cx, cy) (lattice), radii r0..r1. */
static void
make_star(struct poly *p, size_t n, int64_t cx, int64_t cy, double r0,
    double r1)
{
	size_t	 i;
	double	 a, r;

	p->n = n;
	for (i = 0; i < n; i++) {
		a = 2 * M_PI * i / n;
		r = (i % 2) ? r0 + (r1 - r0) * rnd() : r1;
		p->xy[2 * i] = cx + (int64_t)lround(r * cos(a));
		p->xy[2 * i + 1] = cy + (int64_t)lround(r * sin(a));
	}
}

static int
ring_poly(struct fence_builder *b, const struct poly *p)
{
	static double xy[2 * MAXPTS];
	size_t	 i;

	for (i = 0; i < p->n; i++) {
		xy[2 * i] = p->xy[2 * i] / 1e7;
		xy[2 * i + 1] = p->xy[2 * i + 1] / 1e7;
	}
	return fence_builder_ring(b, xy, p->n, why, sizeof(why));
}

Test(fence, star_3000_against_brute_force, .timeout = 60)
{
	static struct poly p;
	struct fence_builder *b = fence_builder_new();
	struct fence_set *set;
	const struct fence_info *in;
	int64_t		 px, py, r = 5000000;	/* 0.5 degree */
	uint32_t	 out[4];
	size_t		 i, nq, nin = 0, non = 0;
	int		 want;
	enum fence_loc	 got;
	double		 lon, lat;

	make_star(&p, 3000, BX, BY, 0.3 * r, r);
	begin(b, "star", GEO_CRS_WGS84);
	fence_builder_part(b, why, sizeof(why));
	cr_assert_eq(ring_poly(b, &p), 0, "%s", why);
	end_ok(b);
	/* small fences elsewhere: the star is large against them */
	for (i = 0; i < 20; i++) {
		char	 id[16];

		snprintf(id, sizeof(id), "far%zu", i);
		begin(b, id, GEO_CRS_WGS84);
		cr_assert_eq(fence_builder_circle(b, 104 + 0.1 * i, 35, 50,
		    why, sizeof(why)), 0);
		end_ok(b);
	}
	set = fence_builder_finish(b);
	in = fence_set_info(set, 0);
	cr_assert_eq(in->vertices, 3000);
	cr_assert(in->large);
	for (i = 0; i < 100000; i++) {
		if (i % 4 == 0) {
			/* near a vertex, to hit MIXED cells and rays
			 * through vertices */
			size_t v = (size_t)(rnd() * 3000);

			px = p.xy[2 * v] + (int64_t)(rnd() * 41) - 20;
			py = p.xy[2 * v + 1] + (int64_t)(rnd() * 3) - 1;
		} else {
			px = BX - r - 1000 + (int64_t)(rnd() * (2 * r + 2000));
			py = BY - r - 1000 + (int64_t)(rnd() * (2 * r + 2000));
		}
		/* the same rounding the engine applies */
		lon = px / 1e7 + (rnd() - 0.5) * 0.9e-7;
		lat = py / 1e7 + (rnd() - 0.5) * 0.9e-7;
		px = lround(lon * 1e7);
		py = lround(lat * 1e7);
		want = brute_ring(&p, px, py);
		got = fence_set_locate(set, 0, lon, lat);
		cr_assert_eq(got, want < 0 ? FENCE_ON : want ? FENCE_IN :
		    FENCE_OUT, "(%lld, %lld) got %d brute %d", (long long)px,
		    (long long)py, got, want);
		nq = fence_set_query(set, lon, lat, out, 4);
		cr_assert_eq(nq, want != 0 ? 1u : 0u);
		nin += want > 0;
		non += want < 0;
	}
	cr_assert_gt(nin, 10000);
	cr_assert_gt(non, 10);
	fence_set_free(set);
}

/* Many overlapping fences of every shape, some straddling set cells: the
 * query must list exactly the fences that locate() covers, ascending. */
Test(fence, query_lists_every_cover_ascending, .timeout = 60)
{
	static struct poly p;
	struct fence_builder *b = fence_builder_new();
	struct fence_set *set;
	char		 id[32];
	double		 xy[2 * 8], lon, lat, a;
	uint32_t	 out[64], want[64];
	size_t		 i, k, n, nq, nw, total = 0, maxhits = 0;

	/* a large star first, so large and small ids interleave */
	make_star(&p, 400, BX, BY, 300000, 1000000);
	begin(b, "big", GEO_CRS_WGS84);
	fence_builder_part(b, why, sizeof(why));
	cr_assert_eq(ring_poly(b, &p), 0, "%s", why);
	end_ok(b);
	for (i = 0; i < 600; i++) {
		snprintf(id, sizeof(id), "f%zu", i);
		begin(b, id, GEO_CRS_WGS84);
		lon = dx((int64_t)((rnd() - 0.5) * 1200000));
		lat = dy((int64_t)((rnd() - 0.5) * 1200000));
		if (i % 3 == 0) {
			cr_assert_eq(fence_builder_circle(b, lon, lat,
			    50 + rnd() * 1500, why, sizeof(why)), 0);
		} else if (i % 3 == 1) {
			n = 3 + (size_t)(rnd() * 6);
			for (k = 0; k < n; k++) {
				a = 2 * M_PI * k / n;
				xy[2 * k] = lon + 0.01 * cos(a) * (0.5 + rnd());
				xy[2 * k + 1] = lat + 0.01 * sin(a) *
				    (0.5 + rnd());
			}
			fence_builder_part(b, why, sizeof(why));
			cr_assert_eq(fence_builder_ring(b, xy, n, why,
			    sizeof(why)), 0, "%s", why);
		} else {
			for (k = 0; k < 3; k++) {
				xy[2 * k] = lon + 0.01 * k;
				xy[2 * k + 1] = lat + 0.01 * (k % 2);
			}
			cr_assert_eq(fence_builder_corridor(b, xy, 3,
			    20 + rnd() * 500, why, sizeof(why)), 0);
		}
		end_ok(b);
	}
	set = fence_builder_finish(b);
	cr_assert(fence_set_info(set, 0)->large);
	for (i = 0; i < 50000; i++) {
		lon = dx((int64_t)((rnd() - 0.5) * 1300000));
		lat = dy((int64_t)((rnd() - 0.5) * 1300000));
		nw = 0;
		for (k = 0; k < fence_set_count(set); k++)
			if (fence_set_locate(set, k, lon, lat) != FENCE_OUT)
				want[nw++] = (uint32_t)k;
		nq = fence_set_query(set, lon, lat, out, 64);
		cr_assert_eq(nq, nw, "(%.7f, %.7f)", lon, lat);
		for (k = 0; k < nw; k++)
			cr_assert_eq(out[k], want[k]);
		if (nw > 1) {
			/* a short buffer still gets the total count */
			cr_assert_eq(fence_set_query(set, lon, lat, out, 1),
			    nw);
			cr_assert_eq(out[0], want[0]);
		}
		total += nw;
		if (nw > maxhits)
			maxhits = nw;
	}
	cr_assert_gt(total, 1000);
	cr_assert_geq(maxhits, 3, "no overlaps exercised");
	fence_set_free(set);
}

Test(fence, circles_agree_with_geo_distance, .timeout = 60)
{
	struct fence_builder *b = fence_builder_new();
	struct fence_set *set;
	char		 id[32];
	double		 clat[200], clon[200], r[200];
	double		 lat, lon, d, brg, dist;
	const struct fence_info *in;
	size_t		 i, j, n = 200, nin = 0;
	enum fence_loc	 got;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "c%zu", i);
		begin(b, id, GEO_CRS_WGS84);
		clat[i] = (i < 20 ? 75 : 69) * (2 * rnd() - 1);
		clon[i] = 100 + 20 * rnd();
		r[i] = i % 2 ? 50 + 450 * rnd() : 100 + 99900 * rnd();
		cr_assert_eq(fence_builder_circle(b, clon[i], clat[i], r[i],
		    why, sizeof(why)), 0);
		end_ok(b);
	}
	set = fence_builder_finish(b);
	for (i = 0; i < n; i++) {
		in = fence_set_info(set, i);
		cr_assert_eq(in->shape, FENCE_SHAPE_CIRCLE);
		cr_assert_float_eq(in->center_lat, clat[i], 1e-7);
		for (j = 0; j < 500; j++) {
			/* just inside and outside the rim, and anywhere */
			brg = 360 * rnd();
			dist = j % 2 ? r[i] * (1 + (rnd() - 0.5) * 4e-4) :
			    r[i] * 2 * rnd();
			if (j % 5 == 0)
				dist = r[i] + (rnd() - 0.5) * 0.1;
			geo_destination(in->center_lat, in->center_lon, brg,
			    dist, &lat, &lon);
			lat = lround(lat * 1e7) / 1e7;
			lon = lround(lon * 1e7) / 1e7;
			d = geo_distance_m(in->center_lat, in->center_lon, lat,
			    lon);
			got = fence_set_locate(set, i, lon, lat);
			cr_assert_eq(got != FENCE_OUT, d <= r[i],
			    "circle %zu r %.3f at %.7f: d %.6f got %d", i, r[i],
			    in->center_lat, d, got);
			nin += d <= r[i];
		}
	}
	cr_assert_gt(nin, 1000);
	fence_set_free(set);
}

/* The engine's rule, independently: equirectangular per segment at the
 * segment's mid latitude. */
static double
brute_corridor_m(const double *xy, size_t n, double lon, double lat)
{
	double	 best = INFINITY;
	size_t	 i;

	for (i = 0; i + 1 < n; i++) {
		double c = cos((xy[2 * i + 1] + xy[2 * i + 3]) / 2 * M_PI / 180);
		double bx = (xy[2 * i + 2] - xy[2 * i]) * c * M_PER_DEG;
		double by = (xy[2 * i + 3] - xy[2 * i + 1]) * M_PER_DEG;
		double qx = (lon - xy[2 * i]) * c * M_PER_DEG;
		double qy = (lat - xy[2 * i + 1]) * M_PER_DEG;
		double t = (qx * bx + qy * by) / (bx * bx + by * by);

		t = t < 0 ? 0 : t > 1 ? 1 : t;
		qx -= t * bx;
		qy -= t * by;
		if (sqrt(qx * qx + qy * qy) < best)
			best = sqrt(qx * qx + qy * qy);
	}
	return best;
}

Test(fence, corridors, .timeout = 60)
{
	struct fence_builder *b = fence_builder_new();
	struct fence_set *set;
	static double	 xy[2 * 200], lxy[2 * 3];
	double		 lon, lat, d, w = 100;
	size_t		 i, n = 200, nin = 0;
	enum fence_loc	 got;

	/* a short L, and a long wiggly route (bucket grid) */
	lxy[0] = 104.0;
	lxy[1] = 30.6;
	lxy[2] = 104.01;
	lxy[3] = 30.6;
	lxy[4] = 104.01;
	lxy[5] = 30.61;
	for (i = 0; i < n; i++) {
		xy[2 * i] = lround((104.0 + 0.002 * i) * 1e7) / 1e7;
		xy[2 * i + 1] = lround((30.6 + 0.003 * sin(i * 0.3)) * 1e7) /
		    1e7;
	}
	begin(b, "l", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_corridor(b, lxy, 3, w, why, sizeof(why)),
	    0);
	end_ok(b);
	begin(b, "route", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_corridor(b, xy, n, w, why, sizeof(why)),
	    0);
	end_ok(b);
	set = fence_builder_finish(b);
	cr_assert_eq(fence_set_info(set, 1)->vertices, n);
	cr_assert_float_eq(fence_set_info(set, 1)->radius_m, 50, 1e-9);

	/* the L: 49 m and 51 m south of the first leg, beyond its end */
	d = 49 / M_PER_DEG;
	cr_assert_eq(fence_set_locate(set, 0, 104.005, 30.6 - d), FENCE_IN);
	d = 51 / M_PER_DEG;
	cr_assert_eq(fence_set_locate(set, 0, 104.005, 30.6 - d), FENCE_OUT);
	d = 49 / M_PER_DEG / cos(30.6 * M_PI / 180);
	cr_assert_eq(fence_set_locate(set, 0, 104.0 - d, 30.6), FENCE_IN);
	cr_assert_eq(fence_set_locate(set, 0, 104.0 - 2 * d, 30.6),
	    FENCE_OUT);
	cr_assert_eq(fence_set_locate(set, 0, 104.005, 30.605), FENCE_OUT);

	for (i = 0; i < 50000; i++) {
		lon = lround((104.0 + 0.4 * rnd()) * 1e7) / 1e7;
		lat = lround((30.6 + (rnd() - 0.5) * 0.008) * 1e7) / 1e7;
		d = brute_corridor_m(xy, n, lon, lat);
		if (fabs(d - w / 2) < 1e-6)
			continue;
		got = fence_set_locate(set, 1, lon, lat);
		cr_assert_eq(got != FENCE_OUT, d <= w / 2,
		    "(%.7f, %.7f) d %.4f got %d", lon, lat, d, got);
		nin += d <= w / 2;
	}
	cr_assert_gt(nin, 1000);
	fence_set_free(set);
}

/* --- validation ---------------------------------------------------- */

static void
poly_fails(const int *r1, size_t n1, const int *r2, size_t n2,
    bool newpart, const char *sub)
{
	struct fence_builder *b = fence_builder_new();
	int	 rc;

	begin(b, "bad", GEO_CRS_WGS84);
	fence_builder_part(b, why, sizeof(why));
	rc = ring_u(b, r1, n1, U);
	if (rc == 0 && r2 != NULL) {
		if (newpart)
			fence_builder_part(b, why, sizeof(why));
		rc = ring_u(b, r2, n2, U);
	}
	if (rc == 0)
		end_fails(b, sub);
	else
		cr_assert_not_null(strstr(why, sub), "got \"%s\"", why);
	/* the builder stays usable, the bad fence is gone */
	cr_assert_eq(fence_builder_count(b), 0);
	begin(b, "bad", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_circle(b, 104, 30, 10, why, sizeof(why)),
	    0);
	end_ok(b);
	cr_assert_eq(fence_builder_count(b), 1);
	fence_set_free(fence_builder_finish(b));
}

Test(fence, validation_rings, .timeout = 60)
{
	static const int bowtie[] = { 0, 0, 10, 10, 10, 0, 0, 10 };
	static const int touch[] = { 0, 0, 20, 0, 20, 20, 10, 0, 0, 20 };
	static const int spike[] = { 0, 0, 10, 0, 10, 10, 10, 20, 10, 10,
	    0, 10 };
	static const int hole_out[] = { 200, 200, 210, 200, 210, 210 };
	static const int hole_cross[] = { 50, 50, 150, 50, 150, 60, 50, 60 };
	static const int hole_edge[] = { 0, 10, 50, 10, 50, 20, 0, 20 };
	static const int part_in[] = { 10, 10, 20, 10, 20, 20, 10, 20 };
	static const int part_over[] = { 50, 50, 150, 50, 150, 150 };
	static const int two[] = { 0, 0, 10, 0, 10, 0, 0, 0 };
	static const int line[] = { 0, 0, 10, 0, 20, 0 };
	static const int hole_a[] = { 10, 10, 40, 10, 40, 40, 10, 40 };
	static const int hole_b[] = { 20, 20, 30, 20, 30, 30, 20, 30 };

	poly_fails(bowtie, 4, NULL, 0, false, "ring 1 crosses itself near");
	poly_fails(touch, 5, NULL, 0, false, "ring 1 crosses itself near "
	    "(104.0010000, 30.6000000)");
	poly_fails(spike, 6, NULL, 0, false, "ring 1 has a spike");
	poly_fails(sq_shell, 4, hole_out, 3, false,
	    "ring 2 (a hole) is not inside its shell");
	poly_fails(sq_shell, 4, hole_cross, 4, false,
	    "ring 1 and ring 2 cross near");
	poly_fails(sq_shell, 4, hole_edge, 4, false,
	    "ring 1 and ring 2 overlap along an edge");
	poly_fails(sq_shell, 4, part_in, 4, true, "part 2 is inside part 1");
	poly_fails(sq_shell, 4, part_over, 3, true,
	    "part 1 ring 1 and part 2 ring 1 cross near");
	poly_fails(two, 4, NULL, 0, false, "ring 1 has fewer than 3 distinct "
	    "vertices");
	poly_fails(line, 3, NULL, 0, false, "ring 1 has a spike");
	{
		/* a hole inside another hole */
		struct fence_builder *b = fence_builder_new();

		begin(b, "nest", GEO_CRS_WGS84);
		fence_builder_part(b, why, sizeof(why));
		ring_u(b, sq_shell, 4, U);
		ring_u(b, hole_a, 4, U);
		ring_u(b, hole_b, 4, U);
		end_fails(b, "ring 3 (a hole) is inside ring 2 (another "
		    "hole)");
		/* touching at one point is allowed */
		begin(b, "touch", GEO_CRS_WGS84);
		fence_builder_part(b, why, sizeof(why));
		ring_u(b, sq_shell, 4, U);
		{
			static const int ht[] = { 0, 50, 20, 40, 20, 60 };

			ring_u(b, ht, 3, U);
		}
		end_ok(b);
		fence_builder_free(b);
	}
}

Test(fence, validation_values, .timeout = 60)
{
	struct fence_builder *b = fence_builder_new();
	struct fence_spec sp;
	double		 xy[8] = { 104, 30, NAN, 30, 104.1, 30.1, 104, 30.1 };
	double		 one[2] = { 104, 30 }, dup[4] = { 104, 30, 104, 30 };

	begin(b, "nan", GEO_CRS_WGS84);
	fence_builder_part(b, why, sizeof(why));
	cr_assert_eq(fence_builder_ring(b, xy, 4, why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "point 2 is not finite"), "%s", why);

	begin(b, "lon", GEO_CRS_WGS84);
	xy[2] = 200;
	fence_builder_part(b, why, sizeof(why));
	cr_assert_eq(fence_builder_ring(b, xy, 4, why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "longitude 200.0000000 out of range"),
	    "%s", why);

	begin(b, "r0", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_circle(b, 104, 30, 0, why, sizeof(why)),
	    -1);
	cr_assert_not_null(strstr(why, "radius must be positive"), "%s", why);
	begin(b, "rneg", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_circle(b, 104, 30, -5, why, sizeof(why)),
	    -1);
	cr_assert_not_null(strstr(why, "radius must be positive"), "%s", why);
	begin(b, "rnan", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_circle(b, 104, 30, NAN, why, sizeof(why)),
	    -1);
	begin(b, "rhuge", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_circle(b, 104, 30, 2e5, why, sizeof(why)),
	    -1);
	cr_assert_not_null(strstr(why, "above the maximum"), "%s", why);

	begin(b, "c1", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_corridor(b, one, 1, 10, why, sizeof(why)),
	    0);
	end_fails(b, "corridor has fewer than 2 distinct points");
	begin(b, "c2", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_corridor(b, dup, 2, 10, why, sizeof(why)),
	    0);
	end_fails(b, "corridor has fewer than 2 distinct points");
	begin(b, "wide", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_corridor(b, xy, 2, 3e5, why, sizeof(why)),
	    -1);
	cr_assert_not_null(strstr(why, "corridor too wide"), "%s", why);

	begin(b, "span", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_rect(b, 10, 0, 80, 1, why, sizeof(why)),
	    0);
	end_fails(b, "spans more than 60 degrees");

	begin(b, "nogeom", GEO_CRS_WGS84);
	end_fails(b, "no geometry");

	begin(b, "ok", GEO_CRS_WGS84);
	cr_assert_eq(fence_builder_rect(b, 104, 30, 104.1, 30.1, why,
	    sizeof(why)), 0);
	end_ok(b);
	memset(&sp, 0, sizeof(sp));
	sp.id = "ok";
	sp.dwell_s = -1;
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "duplicate id"), "%s", why);
	sp.id = "bad\tid";
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), -1);
	sp.id = "";
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), -1);
	sp.id = "成都-禁入-01";
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), 0, "%s",
	    why);
	cr_assert_eq(fence_builder_count(b), 1);
	fence_builder_free(b);
}

/*
 * Densify + convert.  Needs the geo.c conversions (geo_gcj02_to_wgs84):
 * a 20 km GCJ-02 square is split into <= 1 km pieces, every vertex
 * converted with the exact inverse.
 */
Test(fence, gcj02_rect_densified_and_converted, .timeout = 60)
{
	struct fence_builder *b = fence_builder_new();
	struct fence_set *set;
	const struct fence_info *in;
	double		 s = 20000 / M_PER_DEG, lon, lat, glon, glat;
	double		 w = 104.0, so = 30.6;

	begin(b, "gcj", GEO_CRS_GCJ02);
	cr_assert_eq(fence_builder_rect(b, w, so, w + s / cos(30.7 * M_PI /
	    180), so + s, why, sizeof(why)), 0);
	end_ok(b);
	set = fence_builder_finish(b);
	in = fence_set_info(set, 0);
	cr_assert_gt(in->vertices, 4 * 19);
	cr_assert_eq(in->crs, GEO_CRS_GCJ02);
	/* a GCJ point just inside the drawn west edge, converted */
	glon = w + 0.0005;
	glat = so + s / 2;
	geo_gcj02_to_wgs84(glon, glat, &lon, &lat);
	cr_assert_eq(fence_set_locate(set, 0, lon, lat), FENCE_IN);
	/* a GCJ point just inside the drawn east edge, taken as WGS-84, is
	 * outside: in Chengdu the offset moves the fence ~250 m west */
	glon = w + s / cos(30.7 * M_PI / 180) - 0.0005;
	geo_gcj02_to_wgs84(glon, glat, &lon, &lat);
	cr_assert_lt(lon, glon - 0.001);
	cr_assert_eq(fence_set_locate(set, 0, glon, glat), FENCE_OUT);
	cr_assert_eq(fence_set_locate(set, 0, lon, lat), FENCE_IN);
	fence_set_free(set);
}

Test(fence, distances, .timeout = 60)
{
	struct fence_builder *b = fence_builder_new();
	struct fence_set *set;
	double		 dlat = 100 / M_PER_DEG;
	double		 dlon = dlat / cos(30.6 * M_PI / 180);
	double		 sq[8], line[4] = { 104, 30.6, 104.01, 30.6 }, d;

	sq[0] = 104;
	sq[1] = 30.6;
	sq[2] = 104 + dlon;
	sq[3] = 30.6;
	sq[4] = 104 + dlon;
	sq[5] = 30.6 + dlat;
	sq[6] = 104;
	sq[7] = 30.6 + dlat;
	begin(b, "sq", GEO_CRS_WGS84);
	fence_builder_part(b, why, sizeof(why));
	fence_builder_ring(b, sq, 4, why, sizeof(why));
	end_ok(b);
	begin(b, "circle", GEO_CRS_WGS84);
	fence_builder_circle(b, 104, 30.6, 100, why, sizeof(why));
	end_ok(b);
	begin(b, "road", GEO_CRS_WGS84);
	fence_builder_corridor(b, line, 2, 40, why, sizeof(why));
	end_ok(b);
	set = fence_builder_finish(b);

	/* centre of the 100 m square: 50 m inside */
	d = fence_set_distance_m(set, 0, 104 + dlon / 2, 30.6 + dlat / 2);
	cr_assert_float_eq(d, -50, 0.05, "%f", d);
	/* 10 m east of it */
	d = fence_set_distance_m(set, 0, 104 + dlon * 1.1, 30.6 + dlat / 2);
	cr_assert_float_eq(d, 10, 0.05, "%f", d);
	cr_assert_eq(fence_set_distance_m(set, 0, 104, 30.6 + dlat / 2), 0);
	cr_assert(isnan(fence_set_distance_m(set, 0, NAN, 30)));
	cr_assert(isnan(fence_set_distance_m(set, 9, 104, 30)));
	/* 150 m north of the circle's centre: 50 m outside */
	d = fence_set_distance_m(set, 1, 104, 30.6 + 1.5 * dlat);
	cr_assert_float_eq(d, 50, 0.05, "%f", d);
	d = fence_set_distance_m(set, 1, 104, 30.6);
	cr_assert_float_eq(d, -100, 0.01, "%f", d);
	/* 5 m from the road's axis: 15 m inside */
	d = fence_set_distance_m(set, 2, 104.005, 30.6 + dlat / 20);
	cr_assert_float_eq(d, -15, 0.05, "%f", d);
	fence_set_free(set);
}

Test(fence, set_accessors, .timeout = 60)
{
	struct fence_builder *b = fence_builder_new();
	struct fence_set *set;
	struct fence_spec sp;
	const struct fence_info *in;
	const int32_t	*xy;
	size_t		 np, index, total;
	bool		 hole;
	uint32_t	 out[4];

	set = fence_builder_finish(fence_builder_new());
	cr_assert_eq(fence_set_count(set), 0);
	cr_assert_eq(fence_set_query(set, 104, 30, out, 4), 0);
	cr_assert_eq(fence_set_find(set, "x"), -1);
	cr_assert_null(fence_set_info(set, 0));
	cr_assert_gt(fence_set_memory(set, NULL), 0);
	fence_set_free(set);

	memset(&sp, 0, sizeof(sp));
	sp.id = "office";
	sp.name = "单位大院";
	sp.kind = FENCE_OFFICE;
	sp.crs = GEO_CRS_WGS84;
	sp.speed_limit_kmh = 20;
	sp.dwell_s = 600;
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), 0);
	fence_builder_part(b, why, sizeof(why));
	ring_u(b, sq_shell, 4, U);
	ring_u(b, sq_hole, 4, U);
	end_ok(b);
	begin(b, "c", GEO_CRS_WGS84);
	fence_builder_circle(b, 104.1, 30.7, 250, why, sizeof(why));
	end_ok(b);
	set = fence_builder_finish(b);
	cr_assert_eq(fence_set_count(set), 2);
	cr_assert_eq(fence_set_find(set, "office"), 0);
	cr_assert_eq(fence_set_find(set, "c"), 1);
	cr_assert_eq(fence_set_find(set, "nope"), -1);
	in = fence_set_info(set, 0);
	cr_assert_str_eq(in->id, "office");
	cr_assert_str_eq(in->name, "单位大院");
	cr_assert_str_eq(in->category, "");
	cr_assert_eq(in->kind, FENCE_OFFICE);
	cr_assert_eq(in->shape, FENCE_SHAPE_POLYGON);
	cr_assert_eq(in->dwell_s, 600);
	cr_assert_float_eq(in->speed_limit_kmh, 20, 1e-12);
	cr_assert_eq(in->parts, 1);
	cr_assert_eq(in->rings, 2);
	cr_assert_eq(in->vertices, 8);
	cr_assert_float_eq(in->min_lon, 104.0, 1e-9);
	cr_assert_float_eq(in->min_lat, 30.6, 1e-9);
	cr_assert_float_eq(in->max_lon, 104.01, 1e-9);
	cr_assert_float_eq(in->max_lat, 30.61, 1e-9);
	cr_assert(!in->large);
	in = fence_set_info(set, 1);
	cr_assert_eq(in->vertices, 0);
	cr_assert_eq(in->rings, 0);
	cr_assert_float_eq(in->radius_m, 250, 1e-9);
	cr_assert_float_eq(in->max_lat - in->min_lat, 2 * 250 / M_PER_DEG,
	    1e-6);
	cr_assert_eq(fence_set_ring(set, 0, 1, &xy, &np, &hole), 0);
	cr_assert_eq(np, 4);
	cr_assert(hole);
	cr_assert_eq(xy[0], BX + 40 * U);
	cr_assert_eq(xy[1], BY + 40 * U);
	cr_assert_eq(fence_set_ring(set, 0, 0, &xy, &np, &hole), 0);
	cr_assert(!hole);
	cr_assert_eq(fence_set_ring(set, 0, 2, &xy, &np, &hole), -1);
	cr_assert_eq(fence_set_ring(set, 1, 0, &xy, &np, &hole), -1);
	total = fence_set_memory(set, &index);
	/* The index holds at least the stored vertices, and is part of the
	 * whole, which also holds the id "office" and its record. */
	cr_assert_geq(index, np * 2 * sizeof(int32_t));
	cr_assert_lt(index, total);
	cr_assert_eq(fence_set_query(set, NAN, 30.6, out, 4), 0);
	cr_assert_eq(fence_set_query(set, 200, 30.6, out, 4), 0);
	cr_assert_eq(fence_set_query(set, 104.1, 30.7, out, 4), 1);
	cr_assert_eq(out[0], 1);
	cr_assert_str_eq(fence_kind_name(FENCE_PARKING), "parking");
	{
		enum fence_kind k;

		cr_assert_eq(fence_kind_parse("forbidden", &k), 0);
		cr_assert_eq(k, FENCE_FORBIDDEN);
		cr_assert_eq(fence_kind_parse("Forbidden", &k), -1);
	}
	cr_assert_str_eq(fence_shape_name(FENCE_SHAPE_CORRIDOR), "corridor");
	fence_set_free(set);
}
