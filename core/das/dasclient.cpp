// The DAS client: one fresh device token per request, failover across the policy's DAS URLs, problem slugs to error codes.
#include "dasclient.h"

#include "devicetoken.h"

#include <QDateTime>
#include <QJsonValue>
#include <QRegularExpression>

#include <cmath>

namespace hotdesk::das {

struct DasClient::Attempt {
    QByteArray method;
    QString path;
    QJsonObject body;
    bool withDeviceToken = true;
    AnswerCallback done;
    QList<int> order; // indexes into m_urls, preferred first
    int next = 0;
    QStringList failures; // what happened at each URL tried
    std::optional<Error> lastError; // the failure that got furthest (failureRank)
};

namespace {

bool isFailover(const Error &error)
{
    return error.code == ErrorCode::Unreachable || error.code == ErrorCode::Timeout || error.code == ErrorCode::Tls;
}

// Which failure the caller hears about when every URL failed: the one that
// got furthest. A DAS that answered 5xx says more than a backup that is down.
int failureRank(ErrorCode code)
{
    switch (code) {
    case ErrorCode::ServerError:
        return 3;
    case ErrorCode::Tls:
        return 2;
    case ErrorCode::Timeout:
        return 1;
    default:
        return 0;
    }
}

QString isoTime(qint64 seconds)
{
    return QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC).toString(Qt::ISODate);
}

// A required non-empty string member of an answer.
Result<QString> stringMember(const QJsonObject &object, const char *name, const QString &what, const QUrl &from)
{
    const QJsonValue v = object.value(QLatin1String(name));
    if (!v.isString() || v.toString().isEmpty())
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("%1 from %2 has no \"%3\" string; the DAS does not follow docs/das-protocol.md")
                .arg(what, from.toString(), QLatin1String(name)));
    return v.toString();
}

// A required whole number member of an answer.
Result<qint64> integerMember(const QJsonObject &object, const char *name, const QString &what, const QUrl &from)
{
    const double d = object.value(QLatin1String(name)).toDouble(std::nan(""));
    if (!std::isfinite(d) || d < 0 || d > 9007199254740991.0 || d != std::floor(d))
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("%1 from %2 has no whole number \"%3\"; the DAS does not follow docs/das-protocol.md")
                .arg(what, from.toString(), QLatin1String(name)));
    return qint64(d);
}

Result<ApprovalStatus> approvalOf(const QJsonObject &o, const QUrl &from)
{
    const QString what = QStringLiteral("the approval request");
    ApprovalStatus a;
    auto id = stringMember(o, "id", what, from);
    if (!id)
        return tl::unexpected(id.error());
    auto status = stringMember(o, "status", what, from);
    if (!status)
        return tl::unexpected(status.error());
    auto expiresAt = integerMember(o, "expires_at", what, from);
    if (!expiresAt)
        return tl::unexpected(expiresAt.error());
    a.id = *id;
    a.status = *status;
    a.expiresAt = *expiresAt;
    if (a.status == u"pending")
        a.state = ApprovalStatus::State::Pending;
    else if (a.status == u"approved")
        a.state = ApprovalStatus::State::Approved;
    else if (a.status == u"denied")
        a.state = ApprovalStatus::State::Denied;
    else if (a.status == u"expired")
        a.state = ApprovalStatus::State::Expired;
    else
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the approval request from %1 has the unknown status \"%2\"").arg(from.toString(), a.status.left(64)));
    return a;
}

} // namespace

DasClient::DasClient(net::HttpClient &http, QList<QUrl> dasUrls, DeviceCredential credential, const Clock &clock,
    RandomSource &random, QObject *parent)
    : QObject(parent)
    , m_http(http)
    , m_urls(std::move(dasUrls))
    , m_credential(std::move(credential))
    , m_clock(clock)
    , m_random(random)
{
}

// Calls in flight find their QPointer to us null and drop their callbacks.
DasClient::~DasClient() = default;

QString DasClient::audienceOf(const QUrl &dasUrl)
{
    QString url = dasUrl.toString(QUrl::FullyEncoded);
    while (url.endsWith(u'/'))
        url.chop(1);
    return url;
}

void DasClient::cancelAll()
{
    const auto calls = m_calls;
    for (const QPointer<net::HttpCall> &call : calls) {
        if (call)
            call->cancel();
    }
}

void DasClient::call(
    const QByteArray &method, const QString &path, const QJsonObject &body, AnswerCallback done, bool withDeviceToken)
{
    auto a = std::make_shared<Attempt>();
    a->method = method;
    a->path = path;
    a->body = body;
    a->withDeviceToken = withDeviceToken;
    a->done = std::move(done);
    for (int i = 0; i < m_urls.size(); ++i)
        a->order.append((m_preferred + i) % int(m_urls.size()));
    if (m_urls.isEmpty()) {
        // Later, like any answer: callers never get a callback inside their call.
        QMetaObject::invokeMethod(
            this, [a] { a->done(fail(ErrorCode::PolicyInvalid, QStringLiteral("the policy names no DAS URL (servers.das)"))); },
            Qt::QueuedConnection);
        return;
    }
    tryNext(a);
}

void DasClient::tryNext(std::shared_ptr<Attempt> a)
{
    if (a->next >= a->order.size()) {
        Error last = *a->lastError;
        QStringList tried;
        for (int index : std::as_const(a->order))
            tried << audienceOf(m_urls.at(index));
        last.message = QStringLiteral("no DAS answered (tried %1): %2; check the network and that a DAS of the policy runs")
                           .arg(tried.join(QStringLiteral(", ")), a->failures.join(QStringLiteral("; ")));
        m_pendingApproval.reset();
        return a->done(tl::unexpected(last));
    }
    const int index = a->order.at(a->next++);
    const QUrl base = m_urls.at(index);
    const QString audience = audienceOf(base);
    const QUrl url(audience + a->path);
    net::HttpRequest request = a->method == "GET" ? net::HttpRequest::get(url) : net::HttpRequest::postJson(url, a->body);
    request.method = a->method;
    if (a->withDeviceToken) {
        auto token = makeDeviceToken(m_credential.privateKey, m_credential.deviceId, audience, m_clock, m_random);
        if (!token) {
            m_pendingApproval.reset();
            return a->done(tl::unexpected(token.error()));
        }
        request.withHeader("Authorization", QByteArray(kDeviceTokenScheme) + ' ' + *token);
    }

    QPointer<DasClient> self(this);
    QPointer<net::HttpCall> sent = m_http.send(request, [self, a, index, base](Result<net::HttpResponse> r) {
        if (!self)
            return;
        self->m_calls.removeIf([](const QPointer<net::HttpCall> &c) { return c.isNull(); });
        const bool transport = !r && isFailover(r.error());
        const bool serverFailed = r && r->status >= 500;
        if (transport || serverFailed) {
            Error e = transport ? r.error() : self->errorOf(*r, base);
            a->failures << e.message;
            if (!a->lastError || failureRank(e.code) > failureRank(a->lastError->code))
                a->lastError = e;
            return self->tryNext(a);
        }
        // An answer, even a refusal, is the deployment's word: no other URL would say otherwise.
        self->m_pendingApproval.reset();
        if (!r)
            return a->done(tl::unexpected(r.error()));
        self->m_preferred = index;
        a->done(Answer {std::move(*r), base});
    });
    m_calls.append(sent);
}

Error DasClient::errorOf(const net::HttpResponse &response, const QUrl &base)
{
    const auto problem = net::problemOf(response);
    const QString slug = problem ? problem->slug : QString();
    const QString described = net::describeAnswer(response);
    const QString where = audienceOf(base);
    if (response.status >= 500)
        return {
            ErrorCode::ServerError, QStringLiteral("%1; try again later, and tell the administrator if it lasts").arg(described)};
    if (slug == u"device-unrecognized") {
        const QJsonValue pending = problem->members.value(QLatin1String("approval_request"));
        if (pending.isString() && !pending.toString().isEmpty())
            m_pendingApproval = pending.toString();
        return {ErrorCode::DeviceUnrecognized,
            QStringLiteral("the DAS at %1 does not recognize this PC any more (too much of it changed since it was "
                           "registered); ask an administrator to approve it, or confirm it with a one-time code sent to the user")
                .arg(where)};
    }
    if (slug == u"device-unknown" || slug == u"invalid-signature")
        return {ErrorCode::DeviceUnknown,
            QStringLiteral("%1; the DAS no longer knows this PC's device key: enroll this PC again (hotdesk enroll)")
                .arg(described)};
    if (slug == u"not-an-administrator")
        return {ErrorCode::AccessDenied, described};
    if (slug == u"user-unknown")
        return {ErrorCode::UserUnknown, QStringLiteral("%1; register the user first").arg(described)};
    if (slug == u"token-expired" || slug == u"token-not-yet-valid") {
        const QByteArray serverDate = response.header("Date");
        return {slug == u"token-expired" ? ErrorCode::Expired : ErrorCode::NotYetValid,
            QStringLiteral("the DAS at %1 refused this PC's device token as %2: this PC's clock (%3 UTC)%4 is probably wrong; "
                           "set the time (or turn on NTP) and try again")
                .arg(where, slug == u"token-expired" ? QStringLiteral("expired") : QStringLiteral("not yet valid"),
                    isoTime(m_clock.secondsSinceEpoch()),
                    serverDate.isEmpty() ? QString()
                                         : QStringLiteral(" and the DAS's (%1)").arg(QString::fromLatin1(serverDate)))};
    }
    if (slug == u"audience-mismatch")
        return {ErrorCode::AudienceMismatch,
            QStringLiteral("%1; the policy's DAS URL must be exactly the DAS's own URL").arg(described)};
    if (slug == u"oob-token-invalid") {
        const QJsonValue left = problem->members.value(QLatin1String("attempts_left"));
        return {ErrorCode::AccessDenied,
            left.isDouble()
                ? QStringLiteral("the one-time code is wrong (%1 more attempts); check it and type it again").arg(left.toInt())
                : QStringLiteral("the one-time code is wrong, or none was sent for this PC; ask for a new code")};
    }
    if (slug == u"oob-token-expired")
        return {ErrorCode::Expired, QStringLiteral("the one-time code has expired; ask for a new code")};
    if (slug == u"oob-token-used" || slug == u"oob-token-burnt" || slug == u"oob-token-superseded")
        return {ErrorCode::AccessDenied, QStringLiteral("%1; ask for a new code").arg(described)};
    if (slug == u"rate-limited" || slug == u"too-many-approval-requests") {
        const QByteArray retry = response.header("Retry-After");
        return {ErrorCode::ServerError,
            QStringLiteral("%1; try again in %2 seconds")
                .arg(described, retry.isEmpty() ? QStringLiteral("a few") : QString::fromLatin1(retry))};
    }
    return {ErrorCode::ServerError, described};
}

Result<QJsonObject> DasClient::objectOf(const Result<Answer> &answer, const QString &what)
{
    if (!answer)
        return tl::unexpected(answer.error());
    if (!answer->response.isSuccess())
        return tl::unexpected(errorOf(answer->response, answer->base));
    return net::jsonObjectOf(answer->response, what);
}

void DasClient::registerUser(const UserRegistration &user, Callback<RegisteredUser> done)
{
    QJsonObject body {{QStringLiteral("username"), user.username}, {QStringLiteral("type"), QStringLiteral("AD")}};
    if (!user.domain.isEmpty())
        body.insert(QStringLiteral("domain"), user.domain);
    if (!user.sid.isEmpty())
        body.insert(QStringLiteral("sid"), user.sid);
    call("POST", QStringLiteral("/v1/users"), body, [this, done](Result<Answer> answer) {
        const QString what = QStringLiteral("the user registration");
        auto o = objectOf(answer, what);
        if (!o)
            return done(tl::unexpected(o.error()));
        auto name = stringMember(*o, "username", what, answer->base);
        if (!name)
            return done(tl::unexpected(name.error()));
        auto sharedId = stringMember(*o, "shared_id", what, answer->base);
        if (!sharedId)
            return done(tl::unexpected(sharedId.error()));
        done(RegisteredUser {*name, *sharedId, answer->response.status == 201});
    });
}

void DasClient::requestTwoFactor(const TwoFactorParams &params, Callback<TwoFactorRequest> done)
{
    QJsonObject body {{QStringLiteral("user"), params.user}, {QStringLiteral("state"), params.state},
        {QStringLiteral("nonce"), params.nonce}, {QStringLiteral("code_challenge"), params.codeChallenge},
        {QStringLiteral("code_challenge_method"), QStringLiteral("S256")}, {QStringLiteral("redirect_uri"), params.redirectUri},
        {QStringLiteral("fingerprint"), params.fingerprint}};
    if (!params.acrValues.isEmpty())
        body.insert(QStringLiteral("acr_values"), params.acrValues.join(u' '));
    call("POST", QStringLiteral("/v1/2fa-tokens"), body, [this, done](Result<Answer> answer) {
        const QString what = QStringLiteral("the 2FA request object");
        auto o = objectOf(answer, what);
        if (!o)
            return done(tl::unexpected(o.error()));
        done(twoFactorRequestOf(*o, what, answer->base));
    });
}

void DasClient::requestCiba(const CibaParams &params, Callback<CibaRequestObject> done)
{
    QJsonObject body {{QStringLiteral("user"), params.user}, {QStringLiteral("fingerprint"), params.fingerprint}};
    if (!params.acrValues.isEmpty())
        body.insert(QStringLiteral("acr_values"), params.acrValues.join(u' '));
    if (params.requestedExpiry)
        body.insert(QStringLiteral("requested_expiry"), double(*params.requestedExpiry));
    call("POST", QStringLiteral("/v1/ciba-requests"), body, [this, done](Result<Answer> answer) {
        auto o = objectOf(answer, QStringLiteral("the CIBA request"));
        if (!o)
            return done(tl::unexpected(o.error()));
        done(cibaRequestOf(*o, answer->base));
    });
}

Result<CibaRequestObject> DasClient::cibaRequestOf(const QJsonObject &o, const QUrl &base)
{
    const QString what = QStringLiteral("the CIBA request");
    CibaRequestObject out;
    out.answeredBy = base;
    for (const auto &[name, target] : {std::pair {"client_id", &out.clientId}, std::pair {"issuer", &out.issuer},
             std::pair {"shared_id", &out.sharedId}, std::pair {"binding_message", &out.bindingMessage}}) {
        auto value = stringMember(o, name, what, base);
        if (!value)
            return tl::unexpected(value.error());
        *target = *value;
    }
    auto request = stringMember(o, "request", what, base);
    auto expiresIn = integerMember(o, "expires_in", what, base);
    auto requestedExpiry = integerMember(o, "requested_expiry", what, base);
    if (!request || !expiresIn || !requestedExpiry)
        return tl::unexpected(!request ? request.error() : !expiresIn ? expiresIn.error() : requestedExpiry.error());
    // Shown to the person at the PC: OpenID CIBA's safe characters only (docs/ciba.md).
    static const QRegularExpression bindingShape(QStringLiteral("^[A-Za-z0-9._+/!?#-]{1,20}$"));
    if (!bindingShape.match(out.bindingMessage).hasMatch())
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the binding_message from %1 is not 1 to 20 letters, digits or -._+/!?#").arg(base.toString()));
    out.requestObject = request->toLatin1();
    out.expiresIn = *expiresIn;
    out.requestedExpiry = *requestedExpiry;
    return out;
}

void DasClient::requestAdminSignIn(const AdminSignInParams &params, Callback<AdminSignIn> done)
{
    const QJsonObject body {{QStringLiteral("user"), params.user}, {QStringLiteral("state"), params.state},
        {QStringLiteral("nonce"), params.nonce}, {QStringLiteral("code_challenge"), params.codeChallenge},
        {QStringLiteral("code_challenge_method"), QStringLiteral("S256")}, {QStringLiteral("redirect_uri"), params.redirectUri}};
    // The PC is not enrolled yet: the administrator's own sign-in is what authenticates this.
    call(
        "POST", QStringLiteral("/v1/admin-sign-ins"), body,
        [this, done](Result<Answer> answer) {
            const QString what = QStringLiteral("the administrator sign-in");
            auto o = objectOf(answer, what);
            if (!o)
                return done(tl::unexpected(o.error()));
            auto signIn = stringMember(*o, "sign_in", what, answer->base);
            if (!signIn)
                return done(tl::unexpected(signIn.error()));
            auto user = stringMember(*o, "username", what, answer->base);
            if (!user)
                return done(tl::unexpected(user.error()));
            auto sharedId = stringMember(*o, "shared_id", what, answer->base);
            if (!sharedId)
                return done(tl::unexpected(sharedId.error()));
            auto request = twoFactorRequestOf(*o, what, answer->base);
            if (!request)
                return done(tl::unexpected(request.error()));
            done(AdminSignIn {*signIn, *user, *sharedId, *request});
        },
        false);
}

Result<TwoFactorRequest> DasClient::twoFactorRequestOf(const QJsonObject &o, const QString &what, const QUrl &base)
{
    auto request = stringMember(o, "request", what, base);
    if (!request)
        return tl::unexpected(request.error());
    auto clientId = stringMember(o, "client_id", what, base);
    if (!clientId)
        return tl::unexpected(clientId.error());
    auto endpoint = stringMember(o, "authorization_endpoint", what, base);
    if (!endpoint)
        return tl::unexpected(endpoint.error());
    auto expiresIn = integerMember(o, "expires_in", what, base);
    if (!expiresIn)
        return tl::unexpected(expiresIn.error());
    const QUrl authorize(*endpoint, QUrl::StrictMode);
    if (!authorize.isValid() || authorize.scheme() != u"https" || authorize.host().isEmpty())
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the authorization endpoint \"%1\" from %2 is not an https URL").arg(endpoint->left(256), base.toString()));
    return TwoFactorRequest {request->toLatin1(), *clientId, authorize, *expiresIn, base};
}

void DasClient::requestApproval(const QString &user, const QJsonObject &fingerprint, Callback<ApprovalStatus> done)
{
    const QString path = QStringLiteral("/v1/devices/%1/approval-requests")
                             .arg(QString::fromLatin1(QUrl::toPercentEncoding(m_credential.deviceId)));
    const QJsonObject body {{QStringLiteral("user"), user}, {QStringLiteral("fingerprint"), fingerprint}};
    call("POST", path, body, [this, done](Result<Answer> answer) {
        auto o = objectOf(answer, QStringLiteral("the approval request"));
        if (!o)
            return done(tl::unexpected(o.error()));
        done(approvalOf(*o, answer->base));
    });
}

void DasClient::approvalStatus(const QString &requestId, Callback<ApprovalStatus> done)
{
    const QString path = QStringLiteral("/v1/devices/%1/approval-requests/%2")
                             .arg(QString::fromLatin1(QUrl::toPercentEncoding(m_credential.deviceId)),
                                 QString::fromLatin1(QUrl::toPercentEncoding(requestId)));
    call("GET", path, {}, [this, done](Result<Answer> answer) {
        auto o = objectOf(answer, QStringLiteral("the approval request"));
        if (!o)
            return done(tl::unexpected(o.error()));
        done(approvalOf(*o, answer->base));
    });
}

void DasClient::requestOobToken(const QString &user, Callback<OobToken> done)
{
    call("POST", QStringLiteral("/v1/oob-tokens"), {{QStringLiteral("user"), user}}, [this, done](Result<Answer> answer) {
        const QString what = QStringLiteral("the one-time code request");
        auto o = objectOf(answer, what);
        if (!o)
            return done(tl::unexpected(o.error()));
        auto digits = integerMember(*o, "digits", what, answer->base);
        if (!digits)
            return done(tl::unexpected(digits.error()));
        auto expiresAt = integerMember(*o, "expires_at", what, answer->base);
        if (!expiresAt)
            return done(tl::unexpected(expiresAt.error()));
        if (*digits < 4 || *digits > 12)
            return done(fail(ErrorCode::MalformedAnswer,
                QStringLiteral("%1 from %2 announces a %3-digit code").arg(what, answer->base.toString()).arg(*digits)));
        done(OobToken {int(*digits), *expiresAt});
    });
}

void DasClient::verifyOobToken(const QString &user, const QString &token, const QString &machineId, StatusCallback done)
{
    const QJsonObject body {
        {QStringLiteral("user"), user}, {QStringLiteral("token"), token}, {QStringLiteral("machine_id"), machineId}};
    call("POST", QStringLiteral("/v1/oob-tokens/verify"), body, [this, done](Result<Answer> answer) {
        auto o = objectOf(answer, QStringLiteral("the one-time code check"));
        if (!o)
            return done(tl::unexpected(o.error()));
        if (o->value(QLatin1String("registered")) != QJsonValue(true))
            return done(fail(ErrorCode::MalformedAnswer,
                QStringLiteral("the one-time code check from %1 does not say \"registered\": true")
                    .arg(answer->base.toString())));
        done({});
    });
}

void DasClient::postEvent(const QJsonObject &event, StatusCallback done)
{
    call("POST", QStringLiteral("/v1/events"), event, [this, done](Result<Answer> answer) {
        auto o = objectOf(answer, QStringLiteral("the event"));
        if (!o)
            return done(tl::unexpected(o.error()));
        done({});
    });
}

void DasClient::deliverEvent(const QJsonObject &event, std::function<void(const store::DeliveryResult &)> done)
{
    using store::DeliveryResult;
    call("POST", QStringLiteral("/v1/events"), event, [this, done](Result<Answer> answer) {
        // Every DAS URL failed (transport, 5xx), or no device token could be made: try again later.
        if (!answer)
            return done(DeliveryResult::fromHttpStatus(0, answer.error().message));
        const net::HttpResponse &response = answer->response;
        if (response.isSuccess())
            return done(DeliveryResult::fromHttpStatus(response.status, net::describeAnswer(response)));
        const Error error = errorOf(response, answer->base);
        bool ok = false;
        const qint64 retryAfter = QString::fromLatin1(response.header("Retry-After")).trimmed().toLongLong(&ok);
        DeliveryResult result = DeliveryResult::fromHttpStatus(
            response.status, error.message, std::chrono::seconds(ok && retryAfter > 0 ? retryAfter : 0));
        const auto problem = net::problemOf(response);
        const QString slug = problem ? problem->slug : QString();
        if (slug == u"token-expired" || slug == u"token-not-yet-valid" || slug == u"replayed-token")
            result.outcome = DeliveryResult::Outcome::RetryLater;
        done(result);
    });
}

} // namespace hotdesk::das
