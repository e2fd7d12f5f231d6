// What the daemon tests of an enrolled PC share: the companion servers (hotdesk-stubs, the phones approving at once),
// this PC enrolled for hotdeskd ("hotdesk enroll --system" into the daemon's state directory), python3-dbusmock's
// logind, and hotdeskd on it. A test class derives from it after QObject and keeps its own daemon options, policy and
// sessions. Tests that use it define HOTDESK_BINARY, HOTDESK_STUBS_BINARY and HOTDESKD_BINARY (AGENT STUBS DAEMON).
#pragma once

#include "daemonclient.h"
#include "logindmock.h"
#include "stubsprocess.h"

#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <sys/stat.h>

namespace hotdesk::test {

class EnrolledDaemonFixture {
protected:
    QTemporaryDir m_dir;
    std::unique_ptr<StubsProcess> m_stubs;
    LogindMock m_logind;
    QProcess m_daemon;
    std::unique_ptr<NotifySocket> m_notify;
    QString m_socket;
    QString m_stateDir; // the enrolled daemon's state: DIR/state
    QString m_logsDir; // its LOGS_DIRECTORY: DIR/logs
    QString m_policyFile; // DIR/policy.json, written by the test

    // DIR opened to uid 65534 (it reaches the socket inside), the servers on free ports from portsFrom with the
    // phones of people enrolled, and this PC enrolled into m_stateDir. False (with the reason said) when a step failed.
    bool startEnrolledServers(const QStringList &people, int portsFrom = 33000)
    {
        if (!m_dir.isValid() || ::chmod(QFile::encodeName(m_dir.path()).constData(), 0755) != 0)
            return false;
        const quint16 ports = freePortBase(portsFrom);
        if (ports == 0)
            return false;
        m_stubs
            = std::make_unique<StubsProcess>(QStringLiteral(HOTDESK_STUBS_BINARY), m_dir.filePath(QStringLiteral("data")), ports);
        m_stubs->start({}, 0); // the phones approve at once
        if (QTest::currentTestFailed())
            return false;
        for (const QString &person : people) {
            if (m_stubs->admin({QStringLiteral("phone"), QStringLiteral("enroll"), person}).isNull()) {
                qWarning("the phone of %s could not be enrolled", qPrintable(person));
                return false;
            }
        }
        m_stateDir = m_dir.filePath(QStringLiteral("state"));
        m_logsDir = m_dir.filePath(QStringLiteral("logs"));
        m_policyFile = m_dir.filePath(QStringLiteral("policy.json"));
        const QString enrolled = m_stubs->enrollForDaemon(QStringLiteral(HOTDESK_BINARY), m_stateDir);
        if (!enrolled.isEmpty())
            qWarning("%s", qPrintable(enrolled));
        return enrolled.isEmpty();
    }

    // python3-dbusmock's logind on its private bus; false with the reason said.
    bool startLogind()
    {
        QString why;
        if (!m_logind.start(&why))
            qWarning("%s", qPrintable(why));
        return why.isEmpty();
    }

    // hotdeskd (stopped first if it runs) on the mock's bus, with --socket DIR/hotdeskd.sock, --state-dir (m_stateDir
    // unless given), --policy m_policyFile, then options, and the python stand-ins for the agent; true once ready.
    bool startEnrolledDaemon(const QStringList &options, const QString &stateDir = {})
    {
        stopProcess(m_daemon);
        m_socket = m_dir.filePath(QStringLiteral("hotdeskd.sock"));
        return startHotdeskd(m_daemon, m_notify, QStringLiteral(HOTDESKD_BINARY), m_dir.filePath(QStringLiteral("notify")),
            QStringList {QStringLiteral("--socket"), m_socket, QStringLiteral("--state-dir"),
                stateDir.isEmpty() ? m_stateDir : stateDir, QStringLiteral("--policy"), m_policyFile}
                + options + pythonAgentArguments(),
            {QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS=") + m_logind.address(), QStringLiteral("LOGS_DIRECTORY=") + m_logsDir});
    }

    // The daemon and the servers ended (cleanupTestCase).
    void stopEnrolledDaemon()
    {
        stopProcess(m_daemon);
        m_stubs.reset();
    }

    // The audit records of that event, oldest first.
    QList<QJsonObject> audited(const QString &event) const
    {
        return auditRecords(m_logsDir + QStringLiteral("/audit.jsonl"), event);
    }
};

} // namespace hotdesk::test
