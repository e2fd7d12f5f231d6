// pam_hotdesk.so's protocol code (pam/pamprotocol.h) without PAM: its options, what reaches a terminal, the request
// line, the daemon's lines, and which outcomes are PAM_SUCCESS (three, by name; everything else is not).
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "pamprotocol.h"

#include <security/_pam_types.h>

using namespace hotdesk::pam;

namespace {

ParsedOptions parse(std::initializer_list<const char *> args)
{
    std::vector<const char *> argv(args);
    return parseOptions(int(argv.size()), argv.data());
}

} // namespace

class TestPamProtocol : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void defaults()
    {
        const ParsedOptions parsed = parse({});
        QVERIFY(parsed.error.empty());
        QCOMPARE(parsed.options.socket, std::string("/run/hotdesk/hotdeskd.sock"));
        QCOMPARE(parsed.options.timeoutSeconds, 120);
        QVERIFY(parsed.options.failMode == FailMode::Secure);
        QVERIFY(parsed.options.promptServices.empty());
    }

    void optionsAreRead()
    {
        const ParsedOptions parsed
            = parse({"socket=/tmp/x.sock", "timeout=45", "failmode=offline", "prompt_services=sshd,,lightdm", "debug"});
        QVERIFY2(parsed.error.empty(), parsed.error.c_str());
        QCOMPARE(parsed.options.socket, std::string("/tmp/x.sock"));
        QCOMPARE(parsed.options.timeoutSeconds, 45);
        QVERIFY(parsed.options.failMode == FailMode::Offline);
        QCOMPARE(parsed.options.promptServices, (std::vector<std::string> {"sshd", "lightdm"}));
        QVERIFY(wantsPrompt(parsed.options, "sshd"));
        QVERIFY(!wantsPrompt(parsed.options, "ssh"));
        QVERIFY(parsed.options.debug);
    }

    void aMistakeIsAnError_data()
    {
        QTest::addColumn<QByteArray>("arg");
        QTest::newRow("mistyped failmode") << QByteArray("failmode=ofline");
        QTest::newRow("open failmode") << QByteArray("failmode=open");
        QTest::newRow("timeout too short") << QByteArray("timeout=9");
        QTest::newRow("timeout too long") << QByteArray("timeout=601");
        QTest::newRow("timeout not a number") << QByteArray("timeout=2m");
        QTest::newRow("relative socket") << QByteArray("socket=hotdeskd.sock");
        QTest::newRow("unknown") << QByteArray("nullok");
    }
    void aMistakeIsAnError()
    {
        QFETCH(QByteArray, arg);
        const ParsedOptions parsed = parse({"timeout=30", arg.constData()});
        QVERIFY(!parsed.error.empty());
        QVERIFY(parsed.error.find(arg.toStdString()) == 0);
    }

    void sanitizeKeepsTextAndDropsWhatMovesTheTerminal()
    {
        QCOMPARE(sanitize("Approve on your phone \xe2\x80\x94 number 42"),
            std::string("Approve on your phone \xe2\x80\x94 number 42"));
        // ESC [ 2 J (clear screen): the ESC goes, the rest is harmless text.
        QCOMPARE(sanitize("a\x1b[2Jb"), std::string("a[2Jb"));
        QCOMPARE(sanitize("line\nnext\ttab\rcr\x07"), std::string("line next tabcr"));
        // C1 controls (U+009B is CSI), DEL, bidi overrides and isolates, a BOM.
        QCOMPARE(sanitize("x\xc2\x9b"
                          "31my\x7f"),
            std::string("x31my"));
        QCOMPARE(sanitize("a\xe2\x80\xae"
                          "b\xe2\x81\xa6"
                          "c\xef\xbb\xbf"),
            std::string("abc"));
        // Invalid UTF-8: a lone continuation byte, an overlong slash, a surrogate, a cut sequence.
        QCOMPARE(sanitize("\x80"
                          "a\xc0\xaf"
                          "b\xed\xa0\x80"
                          "c\xe2\x82"),
            std::string("?a??b???c??"));
    }

    void sanitizeCutsAtACharacter()
    {
        const std::string text = sanitize("ab\xe2\x80\x94", 4);
        QCOMPARE(text, std::string("ab"));
        QCOMPARE(sanitize(std::string(1000, 'x')).size(), std::size_t(400));
    }

    void theRequestIsOneJsonLine()
    {
        const Request request {"ali\"ce\n", "sudo", "/dev/pts/3", "", FailMode::Offline};
        const std::string line = requestLine(request);
        QVERIFY(line.size() > 1 && line.back() == '\n');
        QCOMPARE(std::count(line.begin(), line.end(), '\n'), 1L);
        QJsonParseError error;
        const QJsonObject object = QJsonDocument::fromJson(QByteArray::fromStdString(line), &error).object();
        QCOMPARE(error.error, QJsonParseError::NoError);
        QCOMPARE(object.value(QLatin1String("v")).toInt(), 1);
        QCOMPARE(object.value(QLatin1String("command")).toString(), QStringLiteral("pam_authenticate"));
        QCOMPARE(object.value(QLatin1String("user")).toString(), QStringLiteral("ali\"ce\n"));
        QCOMPARE(object.value(QLatin1String("service")).toString(), QStringLiteral("sudo"));
        QCOMPARE(object.value(QLatin1String("tty")).toString(), QStringLiteral("/dev/pts/3"));
        QCOMPARE(object.value(QLatin1String("failmode")).toString(), QStringLiteral("offline"));
    }

    void daemonLines_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<int>("kind");
        QTest::addColumn<QByteArray>("detail"); // the error, the result or the message
        using K = DaemonLine::Kind;
        QTest::newRow("not json") << QByteArray("hello") << int(K::Malformed) << QByteArray();
        QTest::newRow("array") << QByteArray("[1]") << int(K::Malformed) << QByteArray();
        QTest::newRow("invalid utf-8") << QByteArray("{\"event\":\"pam_info\",\"message\":\"\xff\"}") << int(K::Malformed)
                                       << QByteArray();
        QTest::newRow("ok") << QByteArray("{\"ok\":true,\"v\":1,\"auth\":\"a1\"}") << int(K::Reply) << QByteArray();
        QTest::newRow("ok not bool") << QByteArray("{\"ok\":\"true\"}") << int(K::Malformed) << QByteArray();
        QTest::newRow("error") << QByteArray("{\"ok\":false,\"error\":\"not_covered\",\"message\":\"m\"}") << int(K::Reply)
                               << QByteArray("not_covered");
        QTest::newRow("error without name") << QByteArray("{\"ok\":false}") << int(K::Malformed) << QByteArray();
        QTest::newRow("error of wrong type") << QByteArray("{\"ok\":false,\"error\":7}") << int(K::Malformed) << QByteArray();
        QTest::newRow("info") << QByteArray("{\"event\":\"pam_info\",\"message\":\"number \\u001b42\"}") << int(K::Info)
                              << QByteArray("number 42");
        QTest::newRow("result") << QByteArray("{\"event\":\"pam_result\",\"result\":\"denied\"}") << int(K::Result)
                                << QByteArray("denied");
        QTest::newRow("result without name") << QByteArray("{\"event\":\"pam_result\"}") << int(K::Malformed) << QByteArray();
        QTest::newRow("other event") << QByteArray("{\"event\":\"lock\"}") << int(K::Other) << QByteArray();
        QTest::newRow("reply and event") << QByteArray("{\"ok\":true,\"event\":\"pam_result\",\"result\":\"approved\"}")
                                         << int(K::Malformed) << QByteArray();
    }
    void daemonLines()
    {
        QFETCH(QByteArray, line);
        QFETCH(int, kind);
        QFETCH(QByteArray, detail);
        const DaemonLine parsed = parseLine(line.toStdString());
        QCOMPARE(int(parsed.kind), kind);
        if (parsed.kind == DaemonLine::Kind::Reply && !parsed.ok)
            QCOMPARE(parsed.error, detail.toStdString());
        if (parsed.kind == DaemonLine::Kind::Result)
            QCOMPARE(parsed.result, detail.toStdString());
        if (parsed.kind == DaemonLine::Kind::Info)
            QCOMPARE(parsed.message, detail.toStdString());
    }

    void onlyThreeResultsSucceed()
    {
        for (const char *result : {"approved", "recent", "offline_granted"})
            QCOMPARE(pamCodeForResult(result), PAM_SUCCESS);
        QCOMPARE(pamCodeForResult("denied"), PAM_AUTH_ERR);
        QCOMPARE(pamCodeForResult("expired"), PAM_AUTH_ERR);
        QCOMPARE(pamCodeForResult("locked_out"), PAM_MAXTRIES);
        QCOMPARE(pamCodeForResult("unavailable"), PAM_AUTHINFO_UNAVAIL);
        QCOMPARE(pamCodeForResult("not_covered"), PAM_IGNORE);
        QCOMPARE(pamCodeForResult("Approved"), PAM_AUTH_ERR);
        QCOMPARE(pamCodeForResult("success"), PAM_AUTH_ERR);
        QCOMPARE(pamCodeForResult(""), PAM_AUTH_ERR);
        // No error reply is a success.
        for (const char *error : {"not_covered", "locked_out", "no_such_user", "forbidden", "busy", "unknown_command", "x"})
            QVERIFY(pamCodeForError(error) != PAM_SUCCESS);
        QCOMPARE(pamCodeForError("unknown_command"), PAM_AUTHINFO_UNAVAIL);
        QCOMPARE(pamCodeForError("not_covered"), PAM_IGNORE);
    }
};

QTEST_GUILESS_MAIN(TestPamProtocol)
#include "tst_pamprotocol.moc"
