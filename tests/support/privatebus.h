// A private dbus-daemon for one test, so fake desktop services never meet (or collide with) the real session's.
#pragma once

#include "childprocess.h"

#include <QDBusConnection>
#include <QProcess>
#include <QStringList>
#include <QUuid>

namespace hotdesk::test {

class PrivateBus {
public:
    PrivateBus() = default;
    PrivateBus(const PrivateBus &) = delete;
    PrivateBus &operator=(const PrivateBus &) = delete;

    ~PrivateBus()
    {
        for (const QString &name : std::as_const(m_connections))
            QDBusConnection::disconnectFromBus(name);
        if (m_daemon.state() != QProcess::NotRunning) {
            m_daemon.kill();
            m_daemon.waitForFinished(5000);
        }
    }

    // Starts the daemon; false with *why when it could not (no dbus-daemon installed: Debian package dbus).
    bool start(QString *why)
    {
        m_daemon.setProgram(QStringLiteral("dbus-daemon"));
        m_daemon.setArguments({QStringLiteral("--session"), QStringLiteral("--nofork"), QStringLiteral("--nopidfile"),
            QStringLiteral("--print-address=1"), QStringLiteral("--address=unix:tmpdir=/tmp")});
        m_daemon.setProcessChannelMode(QProcess::SeparateChannels);
        dieWithTest(m_daemon);
        m_daemon.start();
        if (!m_daemon.waitForStarted(10000)) {
            *why = QStringLiteral("dbus-daemon did not start: ") + m_daemon.errorString();
            return false;
        }
        while (!m_daemon.canReadLine()) {
            if (!m_daemon.waitForReadyRead(10000)) {
                *why = QStringLiteral("dbus-daemon printed no address: ")
                    + QString::fromLocal8Bit(m_daemon.readAllStandardError());
                return false;
            }
        }
        m_address = QString::fromUtf8(m_daemon.readLine().trimmed());
        return !m_address.isEmpty();
    }

    const QString &address() const { return m_address; }

    // A new connection of its own (its own unique name), like another process's.
    QDBusConnection connect()
    {
        const QString name = QStringLiteral("hotdesk-test-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
        m_connections << name;
        return QDBusConnection::connectToBus(m_address, name);
    }

    // A connection that is certainly not connected: no bus at all.
    static QDBusConnection nowhere()
    {
        return QDBusConnection::connectToBus(
            QStringLiteral("unix:path=/nonexistent/hotdesk-no-bus"), QStringLiteral("hotdesk-test-nowhere"));
    }

private:
    QProcess m_daemon;
    QString m_address;
    QStringList m_connections;
};

} // namespace hotdesk::test
