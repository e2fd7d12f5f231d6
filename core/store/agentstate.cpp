// The agent's state files: enrollments.json and users.json.
#include "agentstate.h"

#include "../jose/strictjson.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>
#include <QSaveFile>
#include <QStandardPaths>

#include <cmath>

namespace hotdesk::store {
namespace {

constexpr char kEnrollmentsFile[] = "enrollments.json";
constexpr char kUsersFile[] = "users.json";
constexpr qint64 kMaxStateFileBytes = 1024 * 1024;
constexpr int kFormatVersion = 1;

tl::unexpected<Error> damaged(const QString &path, const QString &problem)
{
    return fail(ErrorCode::Malformed,
        QStringLiteral("the state file %1 is damaged (%2); move it aside and enroll this PC again (hotdesk enroll)")
            .arg(path, problem));
}

// The file's object; {} when the file does not exist yet.
Result<QJsonObject> readStateFile(const QString &path)
{
    QFile file(path);
    if (!file.exists())
        return QJsonObject();
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorCode::Io,
            QStringLiteral("cannot read the state file %1: %2; check its owner and permissions").arg(path, file.errorString()));
    if (file.size() > kMaxStateFileBytes)
        return damaged(path, QStringLiteral("larger than 1 MiB"));
    auto object = jose::parseStrictJsonObject(file.readAll());
    if (!object)
        return damaged(path, object.error().message);
    if (object->value(QLatin1String("version")).toInt(-1) != kFormatVersion)
        return damaged(path, QStringLiteral("\"version\" is not %1").arg(kFormatVersion));
    return *object;
}

Result<QString> requiredString(const QJsonObject &object, const char *name, const QString &path)
{
    const QJsonValue v = object.value(QLatin1String(name));
    if (!v.isString() || v.toString().isEmpty())
        return damaged(path, QStringLiteral("an entry has no \"%1\" string").arg(QLatin1String(name)));
    return v.toString();
}

Result<QList<EnrollmentRecord>> parseEnrollments(const QJsonObject &object, const QString &path)
{
    QList<EnrollmentRecord> records;
    const QJsonValue list = object.value(QLatin1String("enrollments"));
    if (list.isUndefined())
        return records;
    if (!list.isArray())
        return damaged(path, QStringLiteral("\"enrollments\" is not an array"));
    for (const QJsonValue &entry : list.toArray()) {
        if (!entry.isObject())
            return damaged(path, QStringLiteral("an enrollment is not an object"));
        const QJsonObject e = entry.toObject();
        EnrollmentRecord r;
        for (auto [name, field] : {std::pair {"das_url", &r.dasUrl}, std::pair {"device_id", &r.deviceId},
                 std::pair {"key_name", &r.keyName}, std::pair {"kid", &r.kid}}) {
            auto value = requiredString(e, name, path);
            if (!value)
                return tl::unexpected(value.error());
            *field = *value;
        }
        const double at = e.value(QLatin1String("enrolled_at")).toDouble(-1);
        if (!std::isfinite(at) || at < 0 || at != std::floor(at))
            return damaged(path, QStringLiteral("an enrollment has no \"enrolled_at\" time"));
        r.enrolledAt = qint64(at);
        for (const EnrollmentRecord &seen : records) {
            if (seen.dasUrl == r.dasUrl)
                return damaged(path, QStringLiteral("two enrollments name %1").arg(r.dasUrl));
        }
        records.append(r);
    }
    return records;
}

QJsonObject enrollmentsDocument(const QList<EnrollmentRecord> &records)
{
    QJsonArray list;
    for (const EnrollmentRecord &r : records) {
        list.append(QJsonObject {{QStringLiteral("das_url"), r.dasUrl}, {QStringLiteral("device_id"), r.deviceId},
            {QStringLiteral("key_name"), r.keyName}, {QStringLiteral("kid"), r.kid},
            {QStringLiteral("enrolled_at"), r.enrolledAt}});
    }
    return {{QStringLiteral("version"), kFormatVersion}, {QStringLiteral("enrollments"), list}};
}

Result<QJsonObject> parseUsers(const QJsonObject &object, const QString &path)
{
    const QJsonValue users = object.value(QLatin1String("users"));
    if (users.isUndefined())
        return QJsonObject();
    if (!users.isObject())
        return damaged(path, QStringLiteral("\"users\" is not an object"));
    const QJsonObject map = users.toObject();
    for (auto it = map.begin(); it != map.end(); ++it) {
        if (!it.value().isObject())
            return damaged(path, QStringLiteral("the entry of %1 is not an object").arg(it.key()));
        if (auto id = requiredString(it.value().toObject(), "shared_id", path); !id)
            return tl::unexpected(id.error());
    }
    return map;
}

} // namespace

Status writeStateFile(const QString &path, const QJsonObject &object)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorCode::Io, QStringLiteral("cannot write the state file %1: %2").arg(path, file.errorString()));
    // Before the first byte: the rename keeps the temporary file's mode.
    if (!file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner))
        return fail(ErrorCode::Io, QStringLiteral("cannot restrict %1 to its owner: %2").arg(path, file.errorString()));
    file.write(QJsonDocument(object).toJson(QJsonDocument::Indented));
    if (!file.commit())
        return fail(
            ErrorCode::Io, QStringLiteral("cannot write the state file %1: %2; is the disk full?").arg(path, file.errorString()));
    return {};
}

QString deviceKeyName(const QString &dasUrl)
{
    return QStringLiteral("device-key:") + dasUrl;
}

AgentState::AgentState(QString directory)
    : m_dir(std::move(directory))
{
}

QString AgentState::defaultDirectory()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
}

QString AgentState::filePath(const char *name) const
{
    return QDir(m_dir).filePath(QLatin1String(name));
}

namespace {

// The directory, created 0700 when it does not exist. An existing directory
// keeps its mode: it may be one the administrator chose and shares.
Status ensureDirectory(const QString &dir)
{
    if (QFileInfo(dir).isDir())
        return {};
    if (!QDir().mkpath(dir))
        return fail(
            ErrorCode::Io, QStringLiteral("cannot create the state directory %1; check the permissions of its parent").arg(dir));
    QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    return {};
}


// Read, change, write, with the directory's lock held throughout.
template <typename Change> Status update(const QString &dir, const QString &path, Change change)
{
    if (auto ok = ensureDirectory(dir); !ok)
        return ok;
    QLockFile lock(QDir(dir).filePath(QStringLiteral("state.lock")));
    lock.setStaleLockTime(30000);
    if (!lock.tryLock(10000))
        return fail(ErrorCode::Io,
            QStringLiteral("the state directory %1 stays locked by another Hotdesk process; try again when it is done").arg(dir));
    auto object = readStateFile(path);
    if (!object)
        return tl::unexpected(object.error());
    auto changed = change(*object);
    if (!changed)
        return tl::unexpected(changed.error());
    return writeStateFile(path, *changed);
}

} // namespace

Result<QList<EnrollmentRecord>> AgentState::enrollments() const
{
    const QString path = filePath(kEnrollmentsFile);
    auto object = readStateFile(path);
    if (!object)
        return tl::unexpected(object.error());
    return parseEnrollments(*object, path);
}

Result<std::optional<EnrollmentRecord>> AgentState::enrollment(const QString &dasUrl) const
{
    auto all = enrollments();
    if (!all)
        return tl::unexpected(all.error());
    for (const EnrollmentRecord &r : *all) {
        if (r.dasUrl == dasUrl)
            return std::optional<EnrollmentRecord>(r);
    }
    return std::optional<EnrollmentRecord>();
}

Status AgentState::saveEnrollment(const EnrollmentRecord &record)
{
    const QString path = filePath(kEnrollmentsFile);
    return update(m_dir, path, [&](const QJsonObject &object) -> Result<QJsonObject> {
        auto records = parseEnrollments(object, path);
        if (!records)
            return tl::unexpected(records.error());
        records->removeIf([&](const EnrollmentRecord &r) { return r.dasUrl == record.dasUrl; });
        records->append(record);
        return enrollmentsDocument(*records);
    });
}

Status AgentState::forgetEnrollment(const QString &dasUrl)
{
    const QString path = filePath(kEnrollmentsFile);
    return update(m_dir, path, [&](const QJsonObject &object) -> Result<QJsonObject> {
        auto records = parseEnrollments(object, path);
        if (!records)
            return tl::unexpected(records.error());
        records->removeIf([&](const EnrollmentRecord &r) { return r.dasUrl == dasUrl; });
        return enrollmentsDocument(*records);
    });
}

Result<std::optional<QString>> AgentState::knownUser(const QString &name) const
{
    const QString path = filePath(kUsersFile);
    auto object = readStateFile(path);
    if (!object)
        return tl::unexpected(object.error());
    auto users = parseUsers(*object, path);
    if (!users)
        return tl::unexpected(users.error());
    if (!users->contains(name))
        return std::optional<QString>();
    return std::optional<QString>(users->value(name).toObject().value(QLatin1String("shared_id")).toString());
}

Status AgentState::rememberUser(const QString &name, const QString &sharedId)
{
    if (name.isEmpty() || sharedId.isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("a user needs a name and a shared id to be remembered"));
    const QString path = filePath(kUsersFile);
    return update(m_dir, path, [&](const QJsonObject &object) -> Result<QJsonObject> {
        auto users = parseUsers(object, path);
        if (!users)
            return tl::unexpected(users.error());
        users->insert(name, QJsonObject {{QStringLiteral("shared_id"), sharedId}});
        return QJsonObject {{QStringLiteral("version"), kFormatVersion}, {QStringLiteral("users"), *users}};
    });
}

} // namespace hotdesk::store
