// The platform layer on Windows: declarations only; implemented with the packaging issue (compiled only on Windows).
#pragma once

// NOT IMPLEMENTED YET: these classes are written with the packaging issue,
// together with the installer and the Run-key autostart. Until then a Windows
// build of hotdesk_core has no createPlatform(). The plan, per class:
//
// - WindowsSessionWatcher: WTSRegisterSessionNotification on a message-only
//   window; WTS_SESSION_LOCK / WTS_SESSION_UNLOCK are locked()/unlocked();
//   WTSQuerySessionInformation(WTSSessionInfoEx) for the state at start.
// - WindowsIdleSource: GetLastInputInfo() against GetTickCount64() (the
//   agent runs in the user's session, where both are valid); no polling, the
//   IdleMonitor schedules the questions.
// - WindowsProcessWatcher: the ETW kernel process provider
//   (Microsoft-Windows-Kernel-Process, ProcessStart events) when the agent may
//   open a real-time session, else WMI __InstanceCreationEvent for
//   Win32_Process WITHIN 2 (the same cost as the Linux scan); names compared
//   case-insensitively, ".exe" optional.
// - WindowsPathWatcher: ReadDirectoryChangesW (subtree, overlapped I/O on a
//   QWinEventNotifier) with FILE_NOTIFY_CHANGE_FILE_NAME | DIR_NAME |
//   LAST_WRITE | LAST_ACCESS; opens for reading are only visible through
//   LAST_ACCESS, which NTFS updates lazily: documented as a weaker trigger.
// - WindowsDeviceWatcher: the capability access manager's consent store
//   (HKCU\Software\Microsoft\Windows\CurrentVersion\CapabilityAccessManager\
//   ConsentStore\webcam|microphone, LastUsedTimeStop == 0 means in use),
//   watched with RegNotifyChangeKeyValue; the holder's executable path is the
//   subkey name.

#include "../platform.h"

namespace hotdesk::platform {

class WindowsSessionWatcher final : public SessionWatcher {
    Q_OBJECT
public:
    explicit WindowsSessionWatcher(QObject *parent = nullptr);
    void start() override;
    bool isLocked() const override;
    QString backend() const override; // "wts"
    void lockSession(std::function<void(Status)> done) override;
};

class WindowsIdleSource final : public IdleSource {
public:
    void queryIdleTime(Callback done) override;
    QString name() const override; // "GetLastInputInfo"
};

class WindowsProcessWatcher final : public ProcessWatcher {
    Q_OBJECT
public:
    explicit WindowsProcessWatcher(QObject *parent = nullptr);
    void setNames(const QStringList &names) override;
    QStringList names() const override;
    QString backend() const override; // "etw" | "wmi"
};

class WindowsPathWatcher final : public PathWatcher {
    Q_OBJECT
public:
    explicit WindowsPathWatcher(QObject *parent = nullptr);
    void setPaths(const QStringList &paths) override;
    QStringList paths() const override;
};

class WindowsDeviceWatcher final : public DeviceWatcher {
    Q_OBJECT
public:
    explicit WindowsDeviceWatcher(QObject *parent = nullptr);
    void setKinds(const QList<DeviceKind> &kinds) override;
    QList<DeviceKind> kinds() const override;
    QList<DeviceUse> inUse() const override;
    QString backend() const override; // "consent-store"
};

} // namespace hotdesk::platform
