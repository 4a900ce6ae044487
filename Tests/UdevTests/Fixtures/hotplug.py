#!/usr/bin/python3
"""Replay sysfs changes and uevents against a program running under umockdev.

Usage (must itself run under the umockdev preload):

    umockdev-wrapper python3 hotplug.py FIXTURE.umockdev SCRIPT [--timeout SECONDS] -- PROGRAM ARGS...

The fixture is loaded into a fresh UMockdev.Testbed (which exports UMOCKDEV_DIR), PROGRAM is
started with the inherited environment (LD_PRELOAD from umockdev-wrapper, UMOCKDEV_DIR from the
testbed), then SCRIPT is executed step by step.  PROGRAM inherits this process's stdout and
stderr file descriptors, so its output is forwarded unbuffered and unchanged; the harness's own
progress lines go to stderr with a "[hotplug]" prefix.  When the script is done the harness waits
for PROGRAM (killing it with SIGTERM after --timeout seconds, if given) and exits with PROGRAM's
exit status (128 + N if it died from signal N).

Script format: one step per line; blank lines and lines starting with '#' are ignored.

    sleep SECONDS                  wait (float)
    echo TEXT                      print "[hotplug] TEXT" to stderr
    set SYSFS_PATH ATTR VALUE      write VALUE plus a trailing newline into ATTR; VALUE is the rest
                                   of the line, with C escapes (\\n, \\t, \\\\) as in A: lines
    set-raw SYSFS_PATH ATTR VALUE  the same without appending a newline
    uevent SYSFS_PATH ACTION       send a uevent (add, change, remove, ...)
    add-file FRAGMENT.umockdev     add the devices of a fragment; umockdev sends an "add" uevent
                                   for each device (path relative to the script's directory)
    remove SYSFS_PATH              for the device and every device below it, deepest first:
                                   send a "remove" uevent, then remove it from the testbed
    wait-file PATH [SECONDS]       wait until PATH exists (default 120 s; failing the script after
                                   that): lets a test run its own commands between steps

SYSFS_PATH may be a /sys/devices/... path or any /sys path that resolves to one (for instance
/sys/class/fc_host/host7).
"""

import os
import shlex
import signal
import subprocess
import sys
import time

try:
    import gi
except ImportError:
    # PyGObject comes from Debian's python3-gi, i.e. /usr/bin/python3; another python3 first
    # in PATH (pyenv, venv) lacks it, so re-run with the system interpreter
    if os.path.exists("/usr/bin/python3") and \
            os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

gi.require_version("UMockdev", "1.0")
from gi.repository import GLib, UMockdev  # noqa: E402


def log(msg):
    sys.stderr.write("[hotplug] %s\n" % msg)
    sys.stderr.flush()


def usage(msg=None):
    if msg:
        log(msg)
    sys.stderr.write("usage: umockdev-wrapper python3 %s FIXTURE.umockdev SCRIPT [--timeout SECONDS]"
                     " -- PROGRAM ARGS...\n" % os.path.basename(sys.argv[0]))
    sys.exit(2)


class Harness:
    def __init__(self, testbed, script_dir):
        self.tb = testbed
        self.root = testbed.get_root_dir()
        self.script_dir = script_dir

    def resolve(self, path):
        """Map a /sys path (possibly through class/bus symlinks) to its /sys/devices/... path."""
        if not path.startswith("/sys/"):
            raise ValueError("not a /sys path: %s" % path)
        real = os.path.realpath(self.root + path)
        if not real.startswith(self.root + "/sys/devices/"):
            raise ValueError("%s does not resolve to a device below /sys/devices" % path)
        if not os.path.isdir(real):
            raise ValueError("no such device: %s" % path)
        return real[len(self.root):]

    def devices_below(self, syspath):
        """syspath and all devices (directories with a uevent file) below it, deepest first."""
        base = self.root + syspath
        found = []
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            if "uevent" in filenames:
                found.append(dirpath[len(self.root):])
        found.sort(key=lambda p: p.count("/"), reverse=True)
        return found

    def step(self, lineno, line):
        try:
            words = line.split(None, 1)
            cmd = words[0]
            rest = words[1] if len(words) > 1 else ""
            if cmd == "sleep":
                time.sleep(float(rest))
            elif cmd == "echo":
                log(rest)
            elif cmd in ("set", "set-raw"):
                parts = rest.split(None, 2)
                if len(parts) < 2:
                    raise ValueError("set needs SYSFS_PATH ATTR VALUE")
                dev, attr = self.resolve(parts[0]), parts[1]
                value = GLib.strcompress(parts[2]) if len(parts) > 2 else ""
                if cmd == "set":
                    value += "\n"
                self.tb.set_attribute(dev, attr, value)
                log("set %s %s=%r" % (dev, attr, value))
            elif cmd == "uevent":
                parts = rest.split()
                if len(parts) != 2:
                    raise ValueError("uevent needs SYSFS_PATH ACTION")
                dev = self.resolve(parts[0])
                log("uevent %s %s" % (parts[1], dev))
                self.tb.uevent(dev, parts[1])
            elif cmd == "add-file":
                frag = shlex.split(rest)
                if len(frag) != 1:
                    raise ValueError("add-file needs one FRAGMENT file")
                path = frag[0]
                if not os.path.isabs(path):
                    path = os.path.join(self.script_dir, path)
                log("add-file %s" % path)
                self.tb.add_from_file(path)
            elif cmd == "wait-file":
                parts = shlex.split(rest)
                if not parts or len(parts) > 2:
                    raise ValueError("wait-file needs PATH [SECONDS]")
                deadline = time.monotonic() + (float(parts[1]) if len(parts) == 2 else 120.0)
                while not os.path.exists(parts[0]):
                    if time.monotonic() > deadline:
                        raise ValueError("%s did not appear" % parts[0])
                    time.sleep(0.05)
                log("wait-file %s: there" % parts[0])
            elif cmd == "remove":
                dev = self.resolve(rest.strip())
                for d in self.devices_below(dev):
                    log("uevent remove %s" % d)
                    self.tb.uevent(d, "remove")
                    self.tb.remove_device(d)
            else:
                raise ValueError("unknown step %r" % cmd)
        except (ValueError, GLib.Error) as e:
            log("script line %d: %s" % (lineno, e))
            return False
        return True


def main(argv):
    if "--" not in argv:
        usage("missing -- before PROGRAM")
    sep = argv.index("--")
    opts, program = argv[1:sep], argv[sep + 1:]
    timeout = None
    if "--timeout" in opts:
        i = opts.index("--timeout")
        try:
            timeout = float(opts[i + 1])
        except (IndexError, ValueError):
            usage("--timeout needs a number of seconds")
        del opts[i:i + 2]
    if len(opts) != 2 or not program:
        usage()
    fixture, script = opts

    if "libumockdev-preload" not in os.environ.get("LD_PRELOAD", ""):
        usage("not running under the umockdev preload: start this with umockdev-wrapper")

    try:
        with open(script) as f:
            steps = [(n, l.strip()) for n, l in enumerate(f, 1)]
    except OSError as e:
        usage("cannot read script: %s" % e)
    steps = [(n, l) for n, l in steps if l and not l.startswith("#")]

    testbed = UMockdev.Testbed.new()          # sets UMOCKDEV_DIR in our environment
    try:
        testbed.add_from_file(fixture)
    except GLib.Error as e:
        log("cannot load %s: %s" % (fixture, e.message))
        return 2
    harness = Harness(testbed, os.path.dirname(os.path.abspath(script)))

    env = dict(os.environ)
    env["UMOCKDEV_DIR"] = testbed.get_root_dir()
    try:
        proc = subprocess.Popen(program, env=env)   # inherits stdout/stderr: unbuffered forwarding
    except OSError as e:
        log("cannot start %s: %s" % (program[0], e))
        return 127

    ok = True
    for lineno, line in steps:
        if proc.poll() is not None:
            log("program exited before script line %d" % lineno)
            break
        if not harness.step(lineno, line):
            ok = False
            break

    try:
        status = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log("program still running after %s s: SIGTERM" % timeout)
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            status = proc.wait()
    if status < 0:
        status = 128 - status
    log("program exit status %d" % status)
    if not ok and status == 0:
        return 3
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
