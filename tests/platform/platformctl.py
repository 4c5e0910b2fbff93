#!/usr/bin/python3
"""platformctl - start and drive the fake platform (fakeplatform.py).

In tests: put tests/platform itself on sys.path (not tests/: a package
named "platform" would shadow the standard library's platform module):

    sys.path.insert(0, os.path.join(harness.ROOT, "tests", "platform"))
    import platformctl
    with platformctl.FakePlatform(workdir) as fp:   # mkpki.sh + start
        fp.url, fp.ca_file, fp.cert_file, fp.key_file, fp.signing_key
        fp.set_faults(queue=[{"kind": "503", "retry_after": 1}])
        fp.queue_command("locate")
        fp.wait_acked("events", 42, timeout=10)
        fp.records("events")

For people:

    platformctl.py up --dir DIR [--device ID] [--port P]
        make the PKI in DIR/pki and run the platform in the foreground
    platformctl.py --control-port Q COMMAND ...
        state | records STREAM [--from N] [--to M] | requests [--since N]
        | results | commands | bundles | faults JSON | clear | down [rst|off]
        | command TYPE [ARGS_JSON] [--id ID] | tls right|wrong | reset
        | config JSON | wait acked STREAM N | wait result ID

Standard library only; run with /usr/bin/python3.
"""

import argparse
import base64
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import edverify  # noqa: E402
FAKEPLATFORM = os.path.join(HERE, "fakeplatform.py")
MKPKI = os.path.join(HERE, "mkpki.sh")
PYTHON = "/usr/bin/python3"


class PlatformTimeout(AssertionError):
	"""A condition on the platform did not come true before its deadline
	(a test failure, not an error)."""


class PlatformError(Exception):
	"""The control API refused a request."""


def mkpki(pki_dir, device="SC-0001"):
	"""Run mkpki.sh (idempotent); returns pki_dir."""
	p = subprocess.run(["sh", MKPKI, pki_dir, device], stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8",
	    errors="replace", timeout=60)
	if p.returncode != 0:
		raise RuntimeError("mkpki.sh %s failed:\n%s%s" % (pki_dir, p.stdout,
		    p.stderr))
	return pki_dir


def sign_file(key_file, path):
	"""ed25519=BASE64 of the file's bytes, signed with openssl (an empty
	file with edverify.sign: OpenSSL 3.0's pkeyutl cannot sign an empty
	input)."""
	if os.path.getsize(path) == 0:
		with open(key_file) as f:
			seed = edverify.load_private_key_pem(f.read())
		return "ed25519=" + base64.b64encode(edverify.sign(seed,
		    b"")).decode()
	p = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key_file,
	    "-rawin", "-in", path], stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
	if p.returncode != 0 or len(p.stdout) != 64:
		raise RuntimeError("openssl pkeyutl -sign: %s" % p.stderr.decode(
		    errors="replace"))
	return "ed25519=" + base64.b64encode(p.stdout).decode()


def sign_bytes(key_file, data, tmpdir=None):
	fd, path = tempfile.mkstemp(dir=tmpdir, prefix="tosign-")
	try:
		with os.fdopen(fd, "wb") as f:
			f.write(data)
		return sign_file(key_file, path)
	finally:
		os.unlink(path)


class Control:
	"""The control API of a running platform (127.0.0.1:port)."""

	def __init__(self, control_port, host="127.0.0.1"):
		self.base = "http://%s:%d" % (host, control_port)

	def call(self, method, path, body=None, params=None, timeout=30):
		url = self.base + path
		if params:
			url += "?" + urllib.parse.urlencode({k: v for k, v in
			    params.items() if v is not None})
		data = None if body is None else json.dumps(body).encode()
		req = urllib.request.Request(url, data=data, method=method,
		    headers={"Content-Type": "application/json"})
		try:
			with urllib.request.urlopen(req, timeout=timeout) as r:
				return json.loads(r.read())
		except urllib.error.HTTPError as e:
			try:
				msg = json.loads(e.read()).get("error")
			except ValueError:
				msg = str(e)
			raise PlatformError("%s %s: %s %s" % (method, path, e.code,
			    msg)) from None

	# -- reading

	def state(self):
		return self.call("GET", "/state")

	def stream_state(self, stream, device=None):
		st = self.state()
		dev = device or next(iter(st["devices"]), None)
		return st["devices"][dev]["streams"][stream]

	def acked_through(self, stream, device=None):
		return self.stream_state(stream, device)["acked_through"]

	def records(self, stream, device=None, from_seq=None, to_seq=None,
	    page=20000):
		"""The records the platform holds for stream, as received, in seq
		order (fetched in pages)."""
		out = []
		lo = 1 if from_seq is None else from_seq
		while True:
			r = self.call("GET", "/records", params={"stream": stream,
			    "device": device, "from_seq": lo, "to_seq": to_seq,
			    "limit": page}, timeout=120)
			out.extend(r["records"])
			if len(r["records"]) < page:
				return out
			lo = r["records"][-1]["seq"] + 1

	def records_reply(self, stream, device=None, **kw):
		"""The whole /records reply: records, settled, conflicts,
		acked_through."""
		return self.call("GET", "/records", params=dict(kw, stream=stream,
		    device=device), timeout=120)

	def requests(self, since=0):
		return self.call("GET", "/requests", params={"since": since})[
		    "requests"]

	def results(self):
		return self.call("GET", "/results")["results"]

	def result(self, cmd_id):
		for r in self.results():
			if r["id"] == cmd_id:
				return r
		return None

	def commands(self):
		return self.call("GET", "/commands")["commands"]

	def bundles(self, since=0, device=None):
		"""Every bundle posted (after number since), oldest first: n,
		device, received_at, status (200 or 422) and the reply (streams)
		or error and problems."""
		return self.call("GET", "/bundles", params={"since": since,
		    "device": device})["bundles"]

	# -- changing

	def set_faults(self, queue=None, random=None, down=None, clear=False,
	    append=False):
		"""queue: list of fault kinds or entries; random: {"p", "seed",
		"kinds", ["path", "stream"]} (or False to end random mode); down:
		True/"close", "rst" or False."""
		spec = {}
		if clear:
			spec["clear"] = True
		if queue is not None:
			spec["queue"] = queue
			if append:
				spec["append"] = True
		if random is not None:
			spec["random"] = random or None
		if down is not None:
			spec["down"] = down
		return self.call("POST", "/faults", spec)

	def fault(self, kind, count=1, **params):
		"""Append one queued fault: fault("503", retry_after=1)."""
		return self.set_faults(queue=[dict(params, kind=kind, count=count)],
		    append=True)

	def clear_faults(self):
		return self.set_faults(clear=True, down=False)

	def queue_command(self, type, args=None, id=None, device=None):
		"""Queue a command; returns its id."""
		spec = {"type": type, "args": args or {}}
		if id is not None:
			spec["id"] = id
		if device is not None:
			spec["device"] = device
		return self.call("POST", "/commands", spec)["id"]

	def set_tls(self, cert):
		"""cert: "right" (server.pem) or "wrong" (wrong-server.pem)."""
		return self.call("POST", "/tls", {"cert": cert})

	def config(self, **kw):
		return self.call("POST", "/config", kw)

	def reset(self):
		return self.call("POST", "/reset", {})

	def add_device(self, device, pubkey_pem):
		return self.call("POST", "/devices", {"id": device,
		    "pubkey": pubkey_pem})

	# -- waiting (server-side, no polling loops)

	def wait(self, timeout, what, **cond):
		"""Block until every condition holds (GET /wait); PlatformTimeout
		naming what otherwise.  Returns the /wait reply."""
		end = time.monotonic() + timeout
		while True:
			left = end - time.monotonic()
			chunk = max(0.0, min(left, 300.0))
			r = self.call("GET", "/wait", params=dict(cond,
			    timeout_s="%.3f" % chunk), timeout=chunk + 30)
			if r.get("reached"):
				return r
			if time.monotonic() >= end:
				raise PlatformTimeout("fake platform: timed out after %.1f s "
				    "waiting for %s (now %s)" % (timeout, what, {k: v for k, v
				    in r.items() if k not in ("reached",)}))

	def wait_acked(self, stream, n, timeout, device=None):
		return self.wait(timeout, "%s acked_through >= %d" % (stream, n),
		    stream=stream, acked_through=n, device=device)["acked_through"]

	def wait_records(self, stream, n, timeout, device=None):
		return self.wait(timeout, "%d unique %s records" % (n, stream),
		    stream=stream, records=n, device=device)["records"]

	def wait_result(self, cmd_id, timeout, device=None):
		"""The posted result of cmd_id (the /results entry)."""
		self.wait(timeout, "the result of command %s" % cmd_id,
		    result=cmd_id, device=device)
		return self.result(cmd_id)

	def wait_requests(self, n, timeout):
		return self.wait(timeout, "%d requests" % n, requests=n)["requests"]

	def wait_polls(self, n, timeout):
		return self.wait(timeout, "%d long polls waiting" % n,
		    polls_waiting=n)["polls_waiting"]

	def wait_bundles(self, n, timeout):
		return self.wait(timeout, "%d bundles posted" % n,
		    bundles=n)["bundles"]

	def wait_tls_failures(self, n, timeout):
		return self.wait(timeout, "%d TLS handshake failures" % n,
		    tls_failures=n)["tls_failures"]


class FakePlatform(Control):
	"""fakeplatform.py as a subprocess in its own session.

	workdir: where pki/, state/ and platform.log go (a temporary
	directory, removed by stop(), when None).  devices: ids to register;
	the first one's client certificate and signing key are made by
	mkpki.sh (the others must be added with their own public keys:
	extra_devices={"ID": "path/to/pub.pem"})."""

	def __init__(self, workdir=None, device="SC-0001", pki_dir=None,
	    port=0, control_port=0, extra_devices=None, verify=None,
	    redeliver_s=None, extra_args=(), verbose=False):
		self.own_tmp = workdir is None
		self.workdir = workdir or tempfile.mkdtemp(prefix="fleetgw-platform-")
		self.device = device
		self.pki = pki_dir or os.path.join(self.workdir, "pki")
		self.statedir = os.path.join(self.workdir, "state")
		self.port = port
		self.control_port_arg = control_port
		self.extra_devices = dict(extra_devices or {})
		self.verify = verify
		self.redeliver_s = redeliver_s
		self.extra_args = list(extra_args)
		self.verbose = verbose
		self.proc = None
		self.info = None
		self.logpath = os.path.join(self.workdir, "platform.log")
		self._log = None
		self.returncode = None

	# PKI paths
	def _p(self, name):
		return os.path.join(self.pki, name)

	ca_file = property(lambda s: s._p("ca.pem"))
	cert_file = property(lambda s: s._p("client.pem"))
	key_file = property(lambda s: s._p("client.key"))
	signing_key = property(lambda s: s._p("signing.key"))
	signing_pub = property(lambda s: s._p("signing.pub.pem"))
	wrong_client_cert = property(lambda s: s._p("wrong-client.pem"))
	wrong_client_key = property(lambda s: s._p("wrong-client.key"))

	@property
	def pin(self):
		with open(self._p("server.pin")) as f:
			return f.read().strip()

	@property
	def wrong_pin(self):
		with open(self._p("wrong-server.pin")) as f:
			return f.read().strip()

	@property
	def url(self):
		"""platform.url for the daemon (host name checked: localhost)."""
		return "https://localhost:%d" % self.https_port

	def post_bundle(self, data, device=None, gzip_body=False,
	    content_type="application/x-ndjson", timeout=120):
		"""POST a bundle (bytes, or a path) to /v1/devices/{id}/bundles
		the way an inspector's office tool does: mutual TLS with the test
		CA's client certificate, no device signature.  (status, reply
		object or None)."""
		import gzip
		import http.client
		import ssl
		if isinstance(data, str):
			with open(data, "rb") as f:
				data = f.read()
		headers = {"Content-Type": content_type}
		if gzip_body:
			data = gzip.compress(data)
			headers["Content-Encoding"] = "gzip"
		ctx = ssl.create_default_context(cafile=self.ca_file)
		ctx.load_cert_chain(self.cert_file, self.key_file)
		c = http.client.HTTPSConnection("localhost", self.https_port,
		    context=ctx, timeout=timeout)
		try:
			c.request("POST", "/v1/devices/%s/bundles" % urllib.parse.quote(
			    device or self.device, safe=""), body=data, headers=headers)
			r = c.getresponse()
			body = r.read()
		finally:
			c.close()
		try:
			return r.status, json.loads(body)
		except ValueError:
			return r.status, None

	def argv(self):
		a = [PYTHON, FAKEPLATFORM, "--dir", self.statedir, "--pki", self.pki,
		    "--port", str(self.port), "--control-port",
		    str(self.control_port_arg), "--device", "%s=%s" % (self.device,
		    self.signing_pub)]
		for d, pub in self.extra_devices.items():
			a += ["--device", "%s=%s" % (d, pub)]
		if self.verify:
			a += ["--verify", self.verify]
		if self.redeliver_s is not None:
			a += ["--redeliver-s", str(self.redeliver_s)]
		if self.verbose:
			a.append("-v")
		# the platform stops when this process is gone (the pipe closes)
		a.append("--exit-on-stdin-eof")
		return a + self.extra_args

	def start(self, timeout=30):
		assert self.proc is None or self.returncode is not None, \
		    "fake platform already running"
		mkpki(self.pki, self.device)
		os.makedirs(self.statedir, exist_ok=True)
		self._log = open(self.logpath, "ab")
		self.returncode = None
		self.proc = subprocess.Popen(self.argv(), stdin=subprocess.PIPE,
		    stdout=subprocess.PIPE, stderr=self._log, start_new_session=True)
		line = b""
		end = time.monotonic() + timeout
		fd = self.proc.stdout.fileno()
		while not line.endswith(b"\n"):
			left = end - time.monotonic()
			if left <= 0 or self.proc.poll() is not None:
				self.stop()
				raise PlatformTimeout("fake platform did not start within "
				    "%.0f s (exit %s); log:\n%s" % (timeout,
				    self.returncode, self.log_text()[-3000:]))
			r, _, _ = select.select([fd], [], [], min(left, 0.5))
			if r:
				c = os.read(fd, 4096)
				if not c:
					continue
				line += c
		self.info = json.loads(line.decode())
		self.https_port = self.info["https_port"]
		self.control_port = self.info["control_port"]
		Control.__init__(self, self.control_port)
		return self

	def running(self):
		return self.proc is not None and self.proc.poll() is None

	def stop(self, timeout=10):
		"""SIGTERM, then SIGKILL after timeout; the exit status (0 after a
		clean stop).  Idempotent; keeps the state directory (a new start()
		goes on with it) unless the work directory is a temporary one."""
		if self.proc is not None and self.returncode is None:
			for sig in (signal.SIGTERM, signal.SIGKILL):
				try:
					os.killpg(self.proc.pid, sig)
				except ProcessLookupError:
					pass
				try:
					self.proc.wait(timeout)
					break
				except subprocess.TimeoutExpired:
					continue
			self.returncode = self.proc.wait()
			self.proc.stdout.close()
			self.proc.stdin.close()
			self._log.close()
		return self.returncode

	def restart(self, timeout=30):
		self.stop()
		return self.start(timeout)

	def close(self):
		rc = self.stop()
		if self.own_tmp:
			import shutil
			shutil.rmtree(self.workdir, ignore_errors=True)
		return rc

	def log_text(self):
		try:
			with open(self.logpath, "rb") as f:
				return f.read().decode(errors="replace")
		except OSError:
			return ""

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.close()


# ---------------------------------------------------------------------------
# command line


def _print(obj):
	json.dump(obj, sys.stdout, indent=1, ensure_ascii=False)
	sys.stdout.write("\n")


def cli_up(a):
	pki = os.path.join(a.dir, "pki")
	mkpki(pki, a.device)
	argv = [PYTHON, FAKEPLATFORM, "--dir", os.path.join(a.dir, "state"),
	    "--pki", pki, "--port", str(a.port), "--control-port",
	    str(a.control_port), "--device", "%s=%s" % (a.device,
	    os.path.join(pki, "signing.pub.pem"))]
	sys.stderr.write("platformctl: PKI in %s (ca.pem, client.pem, client.key, "
	    "signing.key)\n" % pki)
	os.execv(PYTHON, argv)


def main(argv=None):
	ap = argparse.ArgumentParser(prog="platformctl.py",
	    description="Drive the fake platform's control API "
	    "(tests/platform/README.md).")
	ap.add_argument("--control-port", type=int, default=0)
	ap.add_argument("--dir", help="up: work directory")
	ap.add_argument("--device", default="SC-0001")
	ap.add_argument("--port", type=int, default=0, help="up: HTTPS port")
	ap.add_argument("--from", dest="from_seq", type=int)
	ap.add_argument("--to", dest="to_seq", type=int)
	ap.add_argument("--since", type=int, default=0)
	ap.add_argument("--id")
	ap.add_argument("--timeout", type=float, default=30)
	ap.add_argument("command")
	ap.add_argument("args", nargs="*")
	a = ap.parse_args(argv)
	if a.command == "up":
		if not a.dir:
			ap.error("up needs --dir")
		return cli_up(a)
	if not a.control_port:
		ap.error("--control-port is needed (the ready line's control_port)")
	c = Control(a.control_port)
	cmd, args = a.command, a.args
	dev = None if a.device == "SC-0001" else a.device
	try:
		if cmd == "state":
			_print(c.state())
		elif cmd == "records":
			if len(args) != 1:
				ap.error("records STREAM")
			_print(c.records_reply(args[0], device=dev,
			    from_seq=a.from_seq, to_seq=a.to_seq))
		elif cmd == "requests":
			_print(c.requests(a.since))
		elif cmd == "results":
			_print(c.results())
		elif cmd == "commands":
			_print(c.commands())
		elif cmd == "bundles":
			_print(c.bundles(a.since, dev))
		elif cmd == "faults":
			if len(args) != 1:
				ap.error("faults JSON, e.g. '{\"queue\": [\"503\"]}'")
			_print(c.call("POST", "/faults", json.loads(args[0])))
		elif cmd == "clear":
			_print(c.clear_faults())
		elif cmd == "down":
			v = args[0] if args else "close"
			_print(c.set_faults(down=False if v == "off" else v))
		elif cmd == "command":
			if not 1 <= len(args) <= 2:
				ap.error("command TYPE [ARGS_JSON]")
			_print({"id": c.queue_command(args[0], json.loads(args[1]) if
			    len(args) > 1 else {}, id=a.id, device=dev)})
		elif cmd == "tls":
			if args not in (["right"], ["wrong"]):
				ap.error("tls right|wrong")
			_print(c.set_tls(args[0]))
		elif cmd == "reset":
			_print(c.reset())
		elif cmd == "config":
			_print(c.call("POST", "/config", json.loads(args[0]) if args
			    else {}))
		elif cmd == "wait":
			if len(args) == 3 and args[0] == "acked":
				_print(c.wait_acked(args[1], int(args[2]), a.timeout, dev))
			elif len(args) == 2 and args[0] == "result":
				_print(c.wait_result(args[1], a.timeout, dev))
			else:
				ap.error("wait acked STREAM N | wait result ID")
		else:
			ap.error("unknown command %r" % cmd)
	except (PlatformError, PlatformTimeout) as e:
		sys.stderr.write("platformctl: %s\n" % e)
		return 1
	return 0


if __name__ == "__main__":
	sys.exit(main())
