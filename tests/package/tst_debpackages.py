#!/usr/bin/python3
"""The Debian packages (debian/, packaging/README.md) on this machine, as an administrator meets them.

Builds them with ./dev package, installs them with apt-get, checks their files, owners, modes and units, runs
the servers' unit's command as the unit would and reads the IdP's discovery document and a package from the
download site, upgrades to a higher version with changed conffiles, then purges. Needs root. Leaves the machine
as it found it, also when a check fails halfway: whatever the test installed or created is removed in the end.

Usage: tst_debpackages.py SOURCE_DIR (ctest passes it; exit 77 = skipped)
"""

import grp
import hashlib
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77
PACKAGES = ["hotdesk", "libpam-hotdesk", "hotdesk-servers"]
SERVERS_USER = "hotdesk-servers"
SERVERS_DATA = "/var/lib/hotdesk-servers"
UNITS = ["/lib/systemd/system/hotdeskd.service", "/lib/systemd/system/hotdesk-servers.service"]
USER_UNIT = "/usr/lib/systemd/user/hotdesk.service"
# Everything the packages, their maintainer scripts and their services create outside dpkg's database.
MACHINE_PATHS = ["/etc/hotdesk", "/etc/hotdesk-servers", "/var/lib/hotdesk", "/var/log/hotdesk", SERVERS_DATA,
                 "/usr/bin/hotdesk", "/usr/bin/hotdesk-stubs", "/usr/libexec/hotdesk", "/etc/pam.d/hotdesk-offline",
                 "/usr/share/pam-configs/hotdesk", "/usr/lib/x86_64-linux-gnu/security/pam_hotdesk.so",
                 "/usr/lib/x86_64-linux-gnu/hotdesk", "/etc/systemd/system/multi-user.target.wants/hotdeskd.service",
                 "/etc/systemd/system/multi-user.target.wants/hotdesk-servers.service"] + UNITS + [USER_UNIT]
# The manual pages (gzipped by dh_compress), the desktop integration and the icon (docs/man-pages.md).
MAN_PAGES = ["/usr/share/man/man1/hotdesk.1.gz", "/usr/share/man/man1/hotdesk-stubs.1.gz",
             "/usr/share/man/man5/hotdesk-policy.5.gz", "/usr/share/man/man8/hotdeskd.8.gz",
             "/usr/share/man/man8/pam_hotdesk.8.gz"]
DESKTOP_FILES = ["/usr/share/applications/org.hotdesk.agent.desktop", "/etc/xdg/autostart/hotdesk.desktop"]
METAINFO = "/usr/share/metainfo/org.hotdesk.agent.metainfo.xml"
ICONS = [f"/usr/share/icons/hicolor/{n}x{n}/apps/hotdesk.png" for n in (16, 22, 24, 32, 48, 64, 128, 256)] + [
    "/usr/share/icons/hicolor/scalable/apps/hotdesk.svg"]
MACHINE_PATHS += MAN_PAGES + DESKTOP_FILES + [METAINFO] + ICONS
# hotdeskd's state and audit log at their default places, which a test build's hotdeskd run by hand or
# "sudo hotdesk enroll --system" may have left: moved aside while the test runs (the purge removes these paths),
# then moved back.
SET_ASIDE = ["/var/lib/hotdesk", "/var/log/hotdesk"]
# pam-auth-update rewrites these; installing and purging a profile that is off must leave them as they were.
PAM_FILES = ["/etc/pam.d/common-auth", "/etc/pam.d/common-account", "/etc/pam.d/common-password",
             "/etc/pam.d/common-session", "/etc/pam.d/common-session-noninteractive", "/var/lib/pam/seen"]
APT = ["apt-get", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600"]
# Debian's unattended answer to a conffile both the administrator and the package changed: keep the
# administrator's file, put the package's beside it as .dpkg-dist (what --force-confdef picks anyway).
KEEP_CONFFILES = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def say(line):
    print(f"tst_debpackages: {line}", flush=True)


def run(args, **kwargs):
    """Runs args; a non-zero exit fails the test with its output."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    result = subprocess.run(args, capture_output=True, text=True, env=env, **kwargs)
    if result.returncode != 0:
        raise Failed(f"{shlex.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def installed_version(package):
    result = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", package],
                            capture_output=True, text=True)
    status, _, version = result.stdout.partition(" ")
    return version if result.returncode == 0 and status == "installed" else None


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def why_not_here():
    """Why this machine cannot run the test without changing what someone else installed; None when it can."""
    if os.geteuid() != 0:
        return "needs root: it installs, upgrades and purges Debian packages with apt-get (CI runs as root)"
    for package in PACKAGES:
        if installed_version(package) or subprocess.run(["dpkg-query", "-W", package],
                                                        capture_output=True).returncode == 0:
            return f"the package {package} is installed here (or left configured); the test would purge it"
    for path in MACHINE_PATHS:
        if os.path.lexists(path) and path not in SET_ASIDE:
            return f"{path} exists; the test would install over it and remove it"
    return None


def said_why_not_here():
    """True, after saying why, when this machine cannot run a package test (why_not_here)."""
    reason = why_not_here()
    if reason:
        print(f"SKIP: cannot run here: {reason}", flush=True)
    return bool(reason)


class Machine:
    """What the test changed, so that the end can undo it whatever happened in between."""

    def __init__(self):
        self.user_before = user_exists(SERVERS_USER)
        self.group_before = group_exists(SERVERS_USER)
        self.pam_before = {path: read_bytes(path) for path in PAM_FILES}
        self.servers = None
        self.set_aside = {}
        for path in SET_ASIDE:
            if os.path.lexists(path):
                self.set_aside[path] = tempfile.mkdtemp(prefix=".tst_debpackages-", dir=os.path.dirname(path))
                os.rename(path, os.path.join(self.set_aside[path], "saved"))
                say(f"{path} moved aside until the end")

    def pam_changes(self):
        return [path for path, content in self.pam_before.items() if read_bytes(path) != content]

    def restore(self):
        problems = []
        if self.servers and self.servers.poll() is None:
            self.servers.kill()
            self.servers.wait()
        left = [p for p in PACKAGES if subprocess.run(["dpkg-query", "-W", p], capture_output=True).returncode == 0]
        if left:
            result = subprocess.run(APT + ["purge"] + left, capture_output=True, text=True,
                                    env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
            if result.returncode != 0:
                subprocess.run(["dpkg", "--purge", "--force-all"] + left, capture_output=True)
                problems.append(f"apt-get purge failed, dpkg --purge --force-all used: {result.stderr}")
        if not self.user_before and user_exists(SERVERS_USER):
            subprocess.run(["userdel", SERVERS_USER], capture_output=True)
        if not self.group_before and group_exists(SERVERS_USER):
            subprocess.run(["groupdel", SERVERS_USER], capture_output=True)
        for path in MACHINE_PATHS:
            if os.path.islink(path) or os.path.isfile(path):
                os.unlink(path)
            elif os.path.isdir(path):
                shutil.rmtree(path)
        for path, aside in self.set_aside.items():
            os.rename(os.path.join(aside, "saved"), path)
            os.rmdir(aside)
        for path in self.pam_changes():
            content = self.pam_before[path]
            if content is None:
                os.unlink(path)
            else:
                with open(path, "wb") as f:
                    f.write(content)
        return problems


def build(source):
    """./dev package; returns the three .deb files in dist/ and the version debian/changelog names."""
    started = time.monotonic()
    # Without the debug-symbol packages: their compression is most of a warm build, and they are not tested here.
    env = dict(os.environ, DEB_BUILD_OPTIONS="noautodbgsym")
    result = subprocess.run([os.path.join(source, "dev"), "package"], cwd=source, capture_output=True, text=True,
                            env=env)
    say(f"./dev package took {time.monotonic() - started:.0f} s")
    check(result.returncode == 0, f"./dev package failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    check("lintian: no errors" in result.stderr, f"./dev package did not report lintian's result:\n{result.stderr[-3000:]}")
    version = run(["dpkg-parsechangelog", "-l", os.path.join(source, "debian/changelog"), "-SVersion"]).strip()
    debs = {}
    for package in PACKAGES:
        path = os.path.join(source, "dist", f"{package}_{version}_amd64.deb")
        check(os.path.isfile(path), f"./dev package did not make {path}")
        debs[package] = path
    beside = [name for name in os.listdir(os.path.dirname(source))
              if re.fullmatch(r"(hotdesk|libpam-hotdesk|hotdesk-servers)(-dbgsym)?_.*\.(changes|buildinfo|deb)", name)]
    check(not beside, f"./dev package left {beside} in {os.path.dirname(source)}")
    return debs, version


def check_maintainer_scripts(debs, work):
    """The system units started on installation and stopped on removal by the packages' own scripts (systemd is not
    PID 1 here, so deb-systemd-invoke does nothing when they run: the scripts are read instead; tst_debsystemd runs
    them under systemd in a container); the PAM profile is
    registered, not switched on (that the user unit stays off is checked once installed, check_user_unit_off)."""
    for package, unit in [("hotdesk", "hotdeskd.service"), ("hotdesk-servers", "hotdesk-servers.service")]:
        control = os.path.join(work, f"control-{package}")
        run(["dpkg-deb", "-e", debs[package], control])
        postinst = (read_bytes(os.path.join(control, "postinst")) or b"").decode()
        prerm = (read_bytes(os.path.join(control, "prerm")) or b"").decode()
        check(f"deb-systemd-helper enable '{unit}'" in postinst, f"{package}'s postinst does not enable {unit}")
        check(re.search(rf"_dh_action=(start|restart)\b", postinst) and f"deb-systemd-invoke $_dh_action '{unit}'" in postinst,
              f"{package}'s postinst does not start {unit}")
        check(f"deb-systemd-invoke stop '{unit}'" in prerm, f"{package}'s prerm does not stop {unit}")
    control = os.path.join(work, "control-libpam-hotdesk")
    run(["dpkg-deb", "-e", debs["libpam-hotdesk"], control])
    postinst = (read_bytes(os.path.join(control, "postinst")) or b"").decode()
    check("pam-auth-update --package" in postinst and "--enable" not in postinst,
          f"libpam-hotdesk's postinst must register the profile without enabling it:\n{postinst}")


def install(debs):
    """apt-get install ./….deb of all three, after checking apt would install nothing else."""
    plan = run(["apt-get", "-s", "-q", "--no-install-recommends", "install"] + list(debs.values()))
    others = sorted(set(re.findall(r"^Inst (\S+)", plan, re.M)) - set(PACKAGES))
    check(not others, f"apt-get would also install {others}; the test would leave them behind (install them first)")
    run(APT + ["install"] + list(debs.values()))


def check_mode(path, mode, owner="root", group="root"):
    st = os.lstat(path)
    check(stat.S_IMODE(st.st_mode) == mode, f"{path} has mode {stat.S_IMODE(st.st_mode):04o}, not {mode:04o}")
    check(pwd.getpwuid(st.st_uid).pw_name == owner and grp.getgrgid(st.st_gid).gr_name == group,
          f"{path} belongs to {st.st_uid}:{st.st_gid}, not {owner}:{group}")


def check_user_unit_off():
    check(not os.path.lexists("/etc/systemd/user/graphical-session.target.wants/hotdesk.service"),
          "the user unit hotdesk.service was enabled; the package must leave that to the administrator")


def check_files():
    """Every packaged file root's and writable by root only; the named ones with their modes; the units enabled."""
    for package in PACKAGES:
        for path in run(["dpkg", "-L", package]).split():
            st = os.lstat(path)
            check(st.st_uid == 0 and st.st_gid == 0, f"{path} ({package}) is not root's")
            check(stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o022, f"{path} ({package}) is writable by others")
            check(not st.st_mode & (stat.S_ISUID | stat.S_ISGID) or stat.S_ISDIR(st.st_mode), f"{path} is set-id")
    for path, mode in [("/etc/hotdesk/policy.json", 0o644), ("/usr/bin/hotdesk", 0o755),
                       ("/usr/libexec/hotdesk/hotdeskd", 0o755), ("/usr/libexec/hotdesk", 0o755),
                       ("/usr/lib/x86_64-linux-gnu/hotdesk/libhotdesk_webengine.so", 0o644),
                       ("/etc/pam.d/hotdesk-offline", 0o644), ("/usr/bin/hotdesk-stubs", 0o755),
                       ("/usr/lib/x86_64-linux-gnu/security/pam_hotdesk.so", 0o644),
                       ("/usr/share/pam-configs/hotdesk", 0o644),
                       ("/etc/hotdesk-servers/hotdesk-servers.conf", 0o640)] + [(u, 0o644) for u in UNITS + [USER_UNIT]]:
        check_mode(path, mode)
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}\n", "hotdesk", "hotdesk-servers"])
    for path in ["/etc/hotdesk/policy.json", "/etc/pam.d/hotdesk-offline", "/etc/hotdesk-servers/hotdesk-servers.conf"]:
        check(f" {path} " in conffiles, f"{path} is not a conffile:\n{conffiles}")
    for unit in ["hotdeskd.service", "hotdesk-servers.service"]:
        link = f"/etc/systemd/system/multi-user.target.wants/{unit}"
        check(os.path.islink(link), f"{unit} is not enabled ({link} missing)")
    check_user_unit_off()
    account = pwd.getpwnam(SERVERS_USER)
    check(account.pw_uid < 1000 and account.pw_dir == SERVERS_DATA and account.pw_shell.endswith("nologin"),
          f"{SERVERS_USER} is not a system user with home {SERVERS_DATA} and no shell: {account}")
    for path in PAM_FILES[:-1]:
        check(b"pam_hotdesk" not in (read_bytes(path) or b""), f"{path} names pam_hotdesk: the profile must stay off")
    check_desktop_integration()


def check_desktop_integration():
    """The man pages where man finds them, the desktop entries and the AppStream file valid as installed."""
    for path in MAN_PAGES + DESKTOP_FILES + [METAINFO] + ICONS:
        check_mode(path, 0o644)
    for name, section in [("hotdesk", "1"), ("hotdesk-stubs", "1"), ("hotdesk-policy", "5"), ("hotdeskd", "8"),
                          ("pam_hotdesk", "8")]:
        found = subprocess.run(["man", "-w", section, name], capture_output=True, text=True)
        check(found.returncode == 0 and found.stdout.strip() == f"/usr/share/man/man{section}/{name}.{section}.gz",
              f"man -w {section} {name}: {found.stdout.strip()} {found.stderr.strip()}")
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}\n", "hotdesk"])
    check(" /etc/xdg/autostart/hotdesk.desktop " in conffiles, f"the autostart entry is not a conffile:\n{conffiles}")
    for path in DESKTOP_FILES:
        valid = subprocess.run(["desktop-file-validate", path], capture_output=True, text=True)
        check(valid.returncode == 0 and not valid.stdout.strip(), f"desktop-file-validate {path}: {valid.stdout}")
    valid = subprocess.run(["appstreamcli", "validate", "--no-net", METAINFO], capture_output=True, text=True)
    check(valid.returncode == 0, f"appstreamcli validate {METAINFO}: {valid.stdout}{valid.stderr}")


def check_units(work):
    """systemd-analyze verify on every installed unit (systemd is not PID 1 here; --man=no: the pages may be absent)."""
    for unit in UNITS:
        out = subprocess.run(["systemd-analyze", "verify", "--man=no", unit], capture_output=True, text=True)
        check(out.returncode == 0 and not out.stderr.strip(), f"systemd-analyze verify {unit}:\n{out.stderr}")
    out = subprocess.run(["systemd-analyze", "--user", "verify", "--man=no", USER_UNIT], capture_output=True, text=True,
                         env=dict(os.environ, XDG_RUNTIME_DIR=work))
    check(out.returncode == 0 and not out.stderr.strip(), f"systemd-analyze --user verify {USER_UNIT}:\n{out.stderr}")


def check_agent(version):
    run(["/usr/bin/hotdesk", "policy", "check", "/etc/hotdesk/policy.json"])
    lines = run(["/usr/bin/hotdesk", "--version"]).splitlines()
    check(lines[0] == f"hotdesk {version.split('-')[0]}", f"hotdesk --version says {lines[0]!r}, the package {version}")
    check(len(lines) > 1 and not lines[1].startswith("test build"), f"the packaged hotdesk is a test build: {lines}")
    out = run(["/usr/libexec/hotdesk/hotdeskd", "--version"])
    check(version.split("-")[0] in out, f"hotdeskd --version says {out!r}, the package {version}")


def unit_service(path):
    """The [Service] section of a unit file: (key, value) in order."""
    section, items = None, []
    with open(path) as f:
        for line in (raw.strip() for raw in f):
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]":
                key, _, value = line.partition("=")
                items.append((key.strip(), value.strip()))
    return items


def environment_file(path):
    """KEY=VALUE lines as systemd reads an EnvironmentFile= (comments, a quoted value)."""
    env = {}
    with open(path) as f:
        for line in (raw.strip() for raw in f):
            if not line or line[0] in "#;":
                continue
            key, _, value = line.partition("=")
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def expand_command(line, env):
    """ExecStart= as systemd expands it: $VAR alone is split into words, ${VAR} is one word."""
    argv = []
    for word in shlex.split(line):
        alone = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if alone:
            argv += env.get(alone.group(1), "").split()
        else:
            argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), word))
    return argv


def servers_command():
    """The command, environment and umask hotdesk-servers.service runs, read from the installed unit and its files."""
    service = unit_service("/lib/systemd/system/hotdesk-servers.service")
    options = dict(service)
    user = pwd.getpwnam(options["User"])
    check(options["Group"] == grp.getgrgid(user.pw_gid).gr_name, f"the unit's Group= is not {options['User']}'s group")
    state = os.path.join("/var/lib", options["StateDirectory"])
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "HOME": user.pw_dir, "USER": user.pw_name,
           "LOGNAME": user.pw_name, "SHELL": user.pw_shell, "STATE_DIRECTORY": state, "LANG": "C.UTF-8"}
    for key, value in service:
        if key == "Environment":
            env.update(word.split("=", 1) for word in shlex.split(value))
        elif key == "EnvironmentFile":
            env.update(environment_file(value.lstrip("-")))
    # What StateDirectory= does before the start: the directory, the service user's, with its mode.
    os.makedirs(state, exist_ok=True)
    os.chown(state, user.pw_uid, user.pw_gid)
    os.chmod(state, int(options.get("StateDirectoryMode", "0755"), 8))
    # User=, Group=, NoNewPrivileges=yes and an empty CapabilityBoundingSet=, through setpriv.
    check(options.get("CapabilityBoundingSet", None) == "", "the servers' unit should drop every capability")
    setpriv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--no-new-privs",
               "--bounding-set=-all", "--inh-caps=-all", "--"]
    return setpriv + expand_command(options["ExecStart"], env), env, int(options.get("UMask", "0022"), 8), state


def start_servers(machine, work):
    """Starts the unit's command; returns the role URLs it printed (das, idp, push, enterprise, ca)."""
    argv, env, umask, state = servers_command()
    say(f"starting {shlex.join(argv)}")
    for port in range(8440, 8444):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            check(probe.connect_ex(("127.0.0.1", port)) != 0,
                  f"port {port} is taken on this machine; the servers' default configuration listens there")
    out_path, err_path = os.path.join(work, "servers.out"), os.path.join(work, "servers.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        machine.servers = subprocess.Popen(argv, env=env, cwd="/", stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                           preexec_fn=lambda: os.umask(umask))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = dict(line.split(" ", 1) for line in open(out_path).read().splitlines() if " " in line)
        if "ca" in lines:
            return lines
        check(machine.servers.poll() is None, f"the servers stopped:\n{open(err_path).read()}")
        time.sleep(0.2)
    raise Failed(f"the servers did not start within 60 s:\n{open(err_path).read()}")


def fetch(url, cafile):
    context = ssl.create_default_context(cafile=cafile)
    with urllib.request.urlopen(url, context=context, timeout=30) as response:
        return response.read()


def check_servers(machine, debs, work):
    """The unit's command as the unit runs it: the IdP's discovery document over TLS, and the built packages
    from the enterprise server's download site, byte for byte."""
    urls = start_servers(machine, work)
    check(urls["idp"] == "https://127.0.0.1:8441", f"the IdP is not where the configuration puts it: {urls}")
    ca = os.path.join(SERVERS_DATA, "ca.pem")
    discovery = json.loads(fetch(urls["idp"] + "/.well-known/openid-configuration", ca))
    check(discovery.get("issuer") == urls["idp"], f"the discovery document names issuer {discovery.get('issuer')}")
    check_mode(SERVERS_DATA, 0o750, SERVERS_USER, SERVERS_USER)
    check_mode(os.path.join(SERVERS_DATA, "ca-key.pem"), 0o600, SERVERS_USER, SERVERS_USER)
    # What an administrator does to offer the packages at the gateway's install link (packaging/README.md).
    download = os.path.join(SERVERS_DATA, "download")
    check(os.path.isdir(download), f"the enterprise server did not make {download}")
    for path in debs.values():
        run(["install", "-m", "0644", path, download])
    site = urls["enterprise"].rstrip("/")
    index = fetch(site + "/download/", ca).decode()
    for path in debs.values():
        name = os.path.basename(path)
        check(name in index, f"the download index does not list {name}:\n{index}")
        check(fetch(f"{site}/download/{name}", ca) == read_bytes(path), f"/download/{name} is not the built package")
    # systemctl stop: SIGTERM, which hotdesk-stubs does not catch; systemd counts that end as a clean stop.
    machine.servers.send_signal(signal.SIGTERM)
    status = machine.servers.wait(timeout=30)
    check(status in (0, -signal.SIGTERM), f"the servers ended with {status} on SIGTERM")
    machine.servers = None


def repack(deb, work, version, edits):
    """deb again as VERSION (dpkg-deb -R, then -b), with the files in edits (path: new content) changed."""
    root = os.path.join(work, os.path.basename(deb)[:-len(".deb")])
    run(["dpkg-deb", "-R", deb, root])
    control_path = os.path.join(root, "DEBIAN", "control")
    with open(control_path) as f:
        control = f.read()
    old = re.search(r"^Version: (\S+)$", control, re.M).group(1)
    control = control.replace(f"Version: {old}\n", f"Version: {version}\n").replace(f"(= {old})", f"(= {version})")
    with open(control_path, "w") as f:
        f.write(control)
    for path, content in edits.items():
        with open(root + path, "wb") as f:
            f.write(content)
        sums = os.path.join(root, "DEBIAN", "md5sums")  # conffiles are not in it, other files are
        with open(sums) as f:
            lines = [line for line in f.read().splitlines() if not line.endswith("  " + path[1:])]
        if path not in read_bytes(os.path.join(root, "DEBIAN", "conffiles")).decode().split():
            lines.append(f"{hashlib.md5(content).hexdigest()}  {path[1:]}")
        with open(sums, "w") as f:
            f.write("".join(line + "\n" for line in lines))
    name = os.path.basename(deb).split("_")[0]
    out = os.path.join(work, f"{name}_{version}_amd64.deb")
    run(["dpkg-deb", "--root-owner-group", "-b", root, out])
    return out


def check_upgrade(debs, version, work):
    """An upgrade keeps the administrator's policy.json (the new one goes beside it as .dpkg-dist) and replaces
    the servers' options the administrator left alone; the maintainer scripts' upgrade paths run."""
    newer = version + "+repack1"
    admin_policy = json.dumps({"version": 1, "servers": {
        "das": ["https://das.corp.example"], "idp_issuer": "https://idp.corp.example", "client_id": "hotdesk-agent"},
        "triggers": {"on_unlock": True}}, indent=1).encode() + b"\n"
    with open("/etc/hotdesk/policy.json", "wb") as f:
        f.write(admin_policy)
    check(not os.path.lexists("/etc/hotdesk/policy.json.dpkg-dist"), "a .dpkg-dist file exists before the upgrade")
    new_policy = json.dumps({"version": 1, "servers": {
        "das": ["https://hotdesk-servers.example:8440"], "idp_issuer": "https://hotdesk-servers.example:8441",
        "client_id": "hotdesk-agent", "connect_timeout": "PT5S"}}, indent=2).encode() + b"\n"
    conf = "/etc/hotdesk-servers/hotdesk-servers.conf"
    new_conf = read_bytes(conf) + f"# {newer}: a new line the administrator did not write\n".encode()
    upgrades = [repack(debs["hotdesk"], work, newer, {"/etc/hotdesk/policy.json": new_policy}),
                repack(debs["libpam-hotdesk"], work, newer, {}),
                repack(debs["hotdesk-servers"], work, newer, {conf: new_conf})]
    run(APT + KEEP_CONFFILES + ["install"] + upgrades)
    for package in PACKAGES:
        check(installed_version(package) == newer, f"{package} is {installed_version(package)} after the upgrade")
    check(read_bytes("/etc/hotdesk/policy.json") == admin_policy, "the upgrade replaced the administrator's policy.json")
    check(read_bytes("/etc/hotdesk/policy.json.dpkg-dist") == new_policy, "the new policy.json is not beside it")
    check(read_bytes(conf) == new_conf, f"{conf}, which the administrator left alone, was not upgraded")
    check_mode(conf, 0o640)
    check_user_unit_off()
    check_mode("/etc/hotdesk/policy.json", 0o644)
    run(["/usr/bin/hotdesk", "policy", "check", "/etc/hotdesk/policy.json"])


def check_purge(machine):
    """Purge removes the packages, their conffiles, hotdeskd's state and logs and the servers' data; the
    system user stays (Debian keeps system users), and pam-auth-update's files are as before the install."""
    # What hotdeskd would have written under its unit's StateDirectory= and LogsDirectory=.
    os.makedirs("/var/lib/hotdesk", mode=0o700)
    with open("/var/lib/hotdesk/enrollments.json", "w") as f:
        f.write("{}\n")
    os.makedirs("/var/log/hotdesk", mode=0o750)
    with open("/var/log/hotdesk/audit.jsonl", "w") as f:
        f.write("{}\n")
    run(APT + ["purge"] + PACKAGES)
    for package in PACKAGES:
        listed = subprocess.run(["dpkg-query", "-W", package], capture_output=True)
        check(listed.returncode != 0, f"{package} is still known to dpkg after the purge")
    left = [path for path in MACHINE_PATHS if os.path.lexists(path)]
    check(not left, f"left after the purge: {left}")
    check(user_exists(SERVERS_USER), f"the purge removed the system user {SERVERS_USER}; Debian keeps it")
    changed = [path for path in machine.pam_changes() if path.startswith("/etc/")]
    check(not changed, f"installing and purging changed {changed}")


def main():
    source = os.path.abspath(sys.argv[1])
    if said_why_not_here():
        return SKIP
    machine = Machine()
    started, failure = time.monotonic(), None
    try:
        with tempfile.TemporaryDirectory(prefix="hotdesk-debs-") as work:
            debs, version = build(source)
            check_maintainer_scripts(debs, work)
            install(debs)
            check_files()
            check_units(work)
            check_agent(version)
            check_servers(machine, debs, work)
            check_upgrade(debs, version, work)
            check_purge(machine)
    except (Failed, subprocess.TimeoutExpired) as error:
        failure = str(error)
    finally:
        problems = machine.restore()
    return report(started, problems, failure, "built, installed, checked, served, upgraded and purged the packages")


def report(started, problems, failure, passed):
    """The test's last lines and its exit status: the time, what the cleanup had to force, the failure or PASS."""
    print(f"took {time.monotonic() - started:.0f} s", flush=True)
    for problem in problems:
        print(f"cleanup: {problem}", flush=True)
    if failure:
        print(f"FAIL: {failure}", flush=True)
        return 1
    print(f"PASS: {passed}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
