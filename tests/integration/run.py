#!/usr/bin/python3
"""run - run fleetgw's integration tests.

    /usr/bin/python3 tests/integration/run.py [--build DIR] [FILTER ...]

Discovers tests/integration/test_*.py with unittest and runs them with
verbosity 2.  A FILTER keeps the tests whose id (module.Class.method)
contains it; several filters are OR-ed.  --build DIR sets FLEETGWD and
FLEETGWCTL to DIR/fleetgwd and DIR/fleetgwctl (tests/run.sh sets them
itself).  The last line printed is exactly

    N passed, N failed, N skipped

where failed counts failures and errors (a test with several failed
subtests counts once; an error in setUpClass counts once).  Exit status 1
if anything failed or nothing ran.
"""

import argparse
import concurrent.futures
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class CountingResult(unittest.TextTestResult):
	"""Counts each test once, by outcome."""

	def __init__(self, *a, **kw):
		super().__init__(*a, **kw)
		self.passed_ids = set()
		self.failed_ids = set()
		self.skipped_ids = set()

	def addSuccess(self, test):
		super().addSuccess(test)
		self.passed_ids.add(test.id())

	def addExpectedFailure(self, test, err):
		super().addExpectedFailure(test, err)
		self.passed_ids.add(test.id())

	def addFailure(self, test, err):
		super().addFailure(test, err)
		self.failed_ids.add(test.id())

	def addError(self, test, err):
		super().addError(test, err)
		self.failed_ids.add(test.id())

	def addUnexpectedSuccess(self, test):
		super().addUnexpectedSuccess(test)
		self.failed_ids.add(test.id())

	def addSkip(self, test, reason):
		super().addSkip(test, reason)
		self.skipped_ids.add(test.id())

	def addSubTest(self, test, subtest, err):
		super().addSubTest(test, subtest, err)
		if err is not None:
			self.failed_ids.add(test.id())

	def totals(self):
		failed = self.failed_ids
		passed = self.passed_ids - failed
		skipped = self.skipped_ids - failed - passed
		return len(passed), len(failed), len(skipped)


def iter_tests(suite):
	for t in suite:
		if isinstance(t, unittest.TestSuite):
			yield from iter_tests(t)
		else:
			yield t


_pool = None


def start_prefetch(suite):
	"""Classes with a prefetch() classmethod (long replays that mostly
	wait on gpsfake's pace) are set up concurrently, FLEETGW_IT_PARALLEL
	at a time (default 4; 1 = one after the other), and run first, so
	that the other tests run on a quiet machine.  prefetch() is called
	in a worker thread; the class's setUpClass waits for
	cls.prefetch_future."""
	global _pool
	tests = list(iter_tests(suite))
	classes = []
	for t in tests:
		c = type(t)
		if hasattr(c, "prefetch") and c not in classes:
			classes.append(c)
	if not classes:
		return suite
	n = max(1, int(os.environ.get("FLEETGW_IT_PARALLEL", "4")))
	_pool = concurrent.futures.ThreadPoolExecutor(max_workers=n)
	for c in classes:
		c.prefetch_future = _pool.submit(c.prefetch)
	first = [t for t in tests if type(t) in classes]
	rest = [t for t in tests if type(t) not in classes]
	return unittest.TestSuite(first + rest)


def stop_prefetch():
	if _pool is not None:
		_pool.shutdown(wait=True)


def main(argv=None):
	ap = argparse.ArgumentParser(prog="run.py")
	ap.add_argument("--build", help="build directory with fleetgwd and "
	    "fleetgwctl (default: $FLEETGWD/$FLEETGWCTL, else build/san)")
	ap.add_argument("filters", nargs="*", help="substrings of test ids")
	a = ap.parse_args(argv)
	if a.build:
		b = os.path.abspath(a.build)
		os.environ["FLEETGWD"] = os.path.join(b, "fleetgwd")
		os.environ["FLEETGWCTL"] = os.path.join(b, "fleetgwctl")
	sys.path.insert(0, HERE)
	loader = unittest.TestLoader()
	suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
	if a.filters:
		keep = unittest.TestSuite()
		for t in iter_tests(suite):
			# loader failures (import errors) are kept: they must show
			if any(f in t.id() for f in a.filters) or \
			    t.id().startswith("unittest.loader."):
				keep.addTest(t)
		suite = keep
	suite = start_prefetch(suite)
	runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult,
	    stream=sys.stderr)
	try:
		result = runner.run(suite)
	finally:
		stop_prefetch()
	passed, failed, skipped = result.totals()
	sys.stderr.flush()
	print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
	sys.stdout.flush()
	return 1 if failed or passed + skipped == 0 else 0


if __name__ == "__main__":
	sys.exit(main())
