// The enrollment hotdeskd uses (daemonenrollment.h).
#include "daemonenrollment.h"

#include "core/das/enroller.h"
#include "core/policy/policystore.h"

namespace hotdesk::daemon {

QList<QUrl> policyDasUrls(const policy::PolicyStore *store)
{
    return store && store->hasPolicy() ? store->policy().servers.dasUrls : QList<QUrl>();
}

std::optional<store::EnrollmentRecord> chosenEnrollment(const QList<store::EnrollmentRecord> &records, const QList<QUrl> &dasUrls)
{
    if (!dasUrls.isEmpty())
        return das::enrollmentFor(records, dasUrls);
    return records.isEmpty() ? std::nullopt : std::optional(records.constFirst());
}

QString enrolledDeviceId(const QString &stateDir, const policy::PolicyStore *store)
{
    const auto records = store::AgentState(stateDir).enrollments();
    if (!records)
        return {};
    const auto found = chosenEnrollment(*records, policyDasUrls(store));
    return found ? found->deviceId : QString();
}

} // namespace hotdesk::daemon
