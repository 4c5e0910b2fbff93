/* SPDX-License-Identifier: MIT */
/*
 * test_ev.c - the poll() loop: timers, fd watches, removal during
 * dispatch, signals through the signalfd, prepare hooks.
 */
#include <sys/socket.h>

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ev.h"

struct order {
	struct ev_loop	*loop;
	int		 seq[8];
	int		 n;
	int		 stop_after;
};

struct tagged {
	struct order	*o;
	int		 tag;
};

static void
record_tag(void *arg)
{
	struct tagged	*t = arg;

	t->o->seq[t->o->n++] = t->tag;
	if (t->o->n == t->o->stop_after)
		ev_break(t->o->loop);
}

Test(ev, timers_fire_in_deadline_order, .timeout = 5)
{
	struct order	 o = { .n = 0, .stop_after = 3 };
	struct ev_timer	 t1, t2, t3;
	struct tagged	 a = { &o, 1 }, b = { &o, 2 }, c = { &o, 3 };
	uint64_t	 start;

	o.loop = ev_new();
	ev_timer_init(&t1, record_tag, &a);
	ev_timer_init(&t2, record_tag, &b);
	ev_timer_init(&t3, record_tag, &c);
	ev_timer_set(o.loop, &t3, 60);
	ev_timer_set(o.loop, &t1, 20);
	ev_timer_set(o.loop, &t2, 40);
	start = ev_now_ms(o.loop);
	cr_assert_eq(ev_run(o.loop), 0);
	cr_assert_eq(o.n, 3);
	cr_assert_eq(o.seq[0], 1);
	cr_assert_eq(o.seq[1], 2);
	cr_assert_eq(o.seq[2], 3);
	cr_assert_geq(ev_now_ms(o.loop) - start, 60);
	cr_assert(!ev_timer_pending(&t1));
	ev_free(o.loop);
}

Test(ev, stopped_and_rearmed_timers, .timeout = 5)
{
	struct order	 o = { .n = 0, .stop_after = 1 };
	struct ev_timer	 t1, t2;
	struct tagged	 a = { &o, 1 }, b = { &o, 2 };

	o.loop = ev_new();
	ev_timer_init(&t1, record_tag, &a);
	ev_timer_init(&t2, record_tag, &b);
	ev_timer_set(o.loop, &t1, 10);
	ev_timer_set(o.loop, &t2, 30);
	ev_timer_stop(o.loop, &t1);
	cr_assert(!ev_timer_pending(&t1));
	cr_assert(ev_timer_pending(&t2));
	/* Re-arming moves the deadline instead of adding a second entry. */
	ev_timer_set(o.loop, &t2, 15);
	ev_timer_set(o.loop, &t2, 20);
	cr_assert_eq(ev_run(o.loop), 0);
	cr_assert_eq(o.n, 1);
	cr_assert_eq(o.seq[0], 2);
	ev_free(o.loop);
}

struct fdctx {
	struct ev_loop	*loop;
	int		 other_fd;
	int		 calls;
	char		 got;
};

static void
read_and_remove_other(int fd, short revents, void *arg)
{
	struct fdctx	*c = arg;

	cr_assert(revents & POLLIN);
	cr_assert_eq(read(fd, &c->got, 1), 1);
	c->calls++;
	/* Removing a watch that is ready in the same turn must be safe. */
	ev_fd_del(c->loop, c->other_fd);
	ev_fd_del(c->loop, fd);
	ev_break(c->loop);
}

Test(ev, fd_dispatch_and_removal_during_dispatch, .timeout = 5)
{
	struct fdctx	 c1, c2;
	int		 p1[2], p2[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p1), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p2), 0);
	memset(&c1, 0, sizeof(c1));
	memset(&c2, 0, sizeof(c2));
	c1.loop = c2.loop = ev_new();
	c1.other_fd = p2[0];
	c2.other_fd = p1[0];
	cr_assert_eq(ev_fd_add(c1.loop, p1[0], POLLIN, read_and_remove_other,
	    &c1), 0);
	cr_assert_eq(ev_fd_add(c1.loop, p2[0], POLLIN, read_and_remove_other,
	    &c2), 0);
	cr_assert_eq(ev_fd_add(c1.loop, p1[0], POLLIN, read_and_remove_other,
	    &c1), -1, "a second watch on the same fd must be refused");
	cr_assert_eq(write(p1[1], "a", 1), 1);
	cr_assert_eq(write(p2[1], "b", 1), 1);
	cr_assert_eq(ev_run(c1.loop), 0);
	/* Exactly one callback ran: the first removed the other. */
	cr_assert_eq(c1.calls + c2.calls, 1);
	ev_free(c1.loop);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

struct sigctx {
	struct ev_loop	*loop;
	int		 hup, term;
};

static void
on_sig(int signo, void *arg)
{
	struct sigctx	*s = arg;

	if (signo == SIGHUP) {
		s->hup++;
		kill(getpid(), SIGTERM);
	} else if (signo == SIGTERM) {
		s->term++;
		ev_break(s->loop);
	}
}

Test(ev, signals_arrive_through_the_loop, .timeout = 5)
{
	struct sigctx	s = { NULL, 0, 0 };

	s.loop = ev_new();
	ev_signal_set(s.loop, on_sig, &s);
	/* Blocked by ev_new(), so this queues on the signalfd. */
	cr_assert_eq(kill(getpid(), SIGHUP), 0);
	cr_assert_eq(ev_run(s.loop), 0);
	cr_assert_eq(s.hup, 1);
	cr_assert_eq(s.term, 1);
	ev_free(s.loop);
}

Test(ev, sigpipe_is_ignored, .timeout = 5)
{
	struct ev_loop	*loop;
	int		 p[2];

	loop = ev_new();
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	close(p[1]);
	/* Would kill the process with SIGPIPE if not ignored. */
	cr_assert_eq(write(p[0], "x", 1), -1);
	close(p[0]);
	ev_free(loop);
}

struct prepctx {
	struct ev_loop	*loop;
	int		 calls;
	struct ev_timer	 t;
};

static void
prep(void *arg)
{
	struct prepctx	*p = arg;

	if (++p->calls == 3)
		ev_break(p->loop);
}

static void
tick(void *arg)
{
	struct prepctx	*p = arg;

	ev_timer_set(p->loop, &p->t, 1);
}

Test(ev, prepare_hooks_run_every_turn, .timeout = 5)
{
	struct prepctx	p;
	uint64_t	it0;

	memset(&p, 0, sizeof(p));
	p.loop = ev_new();
	ev_prepare_add(p.loop, prep, &p);
	ev_timer_init(&p.t, tick, &p);
	ev_timer_set(p.loop, &p.t, 1);
	it0 = ev_iterations(p.loop);
	cr_assert_eq(ev_run(p.loop), 0);
	cr_assert_eq(p.calls, 3);
	cr_assert_geq(ev_iterations(p.loop) - it0, 2);
	ev_free(p.loop);
}
