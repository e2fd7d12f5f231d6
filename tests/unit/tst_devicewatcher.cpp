// LinuxDeviceWatcher on a fake /proc and /dev: cameras, capture and playback PCMs, opens noticed by inotify.
#include "core/platform/linux/linuxdevicewatcher.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace hotdesk::platform;
using namespace std::chrono_literals;

class TestDeviceWatcher : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;

    QString proc() const { return m_dir->filePath(QStringLiteral("proc")); }
    QString dev(const QString &relative) const { return m_dir->filePath(QStringLiteral("dev/") + relative); }

    void makeNode(const QString &relative)
    {
        QVERIFY(QDir().mkpath(QFileInfo(dev(relative)).path()));
        QFile f(dev(relative));
        QVERIFY(f.open(QIODevice::WriteOnly));
    }

    // A process in the fake /proc: its comm, and descriptors pointing at targets.
    void makeProcess(qint64 pid, const QString &comm, const QStringList &targets)
    {
        const QString base = proc() + QLatin1Char('/') + QString::number(pid);
        QVERIFY(QDir().mkpath(base + QStringLiteral("/fd")));
        QFile c(base + QStringLiteral("/comm"));
        QVERIFY(c.open(QIODevice::WriteOnly));
        c.write(comm.toUtf8() + '\n');
        int fd = 3;
        for (const QString &target : targets)
            QVERIFY(QFile::link(target, base + QStringLiteral("/fd/") + QString::number(fd++)));
    }

    std::unique_ptr<LinuxDeviceWatcher> watcher(LinuxDeviceWatcher::Mode mode)
    {
        LinuxDeviceWatcher::Options o;
        o.procRoot = proc();
        o.classes = LinuxDeviceWatcher::defaultClasses(m_dir->filePath(QStringLiteral("dev")));
        o.mode = mode;
        o.scanInterval = 1h; // scans come from scanNow() or from inotify
        o.settleDelay = 10ms;
        return std::make_unique<LinuxDeviceWatcher>(o);
    }

    static bool has(const QSignalSpy &spy, DeviceKind kind, qint64 pid)
    {
        for (const auto &args : spy) {
            if (args.at(0).value<DeviceKind>() == kind && args.at(1).toLongLong() == pid)
                return true;
        }
        return false;
    }

    static bool waitFor(QSignalSpy &spy, DeviceKind kind, qint64 pid)
    {
        for (int i = 0; i < 100 && !has(spy, kind, pid); ++i)
            spy.wait(100);
        return has(spy, kind, pid);
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        QVERIFY(QDir().mkpath(proc()));
        makeNode(QStringLiteral("video0"));
        makeNode(QStringLiteral("null"));
        makeNode(QStringLiteral("snd/pcmC0D0c"));
        makeNode(QStringLiteral("snd/pcmC0D0p"));
        makeNode(QStringLiteral("snd/controlC0"));
    }

    void cleanup() { m_dir.reset(); }

    void kindNames()
    {
        QCOMPARE(deviceKindName(DeviceKind::Camera), QStringLiteral("camera"));
        QCOMPARE(deviceKindFromName(QStringLiteral("microphone")), std::optional<DeviceKind>(DeviceKind::Microphone));
        QCOMPARE(deviceKindFromName(QStringLiteral("speaker")), std::nullopt);
    }

    void cameraAndMicrophoneHolders()
    {
        makeProcess(100, QStringLiteral("zoom"),
            {dev(QStringLiteral("video0")), QStringLiteral("/etc/hostname"), dev(QStringLiteral("null"))});
        makeProcess(200, QStringLiteral("arecord"), {dev(QStringLiteral("snd/pcmC0D0c")), dev(QStringLiteral("snd/controlC0"))});
        makeProcess(300, QStringLiteral("aplay"), {dev(QStringLiteral("snd/pcmC0D0p"))});
        makeProcess(400, QStringLiteral("both"), {dev(QStringLiteral("snd/pcmC0D0c")), dev(QStringLiteral("video0"))});
        makeProcess(500, QStringLiteral("lookalike"), {dev(QStringLiteral("video0.bak")), dev(QStringLiteral("snd/pcmC0D0cx"))});
        auto w = watcher(LinuxDeviceWatcher::Mode::Periodic);
        QSignalSpy inUse(w.get(), &DeviceWatcher::deviceInUse);
        QSignalSpy released(w.get(), &DeviceWatcher::deviceReleased);
        // Devices already held when watching starts count.
        w->setKinds({DeviceKind::Camera, DeviceKind::Microphone});
        QCOMPARE(w->backend(), QStringLiteral("scan"));
        QCOMPARE(inUse.size(), 4);
        QVERIFY(has(inUse, DeviceKind::Camera, 100));
        QVERIFY(has(inUse, DeviceKind::Microphone, 200));
        QVERIFY(has(inUse, DeviceKind::Camera, 400));
        QVERIFY(has(inUse, DeviceKind::Microphone, 400));
        // A playback PCM is not a microphone.
        QVERIFY(!has(inUse, DeviceKind::Microphone, 300));
        for (const auto &args : std::as_const(inUse)) {
            if (args.at(1).toLongLong() == 100)
                QCOMPARE(args.at(2).toString(), QStringLiteral("zoom"));
            if (args.at(1).toLongLong() == 200)
                QCOMPARE(args.at(2).toString(), QStringLiteral("arecord"));
        }
        QCOMPARE(w->inUse().size(), 4);
        QVERIFY(w->inUse().contains(DeviceUse {DeviceKind::Camera, 100, QStringLiteral("zoom")}));

        // Still held: nothing new. Closed: released.
        w->scanNow();
        QCOMPARE(inUse.size(), 4);
        QVERIFY(QFile::remove(proc() + QStringLiteral("/100/fd/3")));
        QVERIFY(QDir(proc() + QStringLiteral("/200")).removeRecursively()); // the process ended
        w->scanNow();
        QCOMPARE(released.size(), 2);
        QVERIFY(has(released, DeviceKind::Camera, 100));
        QVERIFY(has(released, DeviceKind::Microphone, 200));
        QCOMPARE(w->inUse().size(), 2);
    }

    void onlyTheKindsAskedFor()
    {
        makeProcess(100, QStringLiteral("zoom"), {dev(QStringLiteral("video0"))});
        makeProcess(200, QStringLiteral("arecord"), {dev(QStringLiteral("snd/pcmC0D0c"))});
        auto w = watcher(LinuxDeviceWatcher::Mode::Periodic);
        QSignalSpy inUse(w.get(), &DeviceWatcher::deviceInUse);
        w->setKinds({DeviceKind::Microphone});
        QCOMPARE(inUse.size(), 1);
        QVERIFY(has(inUse, DeviceKind::Microphone, 200));
        // Adding the camera reports the camera only (the microphone was already reported).
        w->setKinds({DeviceKind::Microphone, DeviceKind::Camera});
        QCOMPARE(inUse.size(), 2);
        QVERIFY(has(inUse, DeviceKind::Camera, 100));
        w->setKinds({});
        QVERIFY(w->backend().isEmpty());
    }

    // Auto: no timer; opening a device node wakes the watcher, which then reads /proc.
    void anOpenWakesTheWatcher()
    {
        auto w = watcher(LinuxDeviceWatcher::Mode::Auto);
        QSignalSpy inUse(w.get(), &DeviceWatcher::deviceInUse);
        QSignalSpy released(w.get(), &DeviceWatcher::deviceReleased);
        w->setKinds({DeviceKind::Camera, DeviceKind::Microphone});
        QCOMPARE(w->backend(), QStringLiteral("inotify"));
        QCOMPARE(inUse.size(), 0);

        makeProcess(600, QStringLiteral("cheese"), {dev(QStringLiteral("video0"))});
        {
            QFile camera(dev(QStringLiteral("video0")));
            QVERIFY(camera.open(QIODevice::ReadOnly));
        }
        QVERIFY(waitFor(inUse, DeviceKind::Camera, 600));

        // The playback node is not watched: opening it wakes nothing up, and
        // its holder is no microphone anyway.
        makeProcess(700, QStringLiteral("aplay"), {dev(QStringLiteral("snd/pcmC0D0p"))});
        makeProcess(800, QStringLiteral("arecord"), {dev(QStringLiteral("snd/pcmC0D0c"))});
        {
            QFile mic(dev(QStringLiteral("snd/pcmC0D0c")));
            QVERIFY(mic.open(QIODevice::ReadOnly));
        }
        QVERIFY(waitFor(inUse, DeviceKind::Microphone, 800));
        QVERIFY(!has(inUse, DeviceKind::Microphone, 700));

        // Closing: the holder's descriptor is gone at the close that follows.
        QVERIFY(QDir(proc() + QStringLiteral("/600")).removeRecursively());
        {
            QFile camera(dev(QStringLiteral("video0")));
            QVERIFY(camera.open(QIODevice::ReadOnly));
        }
        QVERIFY(waitFor(released, DeviceKind::Camera, 600));
    }

    // A camera plugged in later, and a sound directory that appears later.
    void devicesThatAppearLater()
    {
        QVERIFY(QDir(dev(QStringLiteral("snd"))).removeRecursively());
        auto w = watcher(LinuxDeviceWatcher::Mode::Auto);
        QSignalSpy inUse(w.get(), &DeviceWatcher::deviceInUse);
        w->setKinds({DeviceKind::Camera, DeviceKind::Microphone});
        QCOMPARE(w->backend(), QStringLiteral("inotify"));

        makeNode(QStringLiteral("video1"));
        makeProcess(900, QStringLiteral("webcam"), {dev(QStringLiteral("video1"))});
        QVERIFY(waitFor(inUse, DeviceKind::Camera, 900)); // the plug-in itself prompts a scan

        makeNode(QStringLiteral("snd/pcmC1D0c"));
        makeProcess(901, QStringLiteral("recorder"), {dev(QStringLiteral("snd/pcmC1D0c"))});
        QVERIFY(waitFor(inUse, DeviceKind::Microphone, 901));
        // The new node is watched: a later holder is noticed on open.
        makeProcess(902, QStringLiteral("second"), {dev(QStringLiteral("snd/pcmC1D0c"))});
        {
            QFile mic(dev(QStringLiteral("snd/pcmC1D0c")));
            QVERIFY(mic.open(QIODevice::ReadOnly));
        }
        QVERIFY(waitFor(inUse, DeviceKind::Microphone, 902));
    }
};

QTEST_GUILESS_MAIN(TestDeviceWatcher)
#include "tst_devicewatcher.moc"
