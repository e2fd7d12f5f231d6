// The device fingerprint (DESIGN flow 4) and the drift comparison that decides whether the DAS still recognizes a PC.
#pragma once

#include "../result.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <compare>

namespace hotdesk::das {

// What an administrator allows to change before a PC needs approval again:
// one component, such as a new monitor, unless the DAS is told otherwise.
inline constexpr int kDefaultDriftThreshold = 1;
// With this threshold every change but the machine id's is accepted.
inline constexpr int kMaxDriftThreshold = 4;

// One display: its size as Qt reports it (QScreen::size, device-independent
// pixels) and its scale (QScreen::devicePixelRatio), kept in hundredths so
// that comparing two fingerprints never compares floating-point numbers.
struct ScreenMode {
    int width = 0;
    int height = 0;
    int scalePercent = 100;

    // "1920x1080@1", "2560x1440@1.25": the JSON form.
    QString toString() const;
    // WIDTHxHEIGHT@SCALE with sizes of 1 to 65535 and a scale in (0, 16] with at most two decimals.
    static Result<ScreenMode> fromString(QStringView text);
    friend auto operator<=>(const ScreenMode &, const ScreenMode &) = default;
};

// 1 to 256 printable ASCII characters, as a fingerprint's "machine_id" must be.
bool isValidMachineId(QStringView machineId);

// The components the drift counts. The machine id is special: a different one
// is a different PC, whatever the threshold.
enum class FingerprintComponent { MachineId, Screens, Os, Browser, AgentVersion };
// The JSON member name of a component: "machine_id", "screens", "os", "browser", "agent_version".
QString fingerprintComponentName(FingerprintComponent component);

// Every component but the machine id may be missing (a build without Qt
// WebEngine has no browser engine, a session without a display no screens);
// a component that appears or disappears counts as changed.
struct Fingerprint {
    QString machineId; // /etc/machine-id, MachineGuid, IOPlatformUUID: 1 to 256 printable ASCII characters
    QList<ScreenMode> screens; // sorted: the order Qt lists screens in is not a change
    QString osName;
    QString osVersion;
    QString browserEngine; // "QtWebEngine"
    QString browserVersion; // "6.4.2 (Chromium 102.0.5005.177)"
    QString agentVersion;

    // {"machine_id", "screens": ["WxH@S", ...], "os": {"name", "version"},
    //  "browser": {"engine", "version"}, "agent_version"}. Members Hotdesk does
    // not know are ignored, so an older DAS accepts a newer agent's fingerprint.
    static Result<Fingerprint> fromJson(const QJsonObject &json);
    // The canonical form: screens sorted, missing components left out.
    QJsonObject toJson() const;
    friend bool operator==(const Fingerprint &, const Fingerprint &) = default;
};

// The components that differ between two fingerprints, in the enum's order.
QList<FingerprintComponent> changedComponents(const Fingerprint &registered, const Fingerprint &presented);
// The number of changed components.
int drift(const Fingerprint &registered, const Fingerprint &presented);

// The DAS's verdict on a presented fingerprint.
enum class FingerprintVerdict {
    Identical, // nothing changed
    Drifted, // 1 to driftThreshold components changed, the machine id is the same: accept and remember the new one
    Unrecognized, // more changed, or the machine id: another PC as far as the DAS can tell
};

FingerprintVerdict recognize(const Fingerprint &registered, const Fingerprint &presented, int driftThreshold);

} // namespace hotdesk::das
