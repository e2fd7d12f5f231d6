// Where the DAS gets a new user's shared identifier: the enterprise server's relay, or the IdP's SCIM endpoint directly.
#pragma once

#include "core/result.h"
#include "serviceclient.h"

#include <QString>
#include <QUrl>

#include <functional>

namespace hotdesk::stubs {

// A user as the agent reports them (POST /v1/users).
struct UserRegistration {
    QString canonicalName; // "username@domain", lower case: the SCIM userName
    QString username;
    QString domain;
    QString sid;
    QString type; // "AD"
};

class UserDirectory {
public:
    virtual ~UserDirectory() = default;
    using Done = std::function<void(Result<QString>)>;
    // Creates the user, or finds them when they already exist, and hands the
    // shared identifier to done (always asynchronously, never twice).
    virtual void provision(const UserRegistration &user, Done done) = 0;
    // For problem details and logs: "the IdP's SCIM endpoint at URL".
    virtual QString describe() const = 0;
};

// POST {idp}/scim/v2/Users with the IdP's SCIM client token; on 409 (the
// userName exists) the id comes from GET ?filter=userName eq "...".
class ScimDirectory final : public UserDirectory {
public:
    ScimDirectory(ServiceClient &client, QUrl idpBase, QString dataDir);
    void provision(const UserRegistration &user, Done done) override;
    QString describe() const override;

private:
    void lookUp(const UserRegistration &user, const QByteArray &token, Done done);

    ServiceClient &m_client;
    QUrl m_base;
    QString m_dataDir;
};

// POST {enterprise}/v1/users with the agent's fields and the enterprise
// server's client token (DATADIR/enterprise-client-token) as the bearer; the
// enterprise server relays to SCIM and answers {"shared_id": ...} (docs/das-protocol.md).
class EnterpriseDirectory final : public UserDirectory {
public:
    EnterpriseDirectory(ServiceClient &client, QUrl enterpriseBase, QString dataDir);
    void provision(const UserRegistration &user, Done done) override;
    QString describe() const override;

private:
    ServiceClient &m_client;
    QUrl m_base;
    QString m_dataDir;
};

} // namespace hotdesk::stubs
