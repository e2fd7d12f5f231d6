// hotdeskd's messages as the agent shows them (core/agent/daemontexts.h): a message_id or an error code the agent
// knows in its own language (the embedded German translation here), anything else as the daemon's English text.
#include "core/agent/daemontexts.h"
#include "ui/translations.h"

#include <QJsonArray>
#include <QTest>

using hotdesk::agent::daemonTextForPeople;

class TestDaemonTexts : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cleanup() { hotdesk::ui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates)); }

    void knownIdsAndCodesAreTranslated_data()
    {
        QTest::addColumn<QJsonObject>("line");
        QTest::addColumn<QString>("english");
        QTest::addColumn<QString>("german");
        QTest::newRow("progress") << QJsonObject {{QStringLiteral("event"), QStringLiteral("sign_in_progress")},
            {QStringLiteral("message_id"), QStringLiteral("waiting_for_phone")},
            {QStringLiteral("message"), QStringLiteral("Approve the sign-in on your phone.")}}
                                  << QStringLiteral("Approve the sign-in on your phone.")
                                  << QStringLiteral("Bestätigen Sie die Anmeldung auf Ihrem Telefon.");
        QTest::newRow("progress with an argument")
            << QJsonObject {{QStringLiteral("message_id"), QStringLiteral("registration")},
                   {QStringLiteral("message_args"), QJsonArray {QStringLiteral("alice")}},
                   {QStringLiteral("message"), QStringLiteral("Registering alice on this PC…")}}
            << QStringLiteral("Registering alice on this PC…") << QStringLiteral("alice wird auf diesem PC registriert …");
        QTest::newRow("error code")
            << QJsonObject {{QStringLiteral("ok"), false}, {QStringLiteral("error"), QStringLiteral("busy")},
                   {QStringLiteral("message"), QStringLiteral("a sign-in of session c1 is already running")}}
            << QStringLiteral("Another sign-in or check for this session is under way. Wait a moment, then try again.")
            << QStringLiteral("Für diese Sitzung läuft bereits eine Anmeldung oder Prüfung. Warten Sie einen Moment und "
                              "versuchen Sie es dann erneut.");
    }
    void knownIdsAndCodesAreTranslated()
    {
        QFETCH(QJsonObject, line);
        QFETCH(QString, english);
        QFETCH(QString, german);
        QCOMPARE(daemonTextForPeople(line), english);
        QVERIFY(hotdesk::ui::installTranslations(QLocale(QLocale::German, QLocale::Germany)));
        QCOMPARE(daemonTextForPeople(line), german);
    }

    // A newer daemon's id or code this agent does not know: the daemon's English text, as it is.
    void unknownOnesKeepTheDaemonsEnglish_data()
    {
        QTest::addColumn<QJsonObject>("line");
        QTest::newRow("unknown id") << QJsonObject {{QStringLiteral("message_id"), QStringLiteral("something_new")},
            {QStringLiteral("message_args"), QJsonArray {QStringLiteral("x")}},
            {QStringLiteral("message"), QStringLiteral("Something new happened to x.")}};
        QTest::newRow("unknown code") << QJsonObject {{QStringLiteral("ok"), false},
            {QStringLiteral("error"), QStringLiteral("new_error")},
            {QStringLiteral("message"), QStringLiteral("Something new happened to x.")}};
        QTest::newRow("no id, no code") << QJsonObject {
            {QStringLiteral("message"), QStringLiteral("Something new happened to x.")}};
    }
    void unknownOnesKeepTheDaemonsEnglish()
    {
        QFETCH(QJsonObject, line);
        QVERIFY(hotdesk::ui::installTranslations(QLocale(QLocale::German, QLocale::Germany)));
        QCOMPARE(daemonTextForPeople(line), QStringLiteral("Something new happened to x."));
    }
};

QTEST_GUILESS_MAIN(TestDaemonTexts)
#include "tst_daemontexts.moc"
