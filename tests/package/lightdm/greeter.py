#!/usr/bin/python3
"""A LightDM greeter for tst_debsystemd: it signs in the user named in its file as a person would, typing the
password when LightDM's PAM conversation asks for it, and writes every prompt and message to its log (the PAM
module's "approve ... number N" among them)."""
import gi

gi.require_version("LightDM", "1")
from gi.repository import GLib, LightDM  # noqa: E402

with open("/etc/hotdesk-trial-greeter") as f:
    USER, PASSWORD = f.read().split("\n")[:2]
log = open("/var/lib/lightdm/hotdesk-trial-greeter.log", "a", buffering=1)
greeter = LightDM.Greeter()
loop = GLib.MainLoop()


def prompt(g, text, kind):
    log.write(f"prompt {text}\n")
    GLib.idle_add(lambda: g.respond(PASSWORD) and False)


def message(g, text, kind):
    log.write(f"message {text}\n")


def complete(g):
    log.write(f"authenticated {g.get_is_authenticated()}\n")
    if g.get_is_authenticated():
        g.start_session_sync("hotdesk-trial")
    loop.quit()


greeter.connect("show-prompt", prompt)
greeter.connect("show-message", message)
greeter.connect("authentication-complete", complete)
greeter.connect_to_daemon_sync()
greeter.authenticate(USER)
GLib.timeout_add_seconds(180, loop.quit)
loop.run()
