// "hotdesk-stubs all" as a child process on fixed loopback ports, and the small file helpers end-to-end tests share.
#pragma once

#include "childprocess.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTest>

#include <algorithm>

namespace hotdesk::test {

inline QJsonObject readJsonFile(const QString &file)
{
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

inline bool writeJsonFile(const QString &file, const QJsonObject &object)
{
    QFile f(file);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(QJsonDocument(object).toJson()) > 0;
}

// Four consecutive free ports: the servers keep their URLs across restarts, as
// the enrollment is bound to the DAS URL. Tests that run at the same time
// start from different places (first, spread) so they seldom probe the same ports.
inline quint16 freePortBase(int first = 20000, int spread = 16, int step = 97)
{
    // Kept below 60000 whatever the pid: a start past the end would probe nothing.
    const int start = first + int(QCoreApplication::applicationPid() % 2000) * spread % std::max(1, 60000 - first);
    for (int base = start; base < 60000; base += step) {
        QTcpServer probes[4];
        bool free = true;
        for (int i = 0; i < 4 && free; ++i)
            free = probes[i].listen(QHostAddress::LocalHost, quint16(base + i));
        if (free)
            return quint16(base);
    }
    return 0;
}

// Asks a process to end (SIGTERM), then kills it if it has not within 10 s.
inline void stopProcess(QProcess &process)
{
    if (process.state() == QProcess::NotRunning)
        return;
    process.terminate();
    if (!process.waitForFinished(10000)) {
        process.kill();
        process.waitForFinished(10000);
    }
}

// One command of hotdesk-stubs with --data dataDir ("admin grant boss --role
// admin", "phone enroll alice"); its stdout, or a null array when it failed.
inline QByteArray stubsCommand(const QString &binary, const QString &dataDir, const QStringList &args)
{
    QProcess p;
    p.start(binary, args + QStringList {QStringLiteral("--data"), dataDir});
    if (!p.waitForFinished(30000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return {};
    return p.readAllStandardOutput();
}

// The companion servers with one data directory for the whole test: restarted
// with other --fault switches or phone behaviour, always on the same ports.
class StubsProcess {
public:
    StubsProcess(QString binary, QString dataDir, quint16 portBase)
        : m_binary(std::move(binary))
        , m_data(std::move(dataDir))
        , m_portBase(portBase)
    {
    }
    ~StubsProcess() { stop(); }

    QString dataDir() const { return m_data; }
    QString policyFile() const { return QDir(m_data).filePath(QStringLiteral("agent-policy.json")); }
    QString caFile() const { return QDir(m_data).filePath(QStringLiteral("ca.pem")); }

    // autoApproveMs < 0: the phone waits for "hotdesk-stubs phone approve|deny".
    void start(const QStringList &faults = {}, int autoApproveMs = 0)
    {
        stop();
        QVERIFY(QDir().mkpath(m_data));
        QStringList args {QStringLiteral("all"), QStringLiteral("--data"), m_data, QStringLiteral("--port-base"),
            QString::number(m_portBase)};
        if (autoApproveMs >= 0)
            args << QStringLiteral("--auto-approve=%1").arg(autoApproveMs);
        for (const QString &fault : faults)
            args << QStringLiteral("--fault") << fault;
        args << m_extraArguments;
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        dieWithTest(m_process);
        m_process.start(m_binary, args);
        QVERIFY(m_process.waitForStarted(10000));
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += m_process.readAllStandardOutput()).contains("\nca "), 30000);
        QVERIFY(QFile::exists(policyFile()));
    }

    void stop() { stopProcess(m_process); }
    // More options for "hotdesk-stubs all" from the next start() on (e.g. --ciba-interval 1).
    void setExtraArguments(const QStringList &arguments) { m_extraArguments = arguments; }

    // One administration command of hotdesk-stubs (with --data); its stdout, or a null array when it failed.
    QByteArray admin(const QStringList &args) const { return stubsCommand(m_binary, m_data, args); }

    QByteArray createAdminToken() const
    {
        const QByteArray out
            = admin({QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"), QStringLiteral("admin")});
        return out.trimmed().split('\n').constLast();
    }

    // "hotdesk enroll --system" of this PC with these servers, into hotdeskd's state directory
    // stateDir, with an administrator's token on standard input; empty when it worked, else its error output.
    QString enrollForDaemon(const QString &hotdeskBinary, const QString &stateDir) const
    {
        QProcess enroll;
        enroll.start(hotdeskBinary,
            {QStringLiteral("enroll"), QStringLiteral("--system"), QStringLiteral("--policy"), policyFile(),
                QStringLiteral("--admin-token"), QStringLiteral("-"), QStringLiteral("--state-dir"), stateDir});
        enroll.write(createAdminToken() + '\n');
        enroll.closeWriteChannel();
        if (!enroll.waitForFinished(60000)) {
            enroll.kill();
            enroll.waitForFinished(5000);
            return QStringLiteral("hotdesk enroll --system did not finish within 60 s");
        }
        return enroll.exitStatus() == QProcess::NormalExit && enroll.exitCode() == 0
            ? QString()
            : QStringLiteral("hotdesk enroll --system failed: ") + QString::fromLocal8Bit(enroll.readAllStandardError());
    }

private:
    QStringList m_extraArguments;
    QString m_binary;
    QString m_data;
    quint16 m_portBase = 0;
    QProcess m_process;
};

} // namespace hotdesk::test
