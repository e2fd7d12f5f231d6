#!/bin/sh
# tst_debsystemd's desktop session, reduced to what a desktop does for Hotdesk: it runs the XDG autostart entries.
dex --autostart --environment hotdesk-trial
exec sleep infinity
