/*
 * test_interfere.c - unit tests for agent/interfere.h: the /proc/PID/stat
 * parser on hostile command names, the disturbed rule on made-up
 * snapshots, and real snapshots around real processes - a CPU-bound
 * process that is not ours (an orphan: its parent exits at once) counts
 * as other work, a CPU-bound child of ours does not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/interfere.h"
#include "common/err.h"
#include "common/util.h"

static const char *fields_after(void)
{
	/* fields 3.. of a real line: state ppid pgrp session tty tpgid flags
	 * minflt cminflt majflt cmajflt utime stime cutime cstime ... */
	return " S 77 78 78 0 -1 4194560 100 0 0 0 11 22 33 44 20 0 1 0 "
	       "100 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 "
	       "1 0 0 0 0 0\n";
}

static void test_interfere__pidstat_hostile_names(void **state)
{
	static const char *const names[] = { "(sh)", "(a) b (c) 9 9)",
					     "()", "(x\ny)" };
	struct pb_pidstat st;
	char line[512];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(line, sizeof(line), "1234 %s%s", names[i],
			 fields_after());
		assert_int_equal(pb_pidstat_parse(&st, line, "test"), 0);
		assert_int_equal(st.ppid, 77);
		assert_int_equal(st.pgrp, 78);
		assert_int_equal(st.flags, 4194560UL);
		assert_int_equal(st.ticks, 11 + 22 + 33 + 44);
		assert_int_equal(st.cpu, 1);
	}
	/* a kernel thread's flags carry PF_KTHREAD */
	snprintf(line, sizeof(line), "2 (kthreadd)%s", fields_after());
	*strstr(line, "4194560") = '2'; /* 2194560: PF_KTHREAD set */
	assert_int_equal(pb_pidstat_parse(&st, line, "test"), 0);
	assert_true(st.flags & PB_PF_KTHREAD);
	/* malformed: no name, too few fields, garbage */
	assert_int_equal(pb_pidstat_parse(&st, "1234 sh S 1 2", "t"), PB_EINVAL);
	assert_int_equal(pb_pidstat_parse(&st, "1234 (sh) S 1 2 3\n", "t"),
			 PB_EINVAL);
	snprintf(line, sizeof(line), "1 (sh)%s", fields_after());
	*strstr(line, "11") = 'x';
	assert_int_equal(pb_pidstat_parse(&st, line, "t"), PB_EINVAL);
}

static struct pb_busy_snap snap(double t, uint64_t others, uint64_t steal)
{
	struct pb_busy_snap s;

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.others_ticks = others;
	s.have_stat = 1;
	s.steal_ticks = steal;
	s.have_psi[0] = 1;
	s.psi_some_us[0] = (uint64_t)(t * 1e5); /* 10 % stalled */
	return s;
}

static void test_interfere__the_disturbed_rule(void **state)
{
	long hz = sysconf(_SC_CLK_TCK);
	double tick = 1.0 / (double)hz;
	struct pb_busy_snap a = snap(10.0, 1000, 50), b;
	struct pb_interference in;

	(void)state;
	/* 0.2 s in which others took 0.1 s of CPU: 0.5 CPUs, a quarter of a
	 * 2-CPU machine; disturbed at 0.25, not at 0.6 */
	b = snap(10.2, 1000 + (uint64_t)(0.1 * hz), 50);
	pb_interference_of(&in, &a, &b, 2, 0.25);
	assert_true(fabs(in.others_cpu_s - 0.1) < 1e-9);
	assert_true(fabs(in.others_cpus - 0.5) < 1e-9);
	assert_true(fabs(in.share - 0.25) < 1e-9);
	assert_true(fabs(in.steal_s) < 1e-12);
	assert_true(fabs(in.psi_some[0] - 0.1) < 1e-4);
	assert_true(isnan(in.psi_some[1]));
	assert_true(in.disturbed);
	assert_non_null(strstr(in.why, "0.50 CPUs"));
	pb_interference_of(&in, &a, &b, 2, 0.6);
	assert_false(in.disturbed);
	/* threshold 0: measured, never disturbed */
	pb_interference_of(&in, &a, &b, 2, 0);
	assert_false(in.disturbed);
	/* one tick is not enough however short the run */
	b = snap(10.0 + 2 * tick, 1001, 50);
	pb_interference_of(&in, &a, &b, 2, 0.25);
	assert_false(in.disturbed);
	/* steal counts as other work */
	b = snap(10.1, 1000, 50 + (uint64_t)(0.05 * hz));
	pb_interference_of(&in, &a, &b, 2, 0.25);
	assert_true(in.disturbed);
	assert_non_null(strstr(in.why, "steal"));
	/* a sum that shrank (a process ended unreaped) is no negative time */
	b = snap(10.1, 900, 50);
	pb_interference_of(&in, &a, &b, 2, 0.25);
	assert_true(in.others_cpu_s == 0);
	assert_false(in.disturbed);
}

static void spin_for(double s)
{
	double t0 = pb_now_mono();
	volatile unsigned long x = 0;

	while (pb_now_mono() - t0 < s)
		x++;
}

static void test_interfere__others_and_ours(void **state)
{
	struct pb_busy_snap a, b, all_a, all_b;
	struct pb_interference in, all;
	int p[2];
	pid_t pid;

	(void)state;
	/* ours: a child spinning 0.3 s is the run's own, not interference.
	 * This machine may be busy with other work meanwhile, so compare
	 * with the same snapshots taken excluding nobody (-1 is no pid): the
	 * difference is our own tree's time, and must hold the child's. */
	/* Other work on a busy machine runs between the snapshots too, and
	 * the two pairs are taken a scan apart: a try that other work
	 * disturbed is taken again (at most 5). */
	for (int attempt = 0;; attempt++) {
		for (int tries = 0; tries < 20; tries++) {
			/* we are in all_a and not in a - unless another
			 * process came or went between the two: again */
			assert_int_equal(pb_busy_snap_take(&a, getpid()), 0);
			assert_int_equal(pb_busy_snap_take(&all_a, -1), 0);
			if (all_a.procs > a.procs)
				break;
		}
		assert_true(a.procs >= 1);
		assert_true(all_a.procs > a.procs);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			spin_for(0.3);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, NULL, 0), pid);
		assert_int_equal(pb_busy_snap_take(&b, getpid()), 0);
		assert_int_equal(pb_busy_snap_take(&all_b, -1), 0);
		pb_interference_of(&in, &a, &b, 1, 0.25);
		pb_interference_of(&all, &all_a, &all_b, 1, 0.25);
		if (all.others_cpu_s - in.others_cpu_s >= 0.2)
			break;
		if (attempt == 4)
			fail_msg("our own child's 0.3 s of CPU: %.3f s counted "
				 "as others' (%.3f s with nothing excluded)",
				 in.others_cpu_s, all.others_cpu_s);
	}

	/* others: an orphan spinning 0.4 s - its parent exits at once, so it
	 * descends from init, not from us */
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pid_t g = fork();

		if (g == 0) {
			close(p[0]);
			if (write(p[1], "g", 1) != 1)
				_exit(1);
			close(p[1]);
			spin_for(0.4);
			_exit(0);
		}
		_exit(g > 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(p[1]);
	{
		char c;

		assert_int_equal(read(p[0], &c, 1), 1);
	}
	close(p[0]);
	assert_int_equal(pb_busy_snap_take(&a, getpid()), 0);
	pb_sleep(0.3);
	assert_int_equal(pb_busy_snap_take(&b, getpid()), 0);
	pb_interference_of(&in, &a, &b, 1, 0.25);
	if (!(in.others_cpu_s >= 0.15))
		fail_msg("an orphan spinning 0.3 s counted %.3f s of CPU",
			 in.others_cpu_s);
	assert_true(in.disturbed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interfere__pidstat_hostile_names),
		cmocka_unit_test(test_interfere__the_disturbed_rule),
		cmocka_unit_test(test_interfere__others_and_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
