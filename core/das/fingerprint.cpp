// Device fingerprints: strict JSON reading, the canonical form, and drift.
#include "fingerprint.h"

#include <QJsonArray>
#include <QRegularExpression>

#include <algorithm>

namespace hotdesk::das {
namespace {

constexpr qsizetype kMaxText = 256;
constexpr qsizetype kMaxScreens = 16;

bool isPrintableAscii(QStringView text)
{
    return std::all_of(text.begin(), text.end(), [](QChar c) { return c.unicode() >= 0x21 && c.unicode() <= 0x7e; });
}

bool hasControlCharacter(QStringView text)
{
    return std::any_of(text.begin(), text.end(), [](QChar c) { return c.category() == QChar::Other_Control; });
}

// A member that is absent (empty result) or a string of at most kMaxText characters without control characters.
Result<QString> text(const QJsonObject &object, const QString &path, const char *name)
{
    const QJsonValue v = object.value(QLatin1String(name));
    if (v.isUndefined())
        return QString();
    const QString where = path.isEmpty() ? QString(QLatin1String(name)) : QString(path + QLatin1Char('.') + QLatin1String(name));
    if (!v.isString())
        return fail(ErrorCode::Malformed, QStringLiteral("fingerprint: \"%1\" must be a string").arg(where));
    const QString s = v.toString();
    if (s.size() > kMaxText || hasControlCharacter(s))
        return fail(ErrorCode::Malformed,
            QStringLiteral("fingerprint: \"%1\" must be at most %2 characters without control characters")
                .arg(where)
                .arg(kMaxText));
    return s;
}

// {"name"|"engine", "version"}: both strings, the first one not empty.
Status namedVersion(const QJsonObject &json, const char *member, const char *nameKey, QString &name, QString &version)
{
    const QJsonValue v = json.value(QLatin1String(member));
    if (v.isUndefined())
        return {};
    const QString path = QLatin1String(member);
    if (!v.isObject())
        return fail(ErrorCode::Malformed,
            QStringLiteral("fingerprint: \"%1\" must be an object with \"%2\" and \"version\"")
                .arg(path, QLatin1String(nameKey)));
    auto n = text(v.toObject(), path, nameKey);
    if (!n)
        return tl::unexpected(n.error());
    auto ver = text(v.toObject(), path, "version");
    if (!ver)
        return tl::unexpected(ver.error());
    if (n->isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("fingerprint: \"%1.%2\" is required").arg(path, QLatin1String(nameKey)));
    name = *n;
    version = *ver;
    return {};
}

} // namespace

QString ScreenMode::toString() const
{
    QString scale = QString::number(scalePercent / 100) + QLatin1Char('.')
        + QStringLiteral("%1").arg(scalePercent % 100, 2, 10, QLatin1Char('0'));
    while (scale.endsWith(QLatin1Char('0')))
        scale.chop(1);
    if (scale.endsWith(QLatin1Char('.')))
        scale.chop(1);
    return QStringLiteral("%1x%2@%3").arg(width).arg(height).arg(scale);
}

Result<ScreenMode> ScreenMode::fromString(QStringView text)
{
    static const QRegularExpression shape(
        QStringLiteral("^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})@([0-9]{1,2})(?:\\.([0-9]{1,2}))?$"));
    const QRegularExpressionMatch m = shape.match(text);
    if (!m.hasMatch())
        return fail(ErrorCode::Malformed,
            QStringLiteral("fingerprint: a screen is \"WIDTHxHEIGHT@SCALE\" such as \"1920x1080@1.25\", not \"%1\"")
                .arg(text.left(40)));
    ScreenMode mode;
    mode.width = m.captured(1).toInt();
    mode.height = m.captured(2).toInt();
    QString fraction = m.captured(4);
    if (fraction.size() == 1)
        fraction.append(QLatin1Char('0'));
    mode.scalePercent = m.captured(3).toInt() * 100 + fraction.toInt();
    if (mode.width > 65535 || mode.height > 65535 || mode.scalePercent <= 0 || mode.scalePercent > 1600)
        return fail(ErrorCode::Malformed,
            QStringLiteral("fingerprint: the screen \"%1\" is out of range (sizes 1 to 65535, scale above 0 and at most 16)")
                .arg(text.left(40)));
    return mode;
}

bool isValidMachineId(QStringView machineId)
{
    return !machineId.isEmpty() && machineId.size() <= kMaxText && isPrintableAscii(machineId);
}

QString fingerprintComponentName(FingerprintComponent component)
{
    switch (component) {
    case FingerprintComponent::MachineId:
        return QStringLiteral("machine_id");
    case FingerprintComponent::Screens:
        return QStringLiteral("screens");
    case FingerprintComponent::Os:
        return QStringLiteral("os");
    case FingerprintComponent::Browser:
        return QStringLiteral("browser");
    case FingerprintComponent::AgentVersion:
        return QStringLiteral("agent_version");
    }
    return {};
}

Result<Fingerprint> Fingerprint::fromJson(const QJsonObject &json)
{
    Fingerprint f;
    auto machineId = text(json, {}, "machine_id");
    if (!machineId)
        return tl::unexpected(machineId.error());
    if (!isValidMachineId(*machineId))
        return fail(ErrorCode::Malformed,
            QStringLiteral("fingerprint: \"machine_id\" is required: 1 to %1 printable ASCII characters").arg(kMaxText));
    f.machineId = *machineId;

    const QJsonValue screens = json.value(QLatin1String("screens"));
    if (!screens.isUndefined()) {
        if (!screens.isArray() || screens.toArray().size() > kMaxScreens)
            return fail(ErrorCode::Malformed,
                QStringLiteral("fingerprint: \"screens\" must be an array of at most %1 \"WIDTHxHEIGHT@SCALE\" strings")
                    .arg(kMaxScreens));
        for (const QJsonValue &entry : screens.toArray()) {
            if (!entry.isString())
                return fail(
                    ErrorCode::Malformed, QStringLiteral("fingerprint: every screen must be a \"WIDTHxHEIGHT@SCALE\" string"));
            auto mode = ScreenMode::fromString(entry.toString());
            if (!mode)
                return tl::unexpected(mode.error());
            f.screens.append(*mode);
        }
        std::sort(f.screens.begin(), f.screens.end());
    }
    if (auto ok = namedVersion(json, "os", "name", f.osName, f.osVersion); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = namedVersion(json, "browser", "engine", f.browserEngine, f.browserVersion); !ok)
        return tl::unexpected(ok.error());
    auto agent = text(json, {}, "agent_version");
    if (!agent)
        return tl::unexpected(agent.error());
    f.agentVersion = *agent;
    return f;
}

QJsonObject Fingerprint::toJson() const
{
    QJsonObject json {{QStringLiteral("machine_id"), machineId}};
    if (!screens.isEmpty()) {
        QJsonArray list;
        for (const ScreenMode &mode : screens)
            list.append(mode.toString());
        json.insert(QStringLiteral("screens"), list);
    }
    if (!osName.isEmpty())
        json.insert(QStringLiteral("os"), QJsonObject {{QStringLiteral("name"), osName}, {QStringLiteral("version"), osVersion}});
    if (!browserEngine.isEmpty())
        json.insert(QStringLiteral("browser"),
            QJsonObject {{QStringLiteral("engine"), browserEngine}, {QStringLiteral("version"), browserVersion}});
    if (!agentVersion.isEmpty())
        json.insert(QStringLiteral("agent_version"), agentVersion);
    return json;
}

QList<FingerprintComponent> changedComponents(const Fingerprint &registered, const Fingerprint &presented)
{
    QList<FingerprintComponent> changed;
    if (registered.machineId != presented.machineId)
        changed.append(FingerprintComponent::MachineId);
    if (registered.screens != presented.screens)
        changed.append(FingerprintComponent::Screens);
    if (registered.osName != presented.osName || registered.osVersion != presented.osVersion)
        changed.append(FingerprintComponent::Os);
    if (registered.browserEngine != presented.browserEngine || registered.browserVersion != presented.browserVersion)
        changed.append(FingerprintComponent::Browser);
    if (registered.agentVersion != presented.agentVersion)
        changed.append(FingerprintComponent::AgentVersion);
    return changed;
}

int drift(const Fingerprint &registered, const Fingerprint &presented)
{
    return int(changedComponents(registered, presented).size());
}

FingerprintVerdict recognize(const Fingerprint &registered, const Fingerprint &presented, int driftThreshold)
{
    const QList<FingerprintComponent> changed = changedComponents(registered, presented);
    if (changed.isEmpty())
        return FingerprintVerdict::Identical;
    if (changed.contains(FingerprintComponent::MachineId) || changed.size() > driftThreshold)
        return FingerprintVerdict::Unrecognized;
    return FingerprintVerdict::Drifted;
}

} // namespace hotdesk::das
