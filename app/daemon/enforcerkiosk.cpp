// The policy's enforcement member in the enforcer: shared kiosk accounts (a sign-in names the person) and the OS lock always.
#include "daemonserver.h"
#include "enforcer.h"
#include "sessionguard.h"

#include "core/jose/strictjson.h"
#include "core/policy/policy.h"
#include "core/policy/policystore.h"

#include <QDir>
#include <QFile>

namespace hotdesk::daemon {
namespace {

// A login name or a shared id: printable, no blanks, as long as a policy's user names may be.
bool isPersonName(const QString &name)
{
    if (name.isEmpty() || name.size() > 255)
        return false;
    for (const QChar c : name)
        if (c.isSpace() || c.category() == QChar::Other_Control || c.category() == QChar::Other_Format)
            return false;
    return true;
}

} // namespace

void Enforcer::applyEnforcement(SessionGuard &guard) const
{
    const policy::Enforcement none;
    const policy::Enforcement &enforcement = m_policy && m_policy->hasPolicy() ? m_policy->policy().enforcement : none;
    guard.setEnforcement(enforcement.isKioskAccount(guard.session().user), enforcement.alwaysOsLock);
}

QString Enforcer::restoredPerson(const platform::LoginSession &session) const
{
    QFile file(QDir(m_options.stateDir).filePath(QStringLiteral("sessions/%1.json").arg(session.id)));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const auto saved = jose::parseStrictJsonObject(file.read(1024 * 1024));
    // Only the same session (its start time) had this person; a damaged file names nobody.
    if (!saved || saved->value(QLatin1String("started_us")).toString() != QString::number(session.startedUs))
        return {};
    const QString person = saved->value(QLatin1String("person")).toString();
    return isPersonName(person) ? person : QString();
}

std::variant<QString, QJsonObject> Enforcer::signInPersonOf(const SessionGuard &guard, const QJsonObject &request) const
{
    const QJsonValue given = request.value(QLatin1String("person"));
    if (given.isUndefined())
        return guard.isKiosk() ? guard.person() : QString(); // a kiosk's person signs in again
    if (!given.isString() || !isPersonName(given.toString()))
        return errorReply(
            "bad_request", QStringLiteral("\"person\" must be the login name of who signs in: 1 to 255 characters, no blanks"));
    if (!guard.isKiosk())
        return errorReply("forbidden",
            QStringLiteral("session %1 is %2's, not a shared kiosk account's (policy enforcement.kiosk_accounts): "
                           "only %2 signs in there")
                .arg(guard.session().id, guard.session().user));
    return given.toString();
}

} // namespace hotdesk::daemon
