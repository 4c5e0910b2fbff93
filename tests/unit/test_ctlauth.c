/* SPDX-License-Identifier: MIT */
/*
 * test_ctlauth.c - the class of every control socket command and who may
 * run it (ctlauth.h): the table, the decision, the refusals' log lines
 * and messages.
 *
 * Membership itself is ctl_peer_in_group()'s (test_ctl.c); here peers are
 * made members through their process groups (struct ctl_peer's groups),
 * which needs no user or group to exist beyond our own primary group.
 */
#include <criterion/criterion.h>

#include <sys/types.h>

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctlauth.h"
#include "log.h"
#include "util.h"

#define LOG_MAX	8192

static const char *const inspect_cmds[] = {
	"status", "fences", "fences_at", "check", "export", "pubkey",
	"positions", "trips", "events", "dispatch_list", "records", "report"
};
static const char *const admin_cmds[] = {
	"dispatch_add", "dispatch_remove", "reload"
};
/* Not in the table: administrators only. */
static const char *const unknown_cmds[] = {
	"", "frobnicate", "STATUS", "status ", " status", "statu", "status2",
	"set_fences", "set_calendar", "locate", "resend", "shutdown"
};

static void
setup(void)
{
	log_init("test_ctlauth", LOG_TARGET_QUIET);
}

TestSuite(ctlauth, .init = setup, .timeout = 30);

/* A uid that is neither root, nor ours, nor (likely) anybody's. */
static uid_t
stranger_uid(void)
{
	uid_t	uid = 0x7ffff000;

	while (uid == geteuid() || getpwuid(uid) != NULL)
		uid++;
	return uid;
}

/* A gid no group has. */
static gid_t
stranger_gid(void)
{
	gid_t	gid = 0x7ffff000;

	while (getgrgid(gid) != NULL)
		gid++;
	return gid;
}

/* The name of our primary group: the group the tests make peers join. */
static void
own_group(char *name, size_t size)
{
	struct group	*gr = getgrgid(getegid());

	cr_assert_not_null(gr, "our own group has no name");
	util_strlcpy(name, gr->gr_name, size);
}

/* stderr (LOG_TARGET_QUIET) into a file while fn runs. */
struct capture {
	FILE	*fp;
	int	 saved;
};

static void
capture_begin(struct capture *c)
{
	fflush(stderr);
	c->fp = tmpfile();
	cr_assert_not_null(c->fp);
	c->saved = dup(STDERR_FILENO);
	cr_assert(c->saved >= 0);
	cr_assert_eq(dup2(fileno(c->fp), STDERR_FILENO), STDERR_FILENO);
}

/* The text logged since capture_begin(), malloc'd. */
static char *
capture_end(struct capture *c)
{
	char	*text = xmalloc(LOG_MAX);
	size_t	 n;

	fflush(stderr);
	cr_assert_eq(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
	close(c->saved);
	rewind(c->fp);
	n = fread(text, 1, LOG_MAX - 1, c->fp);
	text[n] = '\0';
	fclose(c->fp);
	return text;
}

Test(ctlauth, table)
{
	size_t	i;

	for (i = 0; i < NELEM(inspect_cmds); i++)
		cr_expect_eq(ctlauth_class(inspect_cmds[i]), CTLAUTH_INSPECT,
		    "%s", inspect_cmds[i]);
	for (i = 0; i < NELEM(admin_cmds); i++)
		cr_expect_eq(ctlauth_class(admin_cmds[i]), CTLAUTH_ADMIN, "%s",
		    admin_cmds[i]);
	for (i = 0; i < NELEM(unknown_cmds); i++)
		cr_expect_eq(ctlauth_class(unknown_cmds[i]), CTLAUTH_ADMIN,
		    "\"%s\" is not in the table: admin", unknown_cmds[i]);
	cr_expect_eq(ctlauth_class(NULL), CTLAUTH_ADMIN);
	cr_expect_str_eq(ctlauth_class_name(CTLAUTH_INSPECT), "inspect");
	cr_expect_str_eq(ctlauth_class_name(CTLAUTH_ADMIN), "admin");
}

Test(ctlauth, decision)
{
	/* admin, inspector -> inspect allowed, admin allowed */
	cr_expect(ctlauth_allows(CTLAUTH_INSPECT, true, false));
	cr_expect(ctlauth_allows(CTLAUTH_ADMIN, true, false));
	cr_expect(ctlauth_allows(CTLAUTH_INSPECT, true, true));
	cr_expect(ctlauth_allows(CTLAUTH_ADMIN, true, true));
	cr_expect(ctlauth_allows(CTLAUTH_INSPECT, false, true));
	cr_expect_not(ctlauth_allows(CTLAUTH_ADMIN, false, true));
	cr_expect_not(ctlauth_allows(CTLAUTH_INSPECT, false, false));
	cr_expect_not(ctlauth_allows(CTLAUTH_ADMIN, false, false));
}

/* Root and the daemon's own user run everything, with no group at all. */
Test(ctlauth, root_and_own_user)
{
	struct ctl_peer	 peer = { .pid = 42, .uid = 0,
	    .gid = 0 };
	char		 why[256];
	size_t		 i;
	int		 k;

	for (k = 0; k < 2; k++) {
		peer.uid = k == 0 ? 0 : geteuid();
		peer.gid = stranger_gid();
		for (i = 0; i < NELEM(inspect_cmds); i++)
			cr_expect(ctlauth_permit(inspect_cmds[i], &peer, "", "",
			    why, sizeof(why)), "%s", inspect_cmds[i]);
		for (i = 0; i < NELEM(admin_cmds); i++)
			cr_expect(ctlauth_permit(admin_cmds[i], &peer, NULL,
			    "no-such-group-fleetgw", why, sizeof(why)), "%s",
			    admin_cmds[i]);
		for (i = 0; i < NELEM(unknown_cmds); i++)
			cr_expect(ctlauth_permit(unknown_cmds[i], &peer, "", "",
			    why, sizeof(why)), "%s", unknown_cmds[i]);
	}
}

/* Nobody in particular: refused everything, each refusal logged. */
Test(ctlauth, stranger_refused_and_logged)
{
	struct ctl_peer	 peer = { .pid = 1234, .uid = stranger_uid(),
	    .gid = stranger_gid() };
	struct capture	 cap;
	char		 why[512], want[512], group[256], *log;
	size_t		 i;

	own_group(group, sizeof(group));
	for (i = 0; i < NELEM(inspect_cmds); i++) {
		capture_begin(&cap);
		why[0] = '\0';
		cr_expect_not(ctlauth_permit(inspect_cmds[i], &peer, group,
		    group, why, sizeof(why)), "%s", inspect_cmds[i]);
		log = capture_end(&cap);
		snprintf(want, sizeof(want), "test_ctlauth: ctl: %s refused: uid %ld (pid "
		    "1234) is not in %s or an administrator (inspect "
		    "command)\n", inspect_cmds[i], (long)peer.uid, group);
		cr_expect_str_eq(log, want);
		snprintf(want, sizeof(want), "permission denied: %s is an "
		    "inspect command, for members of group %s and "
		    "administrators", inspect_cmds[i], group);
		cr_expect_str_eq(why, want);
		free(log);
	}
	for (i = 0; i < NELEM(admin_cmds); i++) {
		capture_begin(&cap);
		cr_expect_not(ctlauth_permit(admin_cmds[i], &peer, "", group,
		    why, sizeof(why)), "%s", admin_cmds[i]);
		log = capture_end(&cap);
		snprintf(want, sizeof(want), "test_ctlauth: ctl: %s refused: uid %ld (pid "
		    "1234) is not an administrator (admin command: root, uid "
		    "%ld)\n", admin_cmds[i], (long)peer.uid, (long)geteuid());
		cr_expect_str_eq(log, want);
		snprintf(want, sizeof(want), "permission denied: %s is an admin "
		    "command, for root, the daemon's user only "
		    "(ctl.admin_group is empty)", admin_cmds[i]);
		cr_expect_str_eq(why, want);
		free(log);
	}
	capture_begin(&cap);
	cr_expect_not(ctlauth_permit("frobnicate", &peer, "x-admins", group,
	    why, sizeof(why)));
	log = capture_end(&cap);
	snprintf(want, sizeof(want), "test_ctlauth: ctl: frobnicate refused: uid %ld (pid "
	    "1234) is not an administrator (admin command: root, uid %ld or "
	    "group x-admins)\n", (long)peer.uid, (long)geteuid());
	cr_expect_str_eq(log, want);
	cr_expect_str_eq(why, "permission denied: frobnicate is an admin "
	    "command, for root, the daemon's user and members of group "
	    "x-admins");
	free(log);
	/* What SO_PEERCRED failure leaves. */
	peer.uid = (uid_t)-1;
	peer.gid = (gid_t)-1;
	peer.pid = 0;
	cr_expect_not(ctlauth_permit("status", &peer, group, group, why,
	    sizeof(why)));
	cr_expect_not(ctlauth_permit("status", NULL, group, group, why,
	    sizeof(why)));
}

/*
 * An inspector (in inspect_group by a supplementary group of its
 * process): every inspect command, no admin or unknown one.
 */
Test(ctlauth, inspector)
{
	struct ctl_peer	 peer = { .pid = 77, .uid = stranger_uid(),
	    .gid = stranger_gid() };
	struct capture	 cap;
	gid_t		 groups[2] = { 0, 0 };
	char		 why[256], group[256], *log;
	size_t		 i;

	own_group(group, sizeof(group));
	groups[0] = stranger_gid() + 1;
	groups[1] = getegid();
	peer.groups = groups;
	peer.ngroups = 2;
	capture_begin(&cap);
	for (i = 0; i < NELEM(inspect_cmds); i++)
		cr_expect(ctlauth_permit(inspect_cmds[i], &peer, "", group, why,
		    sizeof(why)), "%s", inspect_cmds[i]);
	log = capture_end(&cap);
	cr_expect_str_eq(log, "", "allowed requests are not logged");
	free(log);
	for (i = 0; i < NELEM(admin_cmds); i++) {
		why[0] = '\0';
		cr_expect_not(ctlauth_permit(admin_cmds[i], &peer, "", group,
		    why, sizeof(why)), "%s", admin_cmds[i]);
		cr_expect(strncmp(why, "permission denied: ", 19) == 0, "%s",
		    why);
	}
	for (i = 0; i < NELEM(unknown_cmds); i++)
		cr_expect_not(ctlauth_permit(unknown_cmds[i], &peer, "", group,
		    why, sizeof(why)), "\"%s\"", unknown_cmds[i]);
	/* The same peer by its primary group. */
	peer.ngroups = 0;
	peer.gid = getegid();
	cr_expect(ctlauth_permit("export", &peer, "", group, why,
	    sizeof(why)));
	cr_expect_not(ctlauth_permit("reload", &peer, "", group, why,
	    sizeof(why)));
	/* Another inspect group, or none: not an inspector any more. */
	cr_expect_not(ctlauth_permit("status", &peer, "",
	    "no-such-group-fleetgw", why, sizeof(why)));
	capture_begin(&cap);
	cr_expect_not(ctlauth_permit("status", &peer, "", "", why,
	    sizeof(why)));
	log = capture_end(&cap);
	cr_expect(strstr(log, "ctl: status refused: uid ") != NULL &&
	    strstr(log, " is not in ctl.inspect_group (none set) or an "
	    "administrator (inspect command)\n") != NULL, "%s", log);
	cr_expect_str_eq(why, "permission denied: status is an inspect "
	    "command and ctl.inspect_group is empty: administrators only");
	free(log);
}

/* Members of admin_group run everything, inspect commands included. */
Test(ctlauth, admin_group_member)
{
	struct ctl_peer	 peer = { .pid = 5, .uid = stranger_uid(),
	    .gid = stranger_gid() };
	gid_t		 groups[1];
	char		 why[256], group[256];
	size_t		 i;

	own_group(group, sizeof(group));
	groups[0] = getegid();
	peer.groups = groups;
	peer.ngroups = 1;
	for (i = 0; i < NELEM(admin_cmds); i++)
		cr_expect(ctlauth_permit(admin_cmds[i], &peer, group, "",
		    why, sizeof(why)), "%s", admin_cmds[i]);
	for (i = 0; i < NELEM(inspect_cmds); i++)
		cr_expect(ctlauth_permit(inspect_cmds[i], &peer, group,
		    "no-such-group-fleetgw", why, sizeof(why)), "%s",
		    inspect_cmds[i]);
	cr_expect(ctlauth_permit("frobnicate", &peer, group, "", why,
	    sizeof(why)));
}

/* The command is the client's: the log line shows it defanged. */
Test(ctlauth, log_line_is_clean)
{
	struct ctl_peer	 peer = { .pid = 9, .uid = stranger_uid(),
	    .gid = stranger_gid() };
	struct capture	 cap;
	char		 why[256], *log, longcmd[200];

	capture_begin(&cap);
	cr_expect_not(ctlauth_permit("x\nctl: forged\x1b[0m", &peer, "", "",
	    why, sizeof(why)));
	log = capture_end(&cap);
	cr_expect(strncmp(log, "test_ctlauth: ctl: x?ctl: forged?[0m refused: ",
	    46) == 0, "%s", log);
	cr_expect_eq(strchr(log, '\n'), log + strlen(log) - 1, "%s", log);
	cr_expect(strncmp(why, "permission denied: x?ctl: forged?[0m is an "
	    "admin command", 56) == 0, "%s", why);
	free(log);

	memset(longcmd, 'a', sizeof(longcmd) - 1);
	longcmd[sizeof(longcmd) - 1] = '\0';
	capture_begin(&cap);
	cr_expect_not(ctlauth_permit(longcmd, &peer, "", "", why,
	    sizeof(why)));
	log = capture_end(&cap);
	cr_expect(strstr(log, "aaa... refused: ") != NULL, "%s", log);
	cr_expect(strlen(log) < 200, "%s", log);
	free(log);
}
