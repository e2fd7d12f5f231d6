// hotdesk policy check: exit codes and the FILE:LINE:COL: message lines, through the real binary.
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

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
    void trustVerdict();
    void requireTrusted();

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
    // Then the trust verdict, which depends on who owns the source tree (trustVerdict checks it).
    QVERIFY2(run.err.startsWith(QString(file + QStringLiteral(": valid\n")).toUtf8()), run.err.constData());
    QVERIFY2(run.err.contains(QString(file + QStringLiteral(": trusted: ")).toUtf8())
            || run.err.contains(QString(file + QStringLiteral(": not trusted: ")).toUtf8()),
        run.err.constData());
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
    QVERIFY2(!run.err.contains(": valid"), run.err.constData()); // only the trust verdict
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

void TestPolicyCheck::trustVerdict()
{
    if (::geteuid() != 0)
        QSKIP("needs root: a trusted policy is root's, and the refusal needs a file chown'ed to uid 65534 (CI runs as root)");
    QFile example(QStringLiteral(HOTDESK_SOURCE_DIR "/resources/policies/minimal.json"));
    QVERIFY(example.open(QIODevice::ReadOnly));
    const QString file = write(QStringLiteral("trust.json"), example.readAll());
    const QByteArray path = QFile::encodeName(file);
    QCOMPARE(::chmod(path.constData(), 0644), 0);
    Run run = check({file});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.err,
        QString(file + QStringLiteral(": valid\n") + file
            + QStringLiteral(": trusted: owned by root, and neither it nor a folder above it can be changed by anyone else\n"))
            .toUtf8());

    // Writable by others: still a valid policy, and said to be untrusted with what to run.
    QCOMPARE(::chmod(path.constData(), 0666), 0);
    run = check({file});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.err,
        QString(file + QStringLiteral(": valid\n") + file
            + QStringLiteral(": not trusted: it is owned by root (uid 0) with mode 0666; only a file owned by root that no one "
                             "else can write is trusted. Run 'chown root:root %1 && chmod 644 %1'\n")
                  .arg(file)
            + file + QStringLiteral(": the agent and hotdeskd refuse an untrusted policy at /etc/hotdesk/policy.json\n"))
            .toUtf8());

    QCOMPARE(::chmod(path.constData(), 0644), 0);
    QCOMPARE(::chown(path.constData(), 65534, 65534), 0);
    run = check({file});
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.err.contains("(uid 65534) with mode 0644"), run.err.constData());
}

void TestPolicyCheck::requireTrusted()
{
    if (::geteuid() != 0)
        QSKIP("needs root: a trusted policy is root's (CI runs as root)");
    QFile example(QStringLiteral(HOTDESK_SOURCE_DIR "/resources/policies/minimal.json"));
    QVERIFY(example.open(QIODevice::ReadOnly));
    const QByteArray text = example.readAll();
    const QString file = write(QStringLiteral("required.json"), text);
    const QByteArray path = QFile::encodeName(file);
    QCOMPARE(::chmod(path.constData(), 0644), 0);
    const QString option = QStringLiteral("--require-trusted");
    QCOMPARE(check({option, file}).exitCode, 0);
    QCOMPARE(::chmod(path.constData(), 0664), 0);
    const Run run = check({option, file});
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains("not trusted"), run.err.constData());
    // Standard input has no owner to check.
    const Run fromStdin = check({option, QStringLiteral("-")}, text);
    QCOMPARE(fromStdin.exitCode, 2);
    QVERIFY2(fromStdin.err.contains("standard input has no owner to check"), fromStdin.err.constData());
}

QTEST_GUILESS_MAIN(TestPolicyCheck)
#include "tst_policycheck.moc"
