/* SPDX-License-Identifier: MIT */
/*
 * platformset.c - fences and calendar dates set by the platform, kept
 * beside the database and merged with the configuration's.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fenceload.h"
#include "platformset.h"
#include "util.h"

char *
platformset_path(const struct config *c, const char *file)
{
	char	*copy = xstrdup(c->storage.path), *p;

	p = xasprintf("%s/%s", dirname(copy), file);
	free(copy);
	return p;
}

struct fence_set *
platformset_fences(const struct config *c, const char *geojson_path,
    struct config_errors *errs, struct config_errors *warns)
{
	struct config		 view = *c;
	struct config_fence	*f;
	struct fence_set	*set;
	char			*stored = NULL;

	if (geojson_path == NULL) {
		stored = platformset_path(c, PLATFORMSET_FENCES);
		if (access(stored, F_OK) == 0)
			geojson_path = stored;
	}
	if (geojson_path == NULL) {
		free(stored);
		return fenceload(c, errs, warns);
	}
	view.fences = xcalloc(c->nfences + 1, sizeof(*view.fences));
	if (c->nfences > 0)
		memcpy(view.fences, c->fences, c->nfences *
		    sizeof(*view.fences));
	f = &view.fences[c->nfences];
	f->id = (char *)"platform";
	f->name = (char *)"";
	f->category = (char *)"";
	f->crs = GEO_CRS_WGS84;
	f->dwell_s = -1;
	f->geom = CONFIG_FENCE_GEOJSON;
	f->feature_ids = true;
	f->geojson = (char *)geojson_path;
	f->geojson_path = (char *)geojson_path;
	f->file = (char *)geojson_path;
	f->line = 0;
	view.nfences = c->nfences + 1;
	set = fenceload(&view, errs, warns);
	free(view.fences);
	free(stored);
	return set;
}

static int
date_parse(const char *s, struct calendar_date *d)
{
	char	tail;

	if (s == NULL || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c",
	    &d->year, &d->month, &d->day, &tail) != 3)
		return -1;
	return calendar_date_valid(d) ? 0 : -1;
}

static bool
same_date(const struct calendar_date *a, const struct calendar_date *b)
{
	return a->year == b->year && a->month == b->month && a->day == b->day;
}

struct calendar *
platformset_calendar(const struct config *c, const json_t *obj,
    size_t n_added[3], char *why, size_t whylen)
{
	static const char *const keys[2] = { "holidays", "extra_workdays" };
	struct calendar_spec	 spec;
	struct calendar_entry	*e;
	struct calendar		*cal;
	json_t			*loaded = NULL, *list, *v;
	json_error_t		 jerr;
	const char		*key;
	char			*path;
	size_t			 i, j, k, n, added[3] = { 0, 0, 0 };

	config_calendar_spec(c, &spec);
	if (obj == NULL) {
		path = platformset_path(c, PLATFORMSET_CALENDAR);
		if (access(path, F_OK) != 0) {
			free(path);
			if (n_added != NULL)
				memset(n_added, 0, 3 * sizeof(*n_added));
			return calendar_new(&spec, why, whylen);
		}
		loaded = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
		if (loaded == NULL) {
			snprintf(why, whylen, "%s:%d: %s", path, jerr.line,
			    jerr.text);
			free(path);
			return NULL;
		}
		free(path);
		obj = loaded;
	}
	if (!json_is_object(obj)) {
		snprintf(why, whylen, "an object with \"holidays\" and "
		    "\"extra_workdays\" expected");
		json_decref(loaded);
		return NULL;
	}
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, keys[0]) != 0 && strcmp(key, keys[1]) != 0) {
			snprintf(why, whylen, "unknown member \"%s\" (holidays, "
			    "extra_workdays)", key);
			json_decref(loaded);
			return NULL;
		}
	}
	n = spec.nentries;
	for (k = 0; k < 2; k++)
		n += json_array_size(json_object_get(obj, keys[k]));
	if (n > CALENDAR_MAX_DATES) {
		snprintf(why, whylen, "more than %d dates in all",
		    CALENDAR_MAX_DATES);
		json_decref(loaded);
		return NULL;
	}
	e = xcalloc(n + 1, sizeof(*e));
	if (spec.nentries > 0)
		memcpy(e, spec.entries, spec.nentries * sizeof(*e));
	n = spec.nentries;
	for (k = 0; k < 2; k++) {
		list = json_object_get(obj, keys[k]);
		if (list != NULL && !json_is_array(list)) {
			snprintf(why, whylen, "%s: an array of \"YYYY-MM-DD\" "
			    "expected", keys[k]);
			goto fail;
		}
		json_array_foreach(list, i, v) {
			struct calendar_date	d;

			if (date_parse(json_string_value(v), &d) == -1) {
				snprintf(why, whylen, "%s[%zu]: not a valid "
				    "date \"YYYY-MM-DD\"", keys[k], i);
				goto fail;
			}
			for (j = 0; j < spec.nentries; j++)
				if (same_date(&e[j].date, &d))
					break;
			if (j < spec.nentries) {
				added[2]++;	/* the configuration's */
				continue;
			}
			e[n].date = d;
			e[n].holiday = k == 0;
			e[n].name = "platform";
			n++;
			added[k]++;
		}
	}
	spec.entries = e;
	spec.nentries = n;
	cal = calendar_new(&spec, why, whylen);
	free(e);
	json_decref(loaded);
	if (cal != NULL && n_added != NULL)
		memcpy(n_added, added, sizeof(added));
	return cal;
fail:
	free(e);
	json_decref(loaded);
	return NULL;
}

int
platformset_save(const char *path, const char *text, size_t len, char *why,
    size_t whylen)
{
	char	*tmp = xasprintf("%s.new", path), *copy;
	int	 fd, dfd;
	size_t	 off = 0;
	ssize_t	 w;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0640)) == -1) {
		snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (off < len) {
		if ((w = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	copy = xstrdup(path);
	if ((dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(copy);
	free(tmp);
	return 0;
fail:
	snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}
