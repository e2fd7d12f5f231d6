// One push: the device key, the DAS's signed request, the IdP's discovery, then core/oidc/ciba's client.
#include "pushservice.h"

#include "core/das/dasclient.h"
#include "core/das/enroller.h"
#include "core/oidc/ciba.h"
#include "core/store/agentstate.h"
#include "core/store/filesecretstore.h"

#include <QPointer>

namespace hotdesk::daemon {
namespace {

constexpr std::chrono::seconds kExpiryMargin {15};

} // namespace

// What one push holds; its own HTTP client, so that ending it cancels its calls and no other push's.
class PushService::Push : public QObject {
public:
    Push(QString pushId, QString userName, QStringList acr, std::chrono::seconds wait, const SignInSettings &settings,
        QObject *parent)
        : QObject(parent)
        , id(std::move(pushId))
        , user(std::move(userName))
        , acrValues(std::move(acr))
        , timeout(wait)
        , http(settings.trust, settings.timeouts())
    {
        settings.configure(http);
    }

    const QString id;
    QString user; // canonical, as the DAS knows the user
    const QStringList acrValues;
    const std::chrono::seconds timeout;
    bool finished = false;
    QString server; // "das", then "idp": whom the push is dealing with now
    int polls = 0;
    qint64 pollWaitSeconds = 0;
    das::CibaRequestObject request;
    net::HttpClient http;
    std::unique_ptr<das::DasClient> das;
    std::unique_ptr<oidc::CibaClient> ciba;
};

PushService::PushService(
    SignInSettings settings, flow::FingerprintSource fingerprint, const Clock &clock, RandomSource &random, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
    , m_clock(clock)
    , m_random(random)
    , m_access(m_settings, std::move(fingerprint), clock, this)
{
}

PushService::~PushService()
{
    // The pushes and the provider refer to the members below; they go first.
    const QObjectList owned = children();
    qDeleteAll(owned);
}

Result<QString> PushService::start(const QString &user, const QStringList &acrValues, std::chrono::seconds timeout)
{
    if (user.trimmed().isEmpty())
        return fail(ErrorCode::UserUnknown, QStringLiteral("a push needs the user it is for"));
    auto random = randomUrlSafeString(m_random, 16);
    if (!random)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("no random numbers for a push id"));
    const QString pushId = QString::fromLatin1(*random);
    m_pushes.emplace(pushId, new Push(pushId, user, acrValues, timeout, m_settings, this));
    // Never inside start(): the caller hears of the push's end only after it has its id.
    QMetaObject::invokeMethod(
        this, [this, pushId] { begin(pushId); }, Qt::QueuedConnection);
    return pushId;
}

void PushService::cancel(const QString &pushId)
{
    const auto it = m_pushes.find(pushId);
    if (it == m_pushes.end())
        return;
    if (it->second->ciba && it->second->ciba->isRunning())
        it->second->ciba->cancel(); // failed(Cancelled) comes back through finish()
    else
        finish(pushId, fail(ErrorCode::Cancelled, QStringLiteral("the push was cancelled")));
}

// The device key is read for each push: an enrollment made since the last one counts at once.
void PushService::begin(const QString &pushId)
{
    const auto it = m_pushes.find(pushId);
    if (it == m_pushes.end())
        return;
    QPointer<Push> push(it->second);
    das::loadCredential(m_access.secrets(), m_access.state(), m_settings.servers.dasUrls, [this, push](Result<das::LoadedCredential> loaded) {
        if (!push || push->finished)
            return;
        if (!loaded) {
            finish(push->id, tl::unexpected(loaded.error()));
            return;
        }
        push->das
            = std::make_unique<das::DasClient>(push->http, m_settings.servers.dasUrls, loaded->credential, m_clock, m_random);
        push->server = QStringLiteral("das");
        registerUser(*push);
    });
}

// A user new to this PC is registered with the DAS first (flow 2), as the sign-in does: the shared id it
// names is remembered, and the request's login_hint must then be that one.
void PushService::registerUser(Push &push)
{
    const auto known = m_access.state().knownUser(push.user);
    if (!known) {
        finish(push.id, tl::unexpected(known.error()));
        return;
    }
    if (*known) {
        requestAtDas(push);
        return;
    }
    das::UserRegistration request;
    const qsizetype at = push.user.indexOf(u'@');
    request.username = at > 0 ? push.user.left(at) : push.user;
    request.domain = at > 0 ? push.user.mid(at + 1) : QString();
    QPointer<Push> guard(&push);
    push.das->registerUser(request, [this, guard](Result<das::RegisteredUser> registered) {
        if (!guard || guard->finished)
            return;
        if (!registered) {
            finish(guard->id, tl::unexpected(registered.error()));
            return;
        }
        if (auto saved = m_access.state().rememberUser(registered->username, registered->sharedId); !saved) {
            finish(guard->id, tl::unexpected(saved.error()));
            return;
        }
        guard->user = registered->username;
        requestAtDas(*guard);
    });
}

void PushService::requestAtDas(Push &push)
{
    const auto fingerprint = m_access.fingerprint()();
    if (!fingerprint) {
        finish(push.id, tl::unexpected(fingerprint.error()));
        return;
    }
    das::CibaParams params;
    params.user = push.user;
    params.fingerprint = fingerprint->toJson();
    params.acrValues = push.acrValues;
    params.requestedExpiry = qint64(push.timeout.count());
    QPointer<Push> guard(&push);
    push.das->requestCiba(params, [this, guard](Result<das::CibaRequestObject> answer) {
        if (!guard || guard->finished)
            return;
        if (!answer) {
            finish(guard->id, tl::unexpected(answer.error()));
            return;
        }
        // The request must be for the IdP of the policy, and for the shared id this PC already knows for the user.
        if (answer->issuer != m_settings.servers.idpIssuer) {
            finish(guard->id,
                fail(ErrorCode::IssuerMismatch,
                    QStringLiteral("the DAS signed a request for %1, not for the policy's %2")
                        .arg(answer->issuer, m_settings.servers.idpIssuer)));
            return;
        }
        const auto known = m_access.state().knownUser(guard->user);
        if (known && *known && **known != answer->sharedId) {
            finish(guard->id,
                fail(ErrorCode::SubjectMismatch,
                    QStringLiteral("the DAS names another shared id for %1 than this PC knows").arg(guard->user)));
            return;
        }
        guard->request = *answer;
        guard->server = QStringLiteral("idp");
        m_access.provider().metadata([this, guard](Result<oidc::ProviderMetadata> provider) {
            if (!guard || guard->finished)
                return;
            if (!provider) {
                finish(guard->id, tl::unexpected(provider.error()));
                return;
            }
            startCiba(*guard, *provider);
        });
    });
}

void PushService::startCiba(Push &push, const oidc::ProviderMetadata &provider)
{
    oidc::CibaSettings settings;
    // The IdP's own expiry (requested_expiry = the push's time) decides first and reads as "expired"; the client's
    // deadline a little later only catches an IdP that never says so.
    settings.timeout = push.timeout + kExpiryMargin;
    push.ciba = std::make_unique<oidc::CibaClient>(push.http, provider, *m_access.provider().jwks(), m_clock, settings);
    const QString id = push.id;
    const QString number = push.request.bindingMessage;
    // Each wait the client starts (after the IdP's acceptance and after each pending answer) ends in one poll.
    Push *counted = &push;
    connect(push.ciba.get(), &oidc::CibaClient::accepted, this,
        [this, id, number, counted](const QString &, qint64 expiresIn, qint64 interval) {
            counted->pollWaitSeconds += interval;
            Q_EMIT numberReady(id, number, expiresIn);
        });
    connect(push.ciba.get(), &oidc::CibaClient::pending, this, [counted](const QString &) {
        ++counted->polls;
        counted->pollWaitSeconds += counted->ciba->interval().count();
    });
    connect(
        push.ciba.get(), &oidc::CibaClient::failed, this, [this, id](const Error &error) { finish(id, tl::unexpected(error)); });
    connect(push.ciba.get(), &oidc::CibaClient::succeeded, this, [this, id](const oidc::IdToken &token) {
        const auto it = m_pushes.find(id);
        if (it == m_pushes.end())
            return;
        PushResult result;
        result.user = it->second->user;
        result.sharedId = token.subject;
        result.acr = token.claims().value(QLatin1String("acr")).toString();
        result.validatedAt = m_clock.secondsSinceEpoch();
        result.polls = it->second->polls + 1; // the pending ones and the one that brought the tokens
        result.pollWaitSeconds = it->second->pollWaitSeconds;
        finish(id, result);
    });
    push.ciba->start({push.request.requestObject, push.request.clientId, push.request.sharedId, push.acrValues});
}

void PushService::finish(const QString &pushId, Result<PushResult> result)
{
    const auto it = m_pushes.find(pushId);
    if (it == m_pushes.end())
        return;
    Push *push = it->second;
    m_pushes.erase(it);
    push->finished = true;
    // Later: this may run inside one of the client's own signals.
    push->deleteLater();
    if (result)
        Q_EMIT succeeded(pushId, *result);
    else
        Q_EMIT failed(pushId, result.error(), push->server);
}

} // namespace hotdesk::daemon
