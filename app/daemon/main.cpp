// hotdeskd: Hotdesk's system service (docs/hotdeskd.md). All but main() is hotdeskd_lib.
#include "daemonaudit.h"
#include "daemonenrollment.h"
#include "daemonoptions.h"
#include "daemonserver.h"
#include "enforcer.h"
#include "eventsender.h"
#include "healthcommand.h"
#include "signalwatcher.h"
#include "statedirectory.h"
#include "systemdnotify.h"

#include "core/clock.h"

#include <QCoreApplication>
#include <QJsonObject>

#include <csignal>
#include <cstdio>

using namespace hotdesk;
using namespace hotdesk::daemon;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hotdeskd"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HOTDESK_VERSION));

    const ParsedCommandLine parsed = parseCommandLine(QCoreApplication::arguments());
    if (parsed.exit) {
        std::fputs(parsed.output.toLocal8Bit().constData(), parsed.exitCode == 0 ? stdout : stderr);
        return parsed.exitCode;
    }
    const DaemonOptions &options = parsed.options;

    const auto refuse = [](const Error &error) {
        std::fprintf(stderr, "hotdeskd: %s\n", error.message.toLocal8Bit().constData());
        notifySystemd(QStringLiteral("STATUS=") + error.message);
        return 1;
    };
    if (const Status state = prepareStateDirectory(options.stateDir); !state)
        return refuse(state.error());

    // A client that hangs up before its reply is read must not kill the daemon.
    ::signal(SIGPIPE, SIG_IGN);
    SignalWatcher signals;
    if (const Status watched = signals.watchTermination(); !watched)
        return refuse(watched.error());

    SystemClock clock;
    EnforcerOptions enforcing;
    enforcing.stateDir = options.stateDir;
    enforcing.policyFile = options.policyFile;
    enforcing.agentTimeout = std::chrono::milliseconds(options.agentTimeoutMs);
    enforcing.pamConfDir = options.pamConfDir;
    enforcing.agentPrograms = options.agentPrograms;
    enforcing.devRoot = options.devRoot;
    Enforcer enforcer(enforcing, clock);

    DaemonServer server;
    server.setClientTimeout(options.clientTimeoutMs);
    enforcer.serve(server);
    if (const Status listening = server.listen(options.socketPath); !listening)
        return refuse(listening.error());
    // After listen: a second daemon refused there never touches the first one's records.
    auto records = DaemonRecords::open(options);
    if (!records)
        return refuse(records.error());
    // Each record names this PC as the enrollment in use does (the policy's DAS; before the policy, the first one).
    (*records)->audit().setDeviceIdSource(
        [&options, &enforcer] { return enrolledDeviceId(options.stateDir, enforcer.policyStore()); });
    // Every decision and what came of it: the audit file and the journal.
    QObject::connect(&enforcer, &Enforcer::audited, &app,
        [audit = &(*records)->audit()](const QString &event, const QString &user, const QString &session,
            const QString &reason, QJsonObject extra) {
            if (!session.isEmpty())
                extra.insert(QStringLiteral("session"), session);
            audit->record({event, user, reason, {}, extra});
        });

    // The sessions' notify_admin decisions: queued on disk, sent to the DAS (eventsender.h).
    EventSender events((*records)->queue(), options.stateDir, [&enforcer] { return enforcer.servers(); }, clock,
        [audit = &(*records)->audit()](const store::AuditEntry &entry) { (void)audit->record(entry); });
    QObject::connect(&enforcer, &Enforcer::adminEvent, &events, &EventSender::enqueue);
    serveHealth(
        server, {options.stateDir, options.policyFile, [&enforcer] { return enforcer.policyStore(); }, &(*records)->queue()});

    QObject::connect(&signals, &SignalWatcher::terminationRequested, &app, [&](int signal) {
        notifySystemd(QStringLiteral("STOPPING=1"));
        std::fprintf(stderr, "hotdeskd: stopping (signal %d)\n", signal);
        (*records)->stopped(signal);
        server.close();
        QCoreApplication::exit(0);
    });

    if (const Status started = (*records)->started(options.socketPath); !started)
        return refuse(started.error());
    // Ready once the sessions are known (or logind is known to be missing):
    // systemd starts what waits on us after READY=1, and the lock state is then right.
    QObject::connect(
        &enforcer, &Enforcer::ready, &app,
        [&options] {
            notifySystemd(QStringLiteral("READY=1\nSTATUS=listening on ") + options.socketPath);
            std::fprintf(stderr, "hotdeskd %s: listening on %s, state in %s\n", HOTDESK_VERSION,
                options.socketPath.toLocal8Bit().constData(), options.stateDir.toLocal8Bit().constData());
        },
        Qt::SingleShotConnection);
    enforcer.start();
    events.start(); // after the policy is read
    return QCoreApplication::exec();
}
