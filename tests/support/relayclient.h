// A client of hotdeskd as another uid (tests/daemon/relayclient.py under setpriv): the test's lines go to the daemon,
// the daemon's come back. Tests that use it define HOTDESK_RELAY_CLIENT (the script's path).
#pragma once

#include "stubsprocess.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QTest>

#include <memory>
#include <QJsonObject>
#include <QList>
#include <QProcess>

#include <sys/types.h>

namespace hotdesk::test {

// tests/daemon/relayclient.py as an unprivileged uid: the test's lines go to the daemon, the daemon's come back.
class RelayClient {
public:
    bool start(const QString &socket, uid_t uid, bool heartbeat)
    {
        QStringList arguments {QStringLiteral("--reuid=%1").arg(uid), QStringLiteral("--regid=%1").arg(uid),
            QStringLiteral("--clear-groups"), QStringLiteral("/usr/bin/python3"), QStringLiteral("-u"),
            QStringLiteral(HOTDESK_RELAY_CLIENT), socket};
        if (heartbeat)
            arguments << QStringLiteral("--heartbeat-ms=300");
        dieWithTest(m_process); // setpriv: the new uid clears it in python, which ends when its stdin closes
        m_process.start(QStringLiteral("setpriv"), arguments);
        return m_process.waitForStarted(10000);
    }
    ~RelayClient() { stopProcess(m_process); }

    void send(const QJsonObject &request)
    {
        QJsonObject line = request;
        line.insert(QStringLiteral("v"), 1);
        m_process.write(QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n');
    }
    // The next reply (a line with "ok"; heartbeats' replies skipped) or event of that name; {} after the timeout.
    QJsonObject reply(int timeoutMs = 10000) { return next({}, timeoutMs); }
    QJsonObject event(const QString &name, int timeoutMs = 10000) { return next(name, timeoutMs); }
    QJsonObject request(const QJsonObject &request)
    {
        send(request);
        return reply();
    }
    void kill() { stopProcess(m_process); }

private:
    QJsonObject next(const QString &event, int timeoutMs)
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < timeoutMs) {
            for (auto it = m_lines.begin(); it != m_lines.end(); ++it) {
                const QJsonObject line = *it;
                // A heartbeat's reply is {"ok","v","lock"} and nothing else.
                const bool heartbeat = line.size() == 3 && line.contains(QLatin1String("lock"));
                const bool isReply = line.contains(QLatin1String("ok")) && !heartbeat;
                if (event.isEmpty() ? isReply : line.value(QLatin1String("event")).toString() == event) {
                    m_lines.erase(it);
                    return line;
                }
            }
            if (!m_process.canReadLine())
                m_process.waitForReadyRead(100);
            while (m_process.canReadLine())
                m_lines.append(QJsonDocument::fromJson(m_process.readLine()).object());
        }
        return {};
    }

    QProcess m_process;
    QList<QJsonObject> m_lines;
};

// A request: {"command": name, ...members}; RelayClient::send() adds "v".
inline QJsonObject command(const char *name, QJsonObject members = {})
{
    members.insert(QStringLiteral("command"), QLatin1String(name));
    return members;
}

// An agent stand-in of uid for session, attached and with the lock required ("reauth"); null when it
// could not attach. The previous test's agent may not be gone from the daemon's view yet ("busy").
inline std::unique_ptr<RelayClient> lockedRelayAgent(const QString &socket, const QString &session, uid_t uid)
{
    auto agent = std::make_unique<RelayClient>();
    if (!agent->start(socket, uid, true))
        return nullptr;
    QJsonObject attached;
    for (int i = 0; i < 50; ++i) {
        attached = agent->request(command("attach", {{QStringLiteral("session"), session}}));
        if (attached.value(QLatin1String("error")).toString() != u"busy")
            break;
        QTest::qWait(100);
    }
    if (!attached.value(QLatin1String("ok")).toBool()) {
        qWarning("attach: %s", QJsonDocument(attached).toJson().constData());
        return nullptr;
    }
    agent->request(command("reauth"));
    return agent;
}

} // namespace hotdesk::test
