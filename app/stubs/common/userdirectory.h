// User names as every role checks them, and where the DAS and the enterprise server get a
// new user's shared identifier: the IdP's SCIM endpoint, or the enterprise server's relay.
#pragma once

#include "core/result.h"
#include "serviceclient.h"

#include <QString>
#include <QUrl>

#include <functional>

namespace hotdesk::stubs {

// The name under which the DAS, the IdP (SCIM userName) and the agent know a
// user, checked: "username@domain", or the username alone when there is no
// domain, in core's canonical form (hotdesk::canonicalUserName). Refuses what
// a SCIM filter cannot quote (" and \), control characters, and an '@' in
// username beside a domain.
Result<QString> checkedUserName(const QString &username, const QString &domain = {});
// A shared id: 1 to 256 printable ASCII characters without spaces.
bool isValidSharedId(QStringView sharedId);

// Whether text holds what a SCIM filter cannot quote (" and \) or a control character.
bool hasForbiddenNameCharacter(const QString &text);

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
