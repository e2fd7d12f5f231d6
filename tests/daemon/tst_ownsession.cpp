// platform::findOwnSession, the agent's answer to "which logind session do I present": $XDG_SESSION_ID, else the
// user's display session from logind (a systemd user service has no session id of its own). python3-dbusmock's
// logind stands in for the system's; the real one is tried in tests/package/tst_debsystemd.py.
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDBusVariant>
#include <QTest>

#include "core/platform/linux/logindsessions.h"
#include "logindmock.h"

#include <optional>
#include <unistd.h>

using namespace hotdesk;
using namespace hotdesk::test;

class TestOwnSession : public QObject {
    Q_OBJECT
private:
    LogindMock m_logind;
    QByteArray m_savedId;

    // findOwnSession's one answer, waited for on the event loop.
    std::optional<Result<QString>> ask(const QDBusConnection &bus)
    {
        std::optional<Result<QString>> answer;
        int answers = 0;
        platform::findOwnSession(bus, std::chrono::seconds(5), this, [&](const Result<QString> &found) {
            answer = found;
            ++answers;
        });
        if (!QTest::qWaitFor([&] { return answer.has_value(); }, 15000))
            return std::nullopt;
        QTest::qWait(50);
        return answers == 1 ? answer : std::nullopt;
    }

    bool setDisplay(const QString &id)
    {
        const QString user = QStringLiteral("/org/freedesktop/login1/user/%1").arg(::getuid());
        QDBusMessage set = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.login1"), user,
            QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Set"));
        QDBusArgument display;
        display.beginStructure();
        display << id << QDBusObjectPath(id.isEmpty() ? QStringLiteral("/") : LogindMock::sessionPath(id));
        display.endStructure();
        set.setArguments({QStringLiteral("org.freedesktop.login1.User"), QStringLiteral("Display"),
            QVariant::fromValue(QDBusVariant(QVariant::fromValue(display)))});
        return m_logind.connection().call(set, QDBus::Block, 5000).type() == QDBusMessage::ReplyMessage;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!LogindMock::installed())
            QSKIP("python3-dbusmock is not installed (./dev installs it; Debian package python3-dbusmock)");
        QString why;
        QVERIFY2(m_logind.start(&why), qPrintable(why));
        QVERIFY(m_logind.addSession(QStringLiteral("c7"), QStringLiteral("x11"), ::getuid(), QStringLiteral("someone")));
        // The template's GetUser adds a number to a string (a TypeError in python3-dbusmock 0.28); logind's answer
        // is the user's object path, here the path the template gives its users.
        QDBusMessage fix = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.login1"),
            QStringLiteral("/org/freedesktop/login1"), QStringLiteral("org.freedesktop.DBus.Mock"), QStringLiteral("AddMethod"));
        fix.setArguments({QStringLiteral("org.freedesktop.login1.Manager"), QStringLiteral("GetUser"), QStringLiteral("u"),
            QStringLiteral("o"), QStringLiteral("ret = '/org/freedesktop/login1/user/%d' % args[0]")});
        const QDBusMessage fixed = m_logind.connection().call(fix, QDBus::Block, 5000);
        QVERIFY2(fixed.type() == QDBusMessage::ReplyMessage, qPrintable(fixed.errorMessage()));
        m_savedId = qgetenv("XDG_SESSION_ID");
    }
    void cleanup() { qputenv("XDG_SESSION_ID", m_savedId); }

    void theEnvironmentsSessionComesFirst()
    {
        qputenv("XDG_SESSION_ID", "41");
        QVERIFY(setDisplay(QStringLiteral("c7")));
        const auto answer = ask(m_logind.connection());
        QVERIFY2(answer && *answer, answer && !*answer ? qPrintable(answer->error().message) : "no single answer");
        QCOMPARE(**answer, QStringLiteral("41"));
    }

    void withoutItTheUsersDisplaySession()
    {
        qunsetenv("XDG_SESSION_ID");
        QVERIFY(setDisplay(QStringLiteral("c7")));
        const auto answer = ask(m_logind.connection());
        QVERIFY2(answer && *answer, answer && !*answer ? qPrintable(answer->error().message) : "no single answer");
        QCOMPARE(**answer, QStringLiteral("c7"));
    }

    void noDisplaySessionIsAnError()
    {
        qunsetenv("XDG_SESSION_ID");
        QVERIFY(setDisplay(QString()));
        const auto answer = ask(m_logind.connection());
        QVERIFY2(answer, "no single answer");
        QVERIFY(!*answer);
        QVERIFY2(answer->error().message.contains(QLatin1String("no display session")), qPrintable(answer->error().message));
    }

    void noBusAnswersRatherThanHangs()
    {
        qunsetenv("XDG_SESSION_ID");
        const auto answer = ask(QDBusConnection(QStringLiteral("none")));
        QVERIFY2(answer, "no single answer");
        QVERIFY(!*answer);
        QVERIFY2(answer->error().message.contains(QLatin1String("logind does not know this user")),
            qPrintable(answer->error().message));
    }
};

QTEST_GUILESS_MAIN(TestOwnSession)
#include "tst_ownsession.moc"
