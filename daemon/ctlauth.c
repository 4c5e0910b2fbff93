/* SPDX-License-Identifier: MIT */
/*
 * ctlauth.c - the class of every control socket command, and the check.
 *
 * The table is the single place that says what an inspector may do.  A
 * handler in main.c without an entry here is an admin command: adding a
 * read-only command means adding its line below, on purpose.
 */
#include <sys/types.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctlauth.h"
#include "log.h"
#include "util.h"

#define CTLAUTH_CMD_SHOWN	40	/* bytes of a command name logged */

static const struct {
	const char		*cmd;
	enum ctlauth_class	 cls;
} ctlauth_table[] = {
	/* Read-only: what an inspector (检查人员) needs on site. */
	{ "status",		CTLAUTH_INSPECT },
	{ "fences",		CTLAUTH_INSPECT },
	{ "fences_at",		CTLAUTH_INSPECT },
	{ "check",		CTLAUTH_INSPECT },	/* daily check (每日一小检) */
	{ "export",		CTLAUTH_INSPECT },	/* signed bundle, audited */
	{ "pubkey",		CTLAUTH_INSPECT },
	/* Listings, should they come through the socket. */
	{ "positions",		CTLAUTH_INSPECT },
	{ "trips",		CTLAUTH_INSPECT },
	{ "events",		CTLAUTH_INSPECT },
	{ "dispatch_list",	CTLAUTH_INSPECT },
	{ "records",		CTLAUTH_INSPECT },
	{ "report",		CTLAUTH_INSPECT },

	/* State changes: administrators only. */
	{ "dispatch_add",	CTLAUTH_ADMIN },
	{ "dispatch_remove",	CTLAUTH_ADMIN },
	{ "reload",		CTLAUTH_ADMIN },
};

enum ctlauth_class
ctlauth_class(const char *cmd)
{
	size_t	i;

	if (cmd == NULL)
		return CTLAUTH_ADMIN;
	for (i = 0; i < NELEM(ctlauth_table); i++)
		if (strcmp(cmd, ctlauth_table[i].cmd) == 0)
			return ctlauth_table[i].cls;
	return CTLAUTH_ADMIN;
}

const char *
ctlauth_class_name(enum ctlauth_class cls)
{
	return cls == CTLAUTH_INSPECT ? "inspect" : "admin";
}

bool
ctlauth_allows(enum ctlauth_class cls, bool admin, bool inspector)
{
	if (admin)
		return true;
	return cls == CTLAUTH_INSPECT && inspector;
}

/*
 * The command as the client sent it, for the log: printable ASCII only
 * and cut short, so a request cannot forge log lines.
 */
static void
ctlauth_shown(const char *cmd, char *out, size_t outlen)
{
	size_t	i;

	for (i = 0; cmd[i] != '\0' && i < outlen - 1; i++)
		out[i] = (cmd[i] >= 0x20 && cmd[i] < 0x7f) ? cmd[i] : '?';
	out[i] = '\0';
	if (cmd[i] != '\0' && i >= 3)
		memcpy(out + i - 3, "...", 3);
}

bool
ctlauth_permit(const char *cmd, const struct ctl_peer *peer,
    const char *admin_group, const char *inspect_group, char *why,
    size_t whylen)
{
	enum ctlauth_class	 cls = ctlauth_class(cmd);
	bool			 admin, inspector = false;
	bool			 has_admin_group, has_inspect_group;
	char			 shown[CTLAUTH_CMD_SHOWN + 1];

	if (peer == NULL)
		admin = false;
	else
		admin = ctl_peer_is_admin(peer, admin_group);
	has_admin_group = admin_group != NULL && *admin_group != '\0';
	has_inspect_group = inspect_group != NULL && *inspect_group != '\0';
	if (!admin && cls == CTLAUTH_INSPECT)
		inspector = ctl_peer_in_group(peer, inspect_group);
	if (ctlauth_allows(cls, admin, inspector))
		return true;

	ctlauth_shown(cmd != NULL ? cmd : "(none)", shown, sizeof(shown));
	if (cls == CTLAUTH_INSPECT) {
		log_warnx("ctl: %s refused: uid %ld (pid %ld) is not in %s or "
		    "an administrator (inspect command)", shown,
		    peer != NULL ? (long)peer->uid : -1L,
		    peer != NULL ? (long)peer->pid : 0L,
		    has_inspect_group ? inspect_group :
		    "ctl.inspect_group (none set)");
		if (has_inspect_group)
			snprintf(why, whylen, "permission denied: %s is an "
			    "inspect command, for members of group %s and "
			    "administrators", shown, inspect_group);
		else
			snprintf(why, whylen, "permission denied: %s is an "
			    "inspect command and ctl.inspect_group is empty: "
			    "administrators only", shown);
	} else {
		log_warnx("ctl: %s refused: uid %ld (pid %ld) is not an "
		    "administrator (admin command: root, uid %ld%s%s)", shown,
		    peer != NULL ? (long)peer->uid : -1L,
		    peer != NULL ? (long)peer->pid : 0L, (long)geteuid(),
		    has_admin_group ? " or group " : "",
		    has_admin_group ? admin_group : "");
		snprintf(why, whylen, "permission denied: %s is an admin "
		    "command, for root, the daemon's user%s%s", shown,
		    has_admin_group ? " and members of group " :
		    " only (ctl.admin_group is empty)",
		    has_admin_group ? admin_group : "");
	}
	return false;
}
