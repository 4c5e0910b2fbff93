/* SPDX-License-Identifier: MIT */
/*
 * platformset.h - what the platform's set_fences and set_calendar
 * commands set (docs/platform-api.md §4.3), kept beside the database so
 * that a restart or a reload keeps it, and merged with the
 * configuration's fences and calendar.
 *
 * Files, in the directory of storage.path:
 *   platform-fences.geojson   the last FeatureCollection set_fences
 *                             accepted, loaded like a fences entry with
 *                             id "platform", crs wgs84 and no kind of
 *                             its own (each feature gives kind and id,
 *                             fenceload.h); ids clashing with the
 *                             configuration's fences are an error
 *   platform-calendar.json    {"holidays": [...], "extra_workdays":
 *                             [...]} of the last set_calendar; a date the
 *                             configuration already lists is left to the
 *                             configuration
 * Both are written atomically (temporary file, fsync, rename, fsync of
 * the directory).
 */
#ifndef PLATFORMSET_H
#define PLATFORMSET_H

#include <stddef.h>

#include <jansson.h>

#include "calendar.h"
#include "config.h"
#include "fence.h"

#define PLATFORMSET_FENCES	"platform-fences.geojson"
#define PLATFORMSET_CALENDAR	"platform-calendar.json"

/* DIR(storage.path)/file, new string. */
char		*platformset_path(const struct config *, const char *file);

/*
 * The fences of c plus those of the GeoJSON file geojson_path (NULL:
 * the stored PLATFORMSET_FENCES, when it exists).  As fenceload():
 * NULL and errs filled on failure; warns either way.
 */
struct fence_set *platformset_fences(const struct config *c,
		    const char *geojson_path, struct config_errors *errs,
		    struct config_errors *warns);

/*
 * The calendar of c plus the dates of obj ({"holidays": ["YYYY-MM-DD",
 * ...], "extra_workdays": [...]}, both optional; NULL: the stored
 * PLATFORMSET_CALENDAR, when it exists).  NULL with why filled for a
 * malformed obj or stored file, or an invalid calendar.  n_added[0]
 * holidays and n_added[1] workdays taken, n_added[2] dates left to the
 * configuration (n_added may be NULL).
 */
struct calendar	*platformset_calendar(const struct config *c,
		    const json_t *obj, size_t n_added[3], char *why,
		    size_t whylen);

/* Write text to path atomically and durably.  0, or -1 and why. */
int		 platformset_save(const char *path, const char *text,
		    size_t len, char *why, size_t whylen);

#endif /* PLATFORMSET_H */
