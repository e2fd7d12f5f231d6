// The policy's pam section applied to one request; the user database read through getpwnam_r and getgrouplist.
#include "pamgate.h"

#include "daemonserver.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace hotdesk::daemon {
namespace {

// A member that is a string of at most maxChars characters without control characters; required or not.
std::optional<QString> textMember(
    const QJsonObject &request, const char *name, qsizetype maxChars, bool required, QString *problem)
{
    const QJsonValue value = request.value(QLatin1String(name));
    if (value.isUndefined() && !required)
        return QString();
    const QString text = value.toString();
    bool clean = value.isString() && text.size() <= maxChars && (!required || !text.isEmpty());
    for (const QChar c : text)
        clean = clean && c.unicode() >= 0x20 && c.unicode() != 0x7F;
    if (!clean) {
        *problem = QStringLiteral("\"%1\" must be a string of at most %2 characters without control characters")
                       .arg(QLatin1String(name))
                       .arg(maxChars);
        return std::nullopt;
    }
    return text;
}

} // namespace

std::variant<PamRequest, QJsonObject> readPamRequest(const QJsonObject &request)
{
    QString problem;
    const auto user = textMember(request, "user", 255, true, &problem);
    const auto service = textMember(request, "service", 64, true, &problem);
    const auto tty = textMember(request, "tty", 255, false, &problem);
    const auto rhost = textMember(request, "rhost", 255, false, &problem);
    const auto failMode = textMember(request, "failmode", 16, false, &problem);
    if (!user || !service || !tty || !rhost || !failMode)
        return errorReply("bad_request", problem);
    if (!failMode->isEmpty() && *failMode != u"secure" && *failMode != u"offline")
        return errorReply("bad_request", QStringLiteral("\"failmode\" is \"secure\" or \"offline\""));
    return PamRequest {*user, *service, *tty, *rhost, *failMode == u"offline"};
}

std::optional<Account> lookUpAccount(const QString &user)
{
    const QByteArray name = user.toUtf8();
    std::vector<char> buffer(16384);
    passwd entry {};
    passwd *found = nullptr;
    if (getpwnam_r(name.constData(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        return std::nullopt;
    Account account {found->pw_uid, {}};
    int count = 64;
    std::vector<gid_t> gids(static_cast<size_t>(count));
    if (getgrouplist(name.constData(), found->pw_gid, gids.data(), &count) < 0) {
        gids.resize(size_t(count));
        if (getgrouplist(name.constData(), found->pw_gid, gids.data(), &count) < 0)
            count = 0;
    }
    for (int i = 0; i < count; ++i) {
        group groupEntry {};
        group *groupFound = nullptr;
        if (getgrgid_r(gids[size_t(i)], &groupEntry, buffer.data(), buffer.size(), &groupFound) == 0 && groupFound)
            account.groups << QString::fromUtf8(groupFound->gr_name);
    }
    return account;
}

PamDecision decidePam(const PamRequest &request, const policy::Policy &policy, const Account &account,
    const policy::UserRecord *record, bool lockRequired, policy::Instant now)
{
    const policy::PamRules &rules = policy.pam;
    if (request.service == QLatin1String(kOwnPamService))
        return {PamVerdict::NotCovered, QStringLiteral("hotdeskd's own service")};
    if (!rules.services.contains(request.service))
        return {PamVerdict::NotCovered, QStringLiteral("service not in pam.services")};
    if (policy.failure.exemptUsers.contains(request.user))
        return {PamVerdict::NotCovered, QStringLiteral("failure.exempt_users")};
    if (!rules.users.isEmpty() || !rules.groups.isEmpty()) {
        bool member = rules.users.contains(request.user);
        for (const QString &group : account.groups)
            member = member || rules.groups.contains(group);
        if (!member)
            return {PamVerdict::NotCovered, QStringLiteral("not in pam.users or pam.groups")};
    }
    if (record && record->lockedOutUntil && *record->lockedOutUntil > now)
        return {PamVerdict::LockedOut, QStringLiteral("failure.max_attempts")};
    if (rules.recentSignIn.count() > 0 && !lockRequired && record && record->lastSuccess && *record->lastSuccess <= now
        && now - *record->lastSuccess < rules.recentSignIn)
        return {PamVerdict::Recent, QStringLiteral("pam.recent_sign_in")};
    return {PamVerdict::Push, QStringLiteral("covered")};
}

QString pamResultName(PamVerdict verdict)
{
    switch (verdict) {
    case PamVerdict::NotCovered:
        return QStringLiteral("not_covered");
    case PamVerdict::Recent:
        return QStringLiteral("recent");
    case PamVerdict::LockedOut:
        return QStringLiteral("locked_out");
    case PamVerdict::Push:
        break;
    }
    return {};
}

} // namespace hotdesk::daemon
