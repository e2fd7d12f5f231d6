// The enrollment hotdeskd uses, chosen in one place for "health" and for the audit records' device_id.
#pragma once

#include "core/store/agentstate.h"

#include <QList>
#include <QString>
#include <QUrl>

#include <optional>

namespace hotdesk::policy {
class PolicyStore;
}

namespace hotdesk::daemon {

// The DAS URLs of the policy in force, in order; empty without a usable policy (or before it was first read).
QList<QUrl> policyDasUrls(const policy::PolicyStore *store);

// The enrollment with the first of dasUrls that has one (das::enrollmentFor, the choice a sign-in and
// das::loadCredential make); without DAS URLs (no usable policy yet), the first enrollment there is.
std::optional<store::EnrollmentRecord> chosenEnrollment(
    const QList<store::EnrollmentRecord> &records, const QList<QUrl> &dasUrls);

// The device id of that enrollment in stateDir's enrollments.json; empty when the PC is not enrolled (with the
// policy's DAS) or the file cannot be read. The device key itself is never read here.
QString enrolledDeviceId(const QString &stateDir, const policy::PolicyStore *store);

} // namespace hotdesk::daemon
