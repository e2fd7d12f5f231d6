// Replays the seeds and the saved crash inputs of every fuzz target in the
// normal build: an invariant a fuzzer once broke must stay fixed, and each seed
// must still reach the outcome its file name promises.
#include "fuzztarget.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QTest>

using namespace hotdesk;

namespace {

QDir fuzzDir()
{
    // The seeds and regressions live in the source tree (not __FILE__: a
    // compiler cache may make that path relative).
    return QDir(QStringLiteral(HOTDESK_FUZZ_DIR));
}

const fuzz::ReplayTarget *findTarget(const QString &name)
{
    for (const fuzz::ReplayTarget &t : fuzz::replayTargets()) {
        if (name == QLatin1String(t.name))
            return &t;
    }
    return nullptr;
}

QStringList inputsOf(const QString &kind, const QString &target)
{
    return QDir(fuzzDir().filePath(kind + QLatin1Char('/') + target)).entryList(QDir::Files, QDir::Name);
}

// "bad_signature-rs256.jwt" promises "bad_signature": the leading run of [a-z_].
QString promisedOutcome(const QString &fileName)
{
    qsizetype n = 0;
    while (n < fileName.size() && (fileName.at(n).isLower() || fileName.at(n) == QLatin1Char('_')))
        ++n;
    return fileName.left(n);
}

} // namespace

class TestFuzzReplay : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyTargetHasSeeds()
    {
        QVERIFY2(!fuzz::replayTargets().empty(), "no fuzz target is compiled into the test");
        QSet<QString> registered;
        for (const fuzz::ReplayTarget &t : fuzz::replayTargets()) {
            registered.insert(QLatin1String(t.name));
            QVERIFY2(!inputsOf(QStringLiteral("seeds"), QLatin1String(t.name)).isEmpty(),
                     qPrintable(QStringLiteral("%1 has no seeds in %2").arg(QLatin1String(t.name), fuzzDir().filePath(QStringLiteral("seeds")))));
        }
        // A directory without a target means a target missing from tst_fuzzreplay's sources.
        for (const QString &kind : {QStringLiteral("seeds"), QStringLiteral("regressions")}) {
            const QStringList dirs = QDir(fuzzDir().filePath(kind)).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
            for (const QString &dir : dirs)
                QVERIFY2(registered.contains(dir), qPrintable(QStringLiteral("%1/%2 belongs to no target in this test").arg(kind, dir)));
        }
    }

    void replay_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("isSeed");
        for (const fuzz::ReplayTarget &t : fuzz::replayTargets()) {
            const QString target = QLatin1String(t.name);
            for (const QString &kind : {QStringLiteral("seeds"), QStringLiteral("regressions")}) {
                for (const QString &file : inputsOf(kind, target)) {
                    const QString relative = kind + QLatin1Char('/') + target + QLatin1Char('/') + file;
                    QTest::newRow(qPrintable(relative)) << target << fuzzDir().filePath(relative) << (kind == QLatin1String("seeds"));
                }
            }
        }
    }

    void replay()
    {
        QFETCH(QString, target);
        QFETCH(QString, path);
        QFETCH(bool, isSeed);
        QFile file(path);
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.errorString()));
        const QByteArray input = file.readAll();
        const fuzz::ReplayTarget *t = findTarget(target);
        QVERIFY(t);
        fuzz::lastOutcome().clear();
        try {
            QCOMPARE(t->run(reinterpret_cast<const std::uint8_t *>(input.constData()), std::size_t(input.size())), 0);
        } catch (const fuzz::InvariantBroken &e) {
            QFAIL(e.what());
        }
        // Crash inputs only have to keep the invariants; what they are refused for may change.
        if (isSeed) {
            const QString expected = promisedOutcome(QFileInfo(path).fileName());
            QVERIFY2(!expected.isEmpty(), "a seed's name must start with the outcome it reaches, e.g. \"malformed-\"");
            QCOMPARE(fuzz::lastOutcome(), expected);
        }
    }
};

QTEST_GUILESS_MAIN(TestFuzzReplay)
#include "tst_fuzzreplay.moc"
