// hotdesk policy check: exit codes and the FILE:LINE:COL: message lines, through the real binary.
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run check(const QStringList &args, const QByteArray &input = QByteArray())
{
    Run run;
    QProcess process;
    process.start(QStringLiteral(HOTDESK_BINARY), QStringList {QStringLiteral("policy"), QStringLiteral("check")} + args);
    if (!process.waitForStarted(10000))
        return run;
    process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(30000))
        return run;
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

} // namespace

class TestPolicyCheck : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void validFile();
    void everyProblemSortedByPosition();
    void syntaxError();
    void unreadableFile();
    void standardInput();
    void usage();

private:
    QString write(const QString &name, const QByteArray &bytes)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
            qFatal("cannot write %s", qPrintable(path));
        return path;
    }

    QTemporaryDir m_dir;
};

void TestPolicyCheck::validFile()
{
    const QString file = QStringLiteral(HOTDESK_SOURCE_DIR "/resources/policies/hot-desk-office.json");
    const Run run = check({file});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.out, QByteArray());
    QCOMPARE(run.err, QString(file + QStringLiteral(": valid\n")).toUtf8());
}

void TestPolicyCheck::everyProblemSortedByPosition()
{
    const QString file = write(QStringLiteral("broken.json"),
        "{\n"
        "  \"version\": 1,\n"
        "  \"triggers\": {\"max_session\": \"PT1H\", \"idle\": \"PT2H\", \"on_unlock\": \"no\"},\n"
        "  \"servers\": {\"das\": [\"https://das.example\"], \"idp_issuer\": \"https://idp.example\", \"client_id\": "
        "\"agent\"},\n"
        "  \"device\": {\"unrecognised\": \"deny\"}\n"
        "}\n");
    const Run run = check({file});
    QCOMPARE(run.exitCode, 2);
    const QByteArray expected = QString(file
        + QStringLiteral(":3:47: triggers.idle: PT2H is not shorter than triggers.max_session "
                         "(PT1H), so the idle trigger could never fire first; shorten idle or remove it\n")
        + file + QStringLiteral(":3:68: triggers.on_unlock: must be true or false (found a string)\n") + file
        + QStringLiteral(":5:14: device: unknown member \"unrecognised\" (did you mean \"unrecognized\"?)\n"))
                                    .toUtf8();
    QCOMPARE(run.out, expected);
    QCOMPARE(run.err, QByteArray());
}

void TestPolicyCheck::syntaxError()
{
    const QString file = write(QStringLiteral("syntax.json"), "{\n  \"version\": 1\n  \"servers\": {}\n}\n");
    const Run run = check({file});
    QCOMPARE(run.exitCode, 2);
    QCOMPARE(run.out,
        QString(file
            + QStringLiteral(":3:3: expected ',' or '}' after the member (is a comma missing at the end of the line before?)\n"))
            .toUtf8());
}

void TestPolicyCheck::unreadableFile()
{
    const QString missing = m_dir.filePath(QStringLiteral("absent.json"));
    Run run = check({missing});
    QCOMPARE(run.exitCode, 2);
    QCOMPARE(run.out, QString(missing + QStringLiteral(": cannot be read: No such file or directory\n")).toUtf8());
    run = check({m_dir.path()});
    QCOMPARE(run.exitCode, 2);
    QCOMPARE(run.out, QString(m_dir.path() + QStringLiteral(": is a folder; name the policy file in it\n")).toUtf8());
}

void TestPolicyCheck::standardInput()
{
    Run run = check({QStringLiteral("-")}, "{\"version\": 1}");
    QCOMPARE(run.exitCode, 2);
    QCOMPARE(run.out, QByteArray("<stdin>:1:1: the required member \"servers\" is missing\n"));
    QFile example(QStringLiteral(HOTDESK_SOURCE_DIR "/resources/policies/minimal.json"));
    QVERIFY(example.open(QIODevice::ReadOnly));
    run = check({QStringLiteral("-")}, example.readAll());
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.err, QByteArray("<stdin>: valid\n"));
}

void TestPolicyCheck::usage()
{
    const Run run = check({});
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains("name one policy file"), run.err.constData());
}

QTEST_GUILESS_MAIN(TestPolicyCheck)
#include "tst_policycheck.moc"
