// The platform layer on macOS: declarations only; implemented with the packaging issue (compiled only on macOS).
#pragma once

// NOT IMPLEMENTED YET: these classes are written with the packaging issue,
// together with the .app bundle and the LaunchAgent. Until then a macOS build
// of hotdesk_core has no createPlatform(). The plan, per class:
//
// - MacSessionWatcher: NSDistributedNotificationCenter notifications
//   "com.apple.screenIsLocked" / "com.apple.screenIsUnlocked" (an Objective-C++
//   file); CGSessionCopyCurrentDictionary's "CGSSessionScreenIsLocked" for the
//   state at start.
// - MacIdleSource: CGEventSourceSecondsSinceLastEventType(
//   kCGEventSourceStateHIDSystemState, kCGAnyInputEventType), or IOKit's
//   IOHIDSystem "HIDIdleTime"; asked only when the IdleMonitor schedules it.
// - MacProcessWatcher: NSWorkspace didLaunchApplicationNotification for
//   applications, plus a kqueue EVFILT_PROC / sysctl(KERN_PROC_ALL) scan at
//   the same modest interval as Linux for command-line programs.
// - MacPathWatcher: FSEvents with kFSEventStreamCreateFlagFileEvents (file
//   level, recursive by design); opens for reading are not reported by
//   FSEvents: documented as a weaker trigger (the Endpoint Security framework
//   would see them but needs an Apple entitlement).
// - MacDeviceWatcher: CoreMediaIO kCMIODevicePropertyDeviceIsRunningSomewhere
//   for cameras and CoreAudio kAudioDevicePropertyDeviceIsRunningSomewhere for
//   input devices, both with property listeners (no polling); the holding
//   process is not exposed (pid 0, processName empty).

#include "../platform.h"

namespace hotdesk::platform {

class MacSessionWatcher final : public SessionWatcher {
    Q_OBJECT
public:
    explicit MacSessionWatcher(QObject *parent = nullptr);
    void start() override;
    bool isLocked() const override;
    QString backend() const override; // "distributed-notifications"
    void lockSession(std::function<void(Status)> done) override;
};

class MacIdleSource final : public IdleSource {
public:
    void queryIdleTime(Callback done) override;
    QString name() const override; // "hid-idle"
};

class MacProcessWatcher final : public ProcessWatcher {
    Q_OBJECT
public:
    explicit MacProcessWatcher(QObject *parent = nullptr);
    void setNames(const QStringList &names) override;
    QStringList names() const override;
    QString backend() const override; // "nsworkspace+scan"
};

class MacPathWatcher final : public PathWatcher {
    Q_OBJECT
public:
    explicit MacPathWatcher(QObject *parent = nullptr);
    void setPaths(const QStringList &paths) override;
    QStringList paths() const override;
};

class MacDeviceWatcher final : public DeviceWatcher {
    Q_OBJECT
public:
    explicit MacDeviceWatcher(QObject *parent = nullptr);
    void setKinds(const QList<DeviceKind> &kinds) override;
    QList<DeviceKind> kinds() const override;
    QList<DeviceUse> inUse() const override;
    QString backend() const override; // "coremediaio+coreaudio"
};

} // namespace hotdesk::platform
