// The push-2FA provider role: phone enrollment, challenges with number matching, signed responses.
#pragma once

#include "../common/httpservice.h"
#include "../common/stubsconfig.h"
#include "core/random.h"

#include <optional>

namespace hotdesk::stubs::push {

class PushService : public HttpService {
    Q_OBJECT
public:
    explicit PushService(StubsContext &context, QObject *parent = nullptr);
    // Creates this role's tables and, on first run, the IdP's client token; called once
    // after every role listens, before any request is served.
    Status prepare() override;

    // DATADIR/push-client-token: the bearer token the IdP presents on
    // POST /v1/challenges and GET /v1/challenges/{id}. Made by prepare().
    static QString clientTokenPath(const QString &dataDir);
    static Result<QByteArray> readClientToken(const QString &dataDir);

private:
    // A phone's answer to one challenge, as received or as a simulated phone makes it.
    struct PhoneResponse {
        QString decision;
        std::optional<int> number;
        QByteArray signature; // raw ES256 r||s (64 bytes)
    };
    enum class Verdict { Approved, Denied, NumberMismatch, BadSignature, AlreadyDecided, Expired, Unknown };

    QHttpServerResponse enroll(const QHttpServerRequest &request);
    QHttpServerResponse createChallenge(const QHttpServerRequest &request);
    QHttpServerResponse challengeStatus(const QString &id, const QHttpServerRequest &request);
    QHttpServerResponse pendingChallenges(const QString &user);
    QHttpServerResponse response(const QString &id, const QHttpServerRequest &request);
    QHttpServerResponse phonePage(const QString &user);
    QHttpServerResponse phoneAnswer(const QString &user, const QHttpServerRequest &request);

    // The one path every answer takes (HTTP, the /phone page, auto-approve):
    // signature, single use, expiry and number checked in one transaction.
    Result<Verdict> decide(const QString &id, const PhoneResponse &answer);
    // Signs an answer with the user's simulated phone key (DATADIR/phones).
    Result<PhoneResponse> simulatedAnswer(const QString &user, const QString &id, const QString &decision,
                                          std::optional<int> number);
    void autoApprove(const QString &id);
    bool hasSimulatedPhone(const QString &user, const QString &phoneId) const;
    std::optional<Problem> checkClient(const QHttpServerRequest &request);
    qint64 now() const { return m_context.clock->secondsSinceEpoch(); }

    StubsContext &m_context;
    OpenSslRandom m_random;
};

} // namespace hotdesk::stubs::push
