// Children that die with the test: a test killed mid-run (ctest's timeout sends SIGKILL, so no destructor runs)
// leaves no hotdeskd, dbus-daemon, dbusmock or companion servers of its own behind.
#pragma once

#include <QProcess>

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace hotdesk::test {

// Call before process.start(). Linux: the child gets SIGKILL when the thread that forked it ends
// (PR_SET_PDEATHSIG), which for a test is its main thread, so when the test process ends however it ends. A test
// that died between fork and prctl is seen by the changed parent, and the child ends at once.
inline void dieWithTest(QProcess &process)
{
    const pid_t test = ::getpid();
    process.setChildProcessModifier([test] {
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != test)
            ::_exit(127);
    });
}

} // namespace hotdesk::test
