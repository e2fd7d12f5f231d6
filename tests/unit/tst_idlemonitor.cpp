// IdleMonitor and FallbackIdleSource with fake sources, no waiting; DBusIdleSource's order of attempts on fake services.
#include "core/platform/fallbackidlesource.h"
#include "core/platform/linux/dbusidlesource.h"
#include "core/platform/platform.h"

#include "privatebus.h"

#include <QDBusContext>
#include <QDBusObjectPath>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

#include <time.h>

#include <memory>
#include <optional>

using namespace hotdesk;
using namespace hotdesk::platform;
using namespace std::chrono_literals;
using hotdesk::test::PrivateBus;
using std::chrono::milliseconds;

namespace {

// The test says what the idle time is; answers at once, or holds the answer until the test calls it.
class FakeIdleSource final : public IdleSource {
public:
    FakeIdleSource() = default;
    explicit FakeIdleSource(QString name)
        : m_name(std::move(name))
    {
    }

    std::optional<Result<milliseconds>> answer = milliseconds(0);
    bool hold = false;
    int queries = 0;
    QList<Callback> held;

    void queryIdleTime(Callback done) override
    {
        ++queries;
        if (hold) {
            held << std::move(done);
            return;
        }
        done(*answer);
    }
    QString name() const override { return m_name; }

private:
    QString m_name = QStringLiteral("fake");
};

// Answers with the time since it was made: idle time that grows by itself.
class GrowingIdleSource final : public IdleSource {
public:
    GrowingIdleSource() { m_clock.start(); }
    void queryIdleTime(Callback done) override { done(milliseconds(m_clock.elapsed())); }
    QString name() const override { return QStringLiteral("growing"); }

private:
    QElapsedTimer m_clock;
};

Result<milliseconds> failure(const QString &message = QStringLiteral("no idle time here"))
{
    return fail(ErrorCode::Unsupported, message);
}

// A FallbackIdleSource over fakes named "a", "b", "c" (all failing at first), and the fakes to steer it.
struct Chain {
    std::unique_ptr<FallbackIdleSource> source;
    QList<FakeIdleSource *> fakes;

    explicit Chain(int count)
    {
        std::vector<std::unique_ptr<IdleSource>> sources;
        for (int i = 0; i < count; ++i) {
            auto fake = std::make_unique<FakeIdleSource>(QString(QChar(u'a' + i)));
            fake->answer = failure(QStringLiteral("%1 is not there.").arg(fake->name()));
            fakes << fake.get();
            sources.push_back(std::move(fake));
        }
        source = std::make_unique<FallbackIdleSource>(std::move(sources));
    }

    // Asks once; the answer comes inside the call with these fakes.
    Result<milliseconds> ask()
    {
        std::optional<Result<milliseconds>> out;
        source->queryIdleTime([&](Result<milliseconds> r) { out = std::move(r); });
        if (!out)
            qFatal("FallbackIdleSource did not answer inside the call");
        return *out;
    }

    QList<int> queries() const
    {
        QList<int> counts;
        for (const FakeIdleSource *fake : fakes)
            counts << fake->queries;
        return counts;
    }
};

qulonglong monotonicMicroseconds()
{
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qulonglong(ts.tv_sec) * 1'000'000 + qulonglong(ts.tv_nsec / 1000);
}

} // namespace

class FakeMutter : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.gnome.Mutter.IdleMonitor")
public:
    qulonglong idle = 0;
public Q_SLOTS:
    qulonglong GetIdletime() { return idle; }
};

class FakeScreenSaver : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.ScreenSaver")
public:
    uint idle = 0;
public Q_SLOTS:
    uint GetSessionIdleTime() { return idle; }
};

class FakeLogindManager : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Manager")
public Q_SLOTS:
    QDBusObjectPath GetSession(const QString &) { return QDBusObjectPath(QStringLiteral("/org/freedesktop/login1/session/_37")); }
};

class FakeLogindSession : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Session")
    Q_PROPERTY(bool IdleHint READ idleHint)
    Q_PROPERTY(qulonglong IdleSinceHintMonotonic READ idleSince)
public:
    bool hint = false;
    qulonglong since = 0;
    bool idleHint() const { return hint; }
    qulonglong idleSince() const { return since; }
};

class TestIdleMonitor : public QObject {
    Q_OBJECT

private:
    static IdleMonitor::Options options()
    {
        IdleMonitor::Options o;
        o.resumeCheckInterval = 2s;
        o.retryInterval = 60s;
        o.minimumDelay = 250ms;
        return o;
    }

    static Result<milliseconds> query(IdleSource &source)
    {
        std::optional<Result<milliseconds>> out;
        source.queryIdleTime([&](Result<milliseconds> r) { out = std::move(r); });
        for (int i = 0; i < 1000 && !out; ++i)
            QTest::qWait(10);
        if (!out)
            qFatal("the idle source did not answer");
        return *out;
    }

private Q_SLOTS:
    void offUntilAThresholdIsSet()
    {
        auto source = std::make_unique<FakeIdleSource>();
        auto *fake = source.get();
        IdleMonitor monitor(std::move(source), options());
        QCOMPARE(monitor.scheduledDelay(), std::nullopt);
        monitor.checkNow();
        QCOMPARE(fake->queries, 0);
        monitor.setThreshold(15min);
        QCOMPARE(fake->queries, 1);
        monitor.setThreshold(0ms);
        QCOMPARE(monitor.scheduledDelay(), std::nullopt);
    }

    // While the user is active the next question is due when the threshold can
    // first be reached, never sooner: no polling.
    void activeUserIsAskedAgainOnlyWhenTheThresholdCanBeReached_data()
    {
        QTest::addColumn<qint64>("idleMs");
        QTest::addColumn<qint64>("expectedDelayMs");
        QTest::newRow("just active") << qint64(0) << qint64(15 * 60 * 1000);
        QTest::newRow("ten minutes idle") << qint64(10 * 60 * 1000) << qint64(5 * 60 * 1000);
        QTest::newRow("a moment before (minimum delay)") << qint64(15 * 60 * 1000 - 1) << qint64(250);
    }
    void activeUserIsAskedAgainOnlyWhenTheThresholdCanBeReached()
    {
        QFETCH(qint64, idleMs);
        QFETCH(qint64, expectedDelayMs);
        auto source = std::make_unique<FakeIdleSource>();
        source->answer = milliseconds(idleMs);
        IdleMonitor monitor(std::move(source), options());
        QSignalSpy reached(&monitor, &IdleMonitor::idleReached);
        monitor.setThreshold(15min);
        QCOMPARE(monitor.scheduledDelay(), std::optional<milliseconds>(milliseconds(expectedDelayMs)));
        QCOMPARE(reached.size(), 0);
        QVERIFY(!monitor.isIdle());
    }

    void idleThenActiveAgain()
    {
        auto source = std::make_unique<FakeIdleSource>();
        auto *fake = source.get();
        IdleMonitor monitor(std::move(source), options());
        QSignalSpy reached(&monitor, &IdleMonitor::idleReached);
        QSignalSpy resumed(&monitor, &IdleMonitor::activityResumed);
        fake->answer = milliseconds(9min);
        monitor.setThreshold(15min);
        QCOMPARE(monitor.scheduledDelay(), std::optional<milliseconds>(6min));

        // The timer fires at 15 minutes of inactivity.
        fake->answer = milliseconds(15min);
        monitor.checkNow();
        QCOMPARE(reached.size(), 1);
        QCOMPARE(reached.constFirst().constFirst().value<milliseconds>(), milliseconds(15min));
        QVERIFY(monitor.isIdle());
        QCOMPARE(monitor.scheduledDelay(), std::optional<milliseconds>(2s));

        // Still idle: reported once, asked again at the resume interval.
        fake->answer = milliseconds(15min + 2s);
        monitor.checkNow();
        QCOMPARE(reached.size(), 1);
        QCOMPARE(resumed.size(), 0);
        QCOMPARE(monitor.scheduledDelay(), std::optional<milliseconds>(2s));

        // Input a second ago: back, and the next question is 15 min - 1 s away.
        fake->answer = milliseconds(1s);
        monitor.checkNow();
        QCOMPARE(resumed.size(), 1);
        QVERIFY(!monitor.isIdle());
        QCOMPARE(monitor.scheduledDelay(), std::optional<milliseconds>(15min - 1s));

        // And idle again later.
        fake->answer = milliseconds(15min);
        monitor.checkNow();
        QCOMPARE(reached.size(), 2);
    }

    void activeAndIdleAgainBetweenTwoChecks()
    {
        auto source = std::make_unique<FakeIdleSource>();
        auto *fake = source.get();
        IdleMonitor monitor(std::move(source), options());
        QSignalSpy reached(&monitor, &IdleMonitor::idleReached);
        QSignalSpy resumed(&monitor, &IdleMonitor::activityResumed);
        fake->answer = milliseconds(1s);
        monitor.setThreshold(1s);
        QCOMPARE(reached.size(), 1);
        // A touch, then idle past the threshold again before the next check.
        fake->answer = milliseconds(1500ms);
        monitor.checkNow();
        fake->answer = milliseconds(1200ms);
        monitor.checkNow();
        QCOMPARE(resumed.size(), 1);
        QCOMPARE(reached.size(), 2);
    }

    void failingSourceIsReportedOnceAndRetried()
    {
        auto source = std::make_unique<FakeIdleSource>();
        auto *fake = source.get();
        fake->answer = failure();
        IdleMonitor monitor(std::move(source), options());
        QSignalSpy unavailable(&monitor, &IdleMonitor::unavailable);
        QSignalSpy reached(&monitor, &IdleMonitor::idleReached);
        monitor.setThreshold(15min);
        QCOMPARE(unavailable.size(), 1);
        QCOMPARE(unavailable.constFirst().constFirst().toString(), QStringLiteral("no idle time here"));
        QCOMPARE(monitor.scheduledDelay(), std::optional<milliseconds>(60s));
        monitor.checkNow();
        QCOMPARE(unavailable.size(), 1);
        // It works again, and fails again later: a new report.
        fake->answer = milliseconds(20min);
        monitor.checkNow();
        QCOMPARE(reached.size(), 1);
        fake->answer = failure();
        monitor.checkNow();
        QCOMPARE(unavailable.size(), 2);
    }

    void answersToEarlierQuestionsDoNotCount()
    {
        auto source = std::make_unique<FakeIdleSource>();
        auto *fake = source.get();
        fake->hold = true;
        IdleMonitor monitor(std::move(source), options());
        QSignalSpy reached(&monitor, &IdleMonitor::idleReached);
        monitor.setThreshold(1min);
        QCOMPARE(fake->held.size(), 1);
        QCOMPARE(monitor.scheduledDelay(), std::nullopt); // a question is out
        monitor.setThreshold(30min);
        QCOMPARE(fake->held.size(), 2);
        // The answer to the 1-minute question arrives late: it is not a reason to report.
        fake->held.takeFirst()(milliseconds(5min));
        QCOMPARE(reached.size(), 0);
        QCOMPARE(monitor.scheduledDelay(), std::nullopt);
        fake->held.takeFirst()(milliseconds(5min));
        QCOMPARE(monitor.scheduledDelay(), std::optional<milliseconds>(25min));
    }

    void receiverMayChangeTheThreshold()
    {
        auto source = std::make_unique<FakeIdleSource>();
        auto *fake = source.get();
        fake->answer = milliseconds(20min);
        IdleMonitor monitor(std::move(source), options());
        connect(
            &monitor, &IdleMonitor::idleReached, &monitor, [&] { monitor.setThreshold(1h); }, Qt::DirectConnection);
        monitor.setThreshold(15min);
        QCOMPARE(monitor.threshold(), milliseconds(1h));
        // The 1 h threshold's own schedule stands, not the 15 min one's resume check.
        QCOMPARE(monitor.scheduledDelay(), std::optional<milliseconds>(40min));
    }

    // The real timer, with idle time that grows by itself: the monitor gets
    // there without being told to check (bounded wait, nothing timed).
    void theTimerFiresByItself()
    {
        IdleMonitor::Options o = options();
        o.minimumDelay = 1ms;
        IdleMonitor monitor(std::make_unique<GrowingIdleSource>(), o);
        QSignalSpy reached(&monitor, &IdleMonitor::idleReached);
        monitor.setThreshold(50ms);
        QVERIFY(reached.wait(10000));
        QCOMPARE(reached.size(), 1);
    }

    // FallbackIdleSource: the first source that answers, remembered; a failure
    // of the remembered one goes back to the top.
    void fallbackAsksInOrderAndRemembers()
    {
        Chain chain(3);
        QCOMPARE(chain.source->name(), QString());

        // Nobody answers: Unsupported with every source's message, in order.
        auto none = chain.ask();
        QVERIFY(!none);
        QCOMPARE(none.error().code, ErrorCode::Unsupported);
        QCOMPARE(none.error().message, QStringLiteral("a is not there. b is not there. c is not there."));
        QCOMPARE(chain.queries(), (QList<int> {1, 1, 1}));
        QCOMPARE(chain.source->name(), QString());

        // The third answers: asked after the other two, then first and alone.
        chain.fakes[2]->answer = milliseconds(300);
        auto third = chain.ask();
        QVERIFY(third);
        QCOMPARE(*third, milliseconds(300));
        QCOMPARE(chain.source->name(), QStringLiteral("c"));
        QCOMPARE(chain.queries(), (QList<int> {2, 2, 2}));
        chain.fakes[0]->answer = milliseconds(100); // the first comes back, but c still answers
        QCOMPARE(chain.ask().value_or(-1ms), milliseconds(300));
        QCOMPARE(chain.queries(), (QList<int> {2, 2, 3}));
        QCOMPARE(chain.source->preferred(), std::size_t(2));

        // c fails: from the top (a answers), c not asked twice.
        chain.fakes[2]->answer = failure(QStringLiteral("c went away."));
        QCOMPARE(chain.ask().value_or(-1ms), milliseconds(100));
        QCOMPARE(chain.queries(), (QList<int> {3, 2, 4}));
        QCOMPARE(chain.source->name(), QStringLiteral("a"));

        // b is remembered after a fails and b answers; then all fail: starts over at a next time.
        chain.fakes[1]->answer = milliseconds(200);
        chain.fakes[0]->answer = failure(QStringLiteral("a went away."));
        QCOMPARE(chain.ask().value_or(-1ms), milliseconds(200));
        QCOMPARE(chain.source->name(), QStringLiteral("b"));
        chain.fakes[1]->answer = failure(QStringLiteral("b went away."));
        auto gone = chain.ask();
        QVERIFY(!gone);
        // The remembered source was asked first, so its message comes first.
        QCOMPARE(gone.error().message, QStringLiteral("b went away. a went away. c went away."));
        QCOMPARE(chain.source->preferred(), std::size_t(0));
        QCOMPARE(chain.source->name(), QString());
    }

    // Sources that answer later (D-Bus): the next one is asked only when the
    // earlier one has said no, and an answer after the chain is gone is dropped.
    void fallbackWaitsForLateAnswers()
    {
        Chain chain(2);
        chain.fakes[0]->hold = true;
        chain.fakes[1]->answer = milliseconds(700);
        std::optional<Result<milliseconds>> out;
        chain.source->queryIdleTime([&](Result<milliseconds> r) { out = std::move(r); });
        QVERIFY(!out);
        QCOMPARE(chain.queries(), (QList<int> {1, 0}));
        chain.fakes[0]->held.takeFirst()(failure());
        QVERIFY(out.has_value());
        QCOMPARE(out->value_or(-1ms), milliseconds(700));
        QCOMPARE(chain.source->name(), QStringLiteral("b"));

        // b holds now; the chain goes away before b answers.
        chain.fakes[1]->hold = true;
        bool called = false;
        chain.source->queryIdleTime([&](Result<milliseconds>) { called = true; });
        IdleSource::Callback late = chain.fakes[1]->held.takeFirst();
        chain.source.reset();
        late(milliseconds(5));
        QVERIFY(!called);
    }

    // An empty chain answers too: with an error, at once.
    void fallbackWithoutSources()
    {
        Chain chain(0);
        auto none = chain.ask();
        QVERIFY(!none);
        QCOMPARE(none.error().code, ErrorCode::Unsupported);
        QVERIFY(!none.error().message.isEmpty());
    }

    // IdleMonitor over a chain: the monitor sees one source that works.
    void monitorOverAChain()
    {
        Chain chain(2);
        chain.fakes[1]->answer = milliseconds(20min);
        IdleMonitor monitor(std::move(chain.source), options());
        QSignalSpy reached(&monitor, &IdleMonitor::idleReached);
        QSignalSpy unavailable(&monitor, &IdleMonitor::unavailable);
        monitor.setThreshold(15min);
        QCOMPARE(reached.size(), 1);
        QCOMPARE(unavailable.size(), 0);
        QCOMPARE(monitor.source().name(), QStringLiteral("b"));
    }

    // No session or system bus at all: an error, from the event loop, not a query that never ends.
    void dbusWithoutAnyBusAnswers()
    {
        DBusIdleSource::Options o;
        o.sessionBus = PrivateBus::nowhere();
        o.systemBus = PrivateBus::nowhere();
        DBusIdleSource source(o);
        std::optional<Result<milliseconds>> out;
        source.queryIdleTime([&](Result<milliseconds> r) { out = std::move(r); });
        QVERIFY(!out.has_value()); // never inside the call
        QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 10000);
        QVERIFY(!out->has_value());
        QCOMPARE(out->error().code, ErrorCode::Unsupported);
        for (const char *name : {"mutter:", "screensaver:", "logind:"})
            QVERIFY2(out->error().message.contains(QLatin1String(name)), qPrintable(out->error().message));
    }

    // DBusIdleSource on a private bus: GNOME's Mutter first, then the
    // freedesktop screensaver, then logind; none is an Unsupported error.
    void dbusSourcesInOrder()
    {
        PrivateBus bus;
        QString why;
        QVERIFY2(bus.start(&why), qPrintable(why));
        QDBusConnection services = bus.connect();
        QDBusConnection client = bus.connect();
        FakeMutter mutter;
        FakeScreenSaver saver;
        FakeLogindManager manager;
        FakeLogindSession session;
        mutter.idle = 4242;
        saver.idle = 1717;

        DBusIdleSource::Options o;
        o.sessionBus = client;
        o.systemBus = client; // stands for the system bus: logind is on it
        o.sessionId = QStringLiteral("37");
        DBusIdleSource source(o);

        // Nothing answers: one error naming every attempt.
        auto none = query(source);
        QVERIFY(!none);
        QCOMPARE(none.error().code, ErrorCode::Unsupported);
        for (const char *name : {"mutter:", "screensaver:", "logind:"})
            QVERIFY2(none.error().message.contains(QLatin1String(name)), qPrintable(none.error().message));

        // logind: IdleHint false is zero; true counts from IdleSinceHintMonotonic.
        QVERIFY(services.registerObject(QStringLiteral("/org/freedesktop/login1"), &manager, QDBusConnection::ExportAllSlots));
        QVERIFY(services.registerObject(
            QStringLiteral("/org/freedesktop/login1/session/_37"), &session, QDBusConnection::ExportAllProperties));
        QVERIFY(services.registerService(QStringLiteral("org.freedesktop.login1")));
        auto viaLogind = query(source);
        QVERIFY2(viaLogind, qPrintable(viaLogind ? QString() : viaLogind.error().message));
        QCOMPARE(*viaLogind, milliseconds(0));
        QCOMPARE(source.name(), QStringLiteral("logind"));
        session.hint = true;
        session.since = monotonicMicroseconds() - 300'000'000ULL; // five minutes ago
        viaLogind = query(source);
        QVERIFY(viaLogind);
        QVERIFY2(*viaLogind >= 5min && *viaLogind < 6min, QByteArray::number(qint64(viaLogind->count())));

        // The freedesktop screensaver comes before logind.
        QVERIFY(services.registerObject(QStringLiteral("/org/freedesktop/ScreenSaver"), &saver, QDBusConnection::ExportAllSlots));
        QVERIFY(services.registerService(QStringLiteral("org.freedesktop.ScreenSaver")));
        auto viaSaver = query(source);
        QVERIFY(viaSaver);
        // logind answered last, so it is asked first: still logind.
        QCOMPARE(source.name(), QStringLiteral("logind"));
        services.unregisterService(QStringLiteral("org.freedesktop.login1"));
        viaSaver = query(source);
        QVERIFY(viaSaver);
        QCOMPARE(*viaSaver, milliseconds(1717));
        QCOMPARE(source.name(), QStringLiteral("screensaver"));

        // Mutter starts: the screensaver still answers (asked first) until it goes away.
        QVERIFY(services.registerObject(
            QStringLiteral("/org/gnome/Mutter/IdleMonitor/Core"), &mutter, QDBusConnection::ExportAllSlots));
        QVERIFY(services.registerService(QStringLiteral("org.gnome.Mutter.IdleMonitor")));
        services.unregisterService(QStringLiteral("org.freedesktop.ScreenSaver"));
        auto viaMutter = query(source);
        QVERIFY(viaMutter);
        QCOMPARE(*viaMutter, milliseconds(4242));
        QCOMPARE(source.name(), QStringLiteral("mutter"));

        // With everything there, a fresh source asks Mutter first.
        QVERIFY(services.registerService(QStringLiteral("org.freedesktop.ScreenSaver")));
        QVERIFY(services.registerService(QStringLiteral("org.freedesktop.login1")));
        DBusIdleSource fresh(o);
        auto first = query(fresh);
        QVERIFY(first);
        QCOMPARE(*first, milliseconds(4242));
        QCOMPARE(fresh.name(), QStringLiteral("mutter"));
    }
};

QTEST_GUILESS_MAIN(TestIdleMonitor)
#include "tst_idlemonitor.moc"
