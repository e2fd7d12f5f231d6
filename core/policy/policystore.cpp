// Loading the policy, following the administrator's changes, and keeping the last valid one.
#include "policystore.h"

#include "../jose/strictjson.h"
#include "policytrust.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSettings>

#include <algorithm>
#include <utility>

namespace hotdesk::policy {

namespace {

constexpr std::chrono::milliseconds kDefaultDebounce {200};

#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
// Registry values and configuration profiles change without touching a file the
// watcher could see; they are read again this often.
constexpr std::chrono::minutes kManagedPollInterval {1};

// Not testable on the Linux build machine: written to DESIGN.md "Policy" and
// docs/policy.md ("Managed settings"). The conversion below them is tested.
QJsonObject readManagedSettings()
{
#if defined(Q_OS_WIN)
    // HKLM\Software\Policies\Hotdesk, written by Group Policy from the ADMX
    // template: a subkey per object ("triggers"), a value per member ("idle").
    QSettings settings(QStringLiteral("HKEY_LOCAL_MACHINE\\Software\\Policies\\Hotdesk"), QSettings::NativeFormat);
#else
    // The managed preferences domain a .mobileconfig installs: its payload
    // mirrors the JSON (dictionaries for objects, arrays for lists).
    QSettings settings(QStringLiteral("/Library/Managed Preferences/org.hotdesk.agent.plist"), QSettings::NativeFormat);
#endif
    return managedSettingsToJson(settings);
}

QString managedSettingsName()
{
#if defined(Q_OS_WIN)
    return QStringLiteral("HKLM\\Software\\Policies\\Hotdesk");
#else
    return QStringLiteral("/Library/Managed Preferences/org.hotdesk.agent.plist");
#endif
}
#endif

const QJsonObject &schemaObject()
{
    static const QJsonObject schema = QJsonDocument::fromJson(policySchema()).object();
    return schema;
}

QJsonObject resolved(QJsonObject node)
{
    for (int hops = 0; hops < 8; ++hops) {
        const QString ref = node.value(QLatin1String("$ref")).toString();
        if (!ref.startsWith(QLatin1String("#/definitions/")))
            return node;
        node = schemaObject().value(QLatin1String("definitions")).toObject().value(ref.mid(14)).toObject();
    }
    return node;
}

QJsonObject propertySchema(const QJsonObject &objectSchema, const QString &name)
{
    return resolved(objectSchema.value(QLatin1String("properties")).toObject().value(name).toObject());
}

QJsonValue managedValue(const QVariant &value, const QJsonObject &schema);

QJsonObject managedMap(const QVariantMap &map, const QJsonObject &schema)
{
    QJsonObject out;
    for (auto it = map.cbegin(); it != map.cend(); ++it)
        out.insert(it.key(), managedValue(it.value(), propertySchema(schema, it.key())));
    return out;
}

// Unconvertible values are passed on as they are: the validator then names them.
QJsonValue managedValue(const QVariant &value, const QJsonObject &schema)
{
    const QString type = schema.value(QLatin1String("type")).toString();
    const QString text = value.toString().trimmed();
    if ((type == u"object" || type == u"array") && value.typeId() == QMetaType::QString
        && (text.startsWith(u'{') || text.startsWith(u'['))) {
        if (auto json = jose::parseStrictJson(text.toUtf8()))
            return *json;
    }
    if (type == u"object" && value.typeId() == QMetaType::QVariantMap)
        return managedMap(value.toMap(), schema);
    if (type == u"array") {
        const QJsonObject items = resolved(schema.value(QLatin1String("items")).toObject());
        QVariantList list;
        if (value.typeId() == QMetaType::QString) { // one entry, or a registry string with one per line
            for (const QString &line : value.toString().split(u'\n', Qt::SkipEmptyParts))
                list << line.trimmed();
        } else {
            list = value.toList(); // a multi-string value, a profile's array
        }
        QJsonArray out;
        for (const QVariant &entry : std::as_const(list))
            out << managedValue(entry, items);
        return out;
    }
    if (type == u"integer") {
        bool ok = false;
        const qlonglong n = value.toLongLong(&ok);
        if (ok)
            return n;
    }
    if (type == u"boolean") {
        if (value.typeId() == QMetaType::Bool)
            return value.toBool();
        if (text == u"true" || text == u"1")
            return true;
        if (text == u"false" || text == u"0")
            return false;
    }
    if (type == u"string" && value.canConvert<QString>())
        return value.toString();
    return QJsonValue::fromVariant(value);
}

// A Group Policy list element (the ADMX template, docs/policy.md) writes a list
// as a subkey with one value per entry, named 1, 2, 3, ...: in that order.
QVariantList numberedValues(QSettings &settings)
{
    QStringList keys = settings.childKeys();
    std::sort(keys.begin(), keys.end(),
        [](const QString &a, const QString &b) { return std::pair(a.toULongLong(), a) < std::pair(b.toULongLong(), b); });
    QVariantList out;
    for (const QString &key : std::as_const(keys))
        out << settings.value(key);
    return out;
}

QJsonObject managedGroup(QSettings &settings, const QJsonObject &schema)
{
    QJsonObject out;
    const QStringList keys = settings.childKeys();
    for (const QString &key : keys)
        out.insert(key, managedValue(settings.value(key), propertySchema(schema, key)));
    const QStringList groups = settings.childGroups();
    for (const QString &group : groups) {
        settings.beginGroup(group);
        const QJsonObject member = propertySchema(schema, group);
        if (member.value(QLatin1String("type")).toString() == u"array")
            out.insert(group, managedValue(numberedValues(settings), member));
        else
            out.insert(group, managedGroup(settings, member));
        settings.endGroup();
    }
    return out;
}

} // namespace

QJsonObject managedSettingsToJson(QSettings &settings)
{
    return managedGroup(settings, schemaObject());
}

QJsonObject mergeManagedSettings(const QJsonObject &file, const QJsonObject &managed)
{
    QJsonObject out = file;
    for (auto it = managed.constBegin(); it != managed.constEnd(); ++it) {
        const QJsonValue mine = out.value(it.key());
        if (mine.isObject() && it.value().isObject())
            out.insert(it.key(), mergeManagedSettings(mine.toObject(), it.value().toObject()));
        else
            out.insert(it.key(), it.value());
    }
    return out;
}

PolicyStore::PolicyStore(const QString &file, QObject *parent)
    : QObject(parent)
    , m_file(QFileInfo(file.isEmpty() ? defaultPolicyFile() : file).absoluteFilePath())
{
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
    m_managed = file.isEmpty();
#endif
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(kDefaultDebounce);
    connect(&m_debounce, &QTimer::timeout, this, &PolicyStore::reload);
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, this, [this] { m_debounce.start(); });
    connect(&m_watcher, &QFileSystemWatcher::directoryChanged, this, [this] { m_debounce.start(); });
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
    if (m_managed) {
        m_managedPoll.setInterval(kManagedPollInterval);
        connect(&m_managedPoll, &QTimer::timeout, this, &PolicyStore::reload);
    }
#endif
}

bool PolicyStore::start()
{
    reload();
    if (m_managed)
        m_managedPoll.start();
    return hasPolicy();
}

void PolicyStore::watch()
{
    // The folder too: editors and configuration tools replace the file by a
    // rename, which ends the watch on the old file, and the file may not exist
    // yet. Without the folder, its nearest existing parent is watched, so that
    // a policy installed later (mkdir, then the file) is seen as well.
    QString folder = QFileInfo(m_file).absolutePath();
    while (!QFileInfo(folder).isDir()) {
        const QString parent = QFileInfo(folder).absolutePath();
        if (parent == folder)
            break;
        folder = parent;
    }
    const QStringList stale = m_watcher.directories();
    for (const QString &directory : stale) {
        if (directory != folder)
            m_watcher.removePath(directory);
    }
    if (QFileInfo(folder).isDir() && !m_watcher.directories().contains(folder))
        m_watcher.addPath(folder);
    if (QFileInfo::exists(m_file) && !m_watcher.files().contains(m_file))
        m_watcher.addPath(m_file);
}

void PolicyStore::reload()
{
    watch();
    auto bytes = m_trustedOwner ? readTrustedPolicyFile(m_file, *m_trustedOwner) : readPolicyFile(m_file);
    QString source = m_file;
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
    if (m_managed) {
        const QJsonObject managed = readManagedSettings();
        if (!managed.isEmpty()) {
            // The problems then refer to the merged text; their member names say where to look.
            QJsonObject base;
            if (bytes) {
                auto file = jose::parseStrictJsonObject(*bytes);
                if (!file) {
                    bytes = fail(ErrorCode::PolicyInvalid, QStringLiteral("%1: %2").arg(m_file, file.error().message));
                } else {
                    base = *file;
                }
            } else if (bytes.error().code == ErrorCode::Io && !QFileInfo::exists(m_file)) {
                bytes = QByteArray("{}"); // the managed settings alone
            }
            if (bytes) {
                bytes = QJsonDocument(mergeManagedSettings(base, managed)).toJson(QJsonDocument::Indented);
                source = QStringLiteral("%1 with %2").arg(m_file, managedSettingsName());
            }
        }
    }
#endif
    if (!bytes) {
        if (!m_lastText && m_lastError == bytes.error().message)
            return;
        m_lastText.reset();
        m_lastError = bytes.error().message;
        reject({PolicyProblem {0, 0, QString(), bytes.error().message}}, bytes.error().code == ErrorCode::PolicyUntrusted);
        return;
    }
    if (m_lastText == *bytes)
        return; // a touch, or a change to another file in the folder
    m_lastText = *bytes;
    m_lastError.clear();
    const QList<PolicyProblem> problems = validatePolicy(*bytes);
    if (!problems.isEmpty()) {
        reject(problems);
        return;
    }
    auto policy = parsePolicy(*bytes, source);
    if (!policy) {
        reject({PolicyProblem {0, 0, QString(), policy.error().message}});
        return;
    }
    accept(*policy);
}

void PolicyStore::accept(Policy policy)
{
    m_policy = std::move(policy);
    m_reason.clear();
    m_problems.clear();
    m_rejectedUntrusted = false;
    Q_EMIT policyChanged(*m_policy);
}

void PolicyStore::reject(const QList<PolicyProblem> &problems, bool untrusted)
{
    m_problems = problems;
    m_rejectedUntrusted = untrusted;
    if (!m_policy) {
        const PolicyProblem &first = problems.constFirst();
        if (untrusted)
            m_reason = QStringLiteral("No valid policy: %1.").arg(first.message);
        else if (first.line == 0 && problems.size() == 1)
            m_reason
                = QStringLiteral("No valid policy: %1. The administrator must install one at %2.").arg(first.message, m_file);
        else
            m_reason = QStringLiteral("No valid policy: %1:%2:%3: %4%5. The administrator can list every problem with "
                                      "'hotdesk policy check %1'.")
                           .arg(m_file, QString::number(first.line), QString::number(first.column), first.message,
                               problems.size() > 1 ? QStringLiteral(" (and %1 more)").arg(problems.size() - 1) : QString());
    }
    Q_EMIT policyRejected(problems);
}

} // namespace hotdesk::policy
