// enterprise server role: user provisioning relay to the IdP (SCIM), resource gateway, distribution site.
#include "enterpriseservice.h"

#include "../common/clienttokens.h"
#include "enterprisedownloads.h"
#include "enterprisegateway.h"

#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "core/random.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSaveFile>

#include <openssl/crypto.h>

namespace hotdesk::stubs::enterprise {
namespace {

// Each call to the IdP gets less than half the DAS's 8 s relay timeout: a
// 409 costs two calls, and the DAS must hear our answer before it gives up.
constexpr int kIdpTimeoutMs = 3500;
constexpr qint64 kKeysRefetchSeconds = 10;
constexpr qint64 kMaxDownloadSize = 512LL * 1024 * 1024;
const char kGatewayRealm[] = "hotdesk-gateway";

const char kReadme[] = "Hotdesk distribution site\n"
                       "=========================\n"
                       "\n"
                       "The enterprise server of hotdesk-stubs serves the files of this directory at\n"
                       "/download/ (an index) and /download/NAME. Put the Hotdesk agent's packages\n"
                       "here (hotdesk_VERSION_amd64.deb, Hotdesk-VERSION.msi, Hotdesk-VERSION.pkg):\n"
                       "the gateway's \"401\" answers send people without the agent to this site.\n"
                       "\n"
                       "Only regular, readable files directly in this directory are served; names\n"
                       "starting with a dot are hidden, and symbolic links that lead out of the\n"
                       "directory are ignored.\n";

using Responder = std::shared_ptr<LaterResponder>;

// afterRequest() sees only the responses a route returns, not those written through a responder.
void send(const Responder &responder, QHttpServerResponse &&response)
{
    response.setHeader("X-Content-Type-Options", "nosniff");
    responder->write(response);
}

Problem problem(HttpStatus status, const char *slug, const char *title, const QString &detail)
{
    return {status, QLatin1String(slug), QLatin1String(title), detail};
}

QByteArray sha256(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256);
}

QString withoutTrailingSlash(QString url)
{
    while (url.endsWith(QLatin1Char('/')))
        url.chop(1);
    return url;
}

// A small accessible page: one language, a title, a main landmark, focus visible.
QHttpServerResponse page(const QString &title, const QString &bodyHtml, HttpStatus status)
{
    const QString html = QStringLiteral("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                                        "<title>%1</title>\n<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;"
                                        "padding:0 1em;line-height:1.5}a:focus{outline:3px solid #1a73e8;outline-offset:2px}"
                                        "</style>\n</head>\n<body>\n<main>\n%2</main>\n</body>\n</html>\n")
                             .arg(title.toHtmlEscaped(), bodyHtml);
    QHttpServerResponse response("text/html; charset=utf-8", html.toUtf8(), status);
    response.setHeader("Cache-Control", "no-store");
    response.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    response.setHeader("Referrer-Policy", "no-referrer");
    return response;
}

QString sizeText(qint64 bytes)
{
    if (bytes < 1024)
        return QStringLiteral("%1 bytes").arg(bytes);
    if (bytes < 1024 * 1024)
        return QStringLiteral("%1 KiB").arg(double(bytes) / 1024, 0, 'f', 1);
    return QStringLiteral("%1 MiB").arg(double(bytes) / (1024 * 1024), 0, 'f', 1);
}

} // namespace

EnterpriseService::EnterpriseService(StubsContext &context, QObject *parent)
    : HttpService(QStringLiteral("enterprise"), parent)
    , m_context(context)
{
    using Method = QHttpServerRequest::Method;
    server().route(
        QStringLiteral("/v1/users"), Method::Post, [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
            relayUser(request, std::move(responder));
        });
    // Everything below /resources/; the router's QUrl converter matches across slashes.
    server().route(QStringLiteral("/resources/<arg>"), Method::Get,
        [this](const QUrl &, const QHttpServerRequest &request, QHttpServerResponder &&responder) {
            gateway(request, std::move(responder));
        });
    server().route(QStringLiteral("/download"), Method::Get, [] {
        QHttpServerResponse response(HttpStatus::PermanentRedirect);
        response.setHeader("Location", "/download/");
        return response;
    });
    server().route(QStringLiteral("/download/"), Method::Get, [this] { return downloadIndex(); });
    // Also across slashes, so that "..%2F" or "//etc" reach findDownload's checks instead of slipping past the router.
    server().route(QStringLiteral("/download/<arg>"), Method::Get,
        [this](const QUrl &, const QHttpServerRequest &request) { return download(request); });
}

EnterpriseService::~EnterpriseService() = default;

QString EnterpriseService::downloadDir() const
{
    return QDir(m_context.dataDir).filePath(QStringLiteral("download"));
}

Status EnterpriseService::prepare()
{
    const QString tokenPath = enterpriseClientTokenPath(m_context.dataDir);
    if (!QFile::exists(tokenPath)) {
        OpenSslRandom random;
        auto token = randomUrlSafeString(random, kEnterpriseClientTokenBytes);
        if (!token)
            return tl::unexpected(token.error());
        QSaveFile file(tokenPath);
        if (!file.open(QIODevice::WriteOnly))
            return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(tokenPath, file.errorString()));
        // Owner only, set before the secret is written.
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        file.write(*token);
        if (!file.commit())
            return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(tokenPath, file.errorString()));
    }
    auto token = readEnterpriseClientToken(m_context.dataDir);
    if (!token)
        return tl::unexpected(token.error());
    m_clientTokenHash = sha256(*token);

    const QString dir = downloadDir();
    if (!QDir().mkpath(dir))
        return fail(ErrorCode::Io, QStringLiteral("cannot create the distribution directory %1").arg(dir));
    const QString readme = QDir(dir).filePath(QStringLiteral("README.txt"));
    if (!QFile::exists(readme)) {
        QSaveFile file(readme);
        if (!file.open(QIODevice::WriteOnly) || file.write(kReadme) < 0 || !file.commit())
            return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(readme, file.errorString()));
    }

    m_client = std::make_unique<ServiceClient>(m_context.ca->caFile(), kIdpTimeoutMs);
    return {};
}

QString EnterpriseService::issuer() const
{
    return withoutTrailingSlash(m_context.endpoints.idp.toString(QUrl::FullyEncoded));
}

void EnterpriseService::relayUser(const QHttpServerRequest &request, QHttpServerResponder &&responderIn)
{
    auto responder = std::make_shared<LaterResponder>(std::move(responderIn));
    auto refuse = [&responder](const Problem &p, bool challenge = false) {
        QHttpServerResponse response = problemResponse(p);
        if (challenge)
            response.setHeader("WWW-Authenticate", "Bearer realm=\"hotdesk-enterprise\"");
        send(responder, std::move(response));
    };
    // The DAS authenticates with the token of DATADIR/enterprise-client-token; compared by hash, in constant time.
    const QByteArray presented = sha256(authorization(request, "Bearer"));
    if (m_clientTokenHash.size() != presented.size()
        || CRYPTO_memcmp(presented.constData(), m_clientTokenHash.constData(), size_t(presented.size())) != 0)
        return refuse(problem(HttpStatus::Unauthorized, "unauthorized", "Client authentication required",
                          QStringLiteral("send \"Authorization: Bearer\" with the token in %1")
                              .arg(enterpriseClientTokenPath(m_context.dataDir))),
            true);

    auto body = jsonBody(request);
    if (!body)
        return refuse(problemFor(body.error()));
    auto username = requireString(*body, "username", 256);
    auto domain = optionalString(*body, "domain", 253);
    auto sid = optionalString(*body, "sid", 184);
    auto type = requireString(*body, "type", 16);
    for (const auto *field : {&username, &domain, &sid, &type}) {
        if (!*field)
            return refuse(problemFor(field->error()));
    }
    if (*type != QLatin1String("AD"))
        return refuse(problem(HttpStatus::BadRequest, "unsupported-user-type", "Unsupported user type",
            QStringLiteral("\"type\" is \"%1\"; only \"AD\" accounts are provisioned").arg(*type)));
    static const QRegularExpression sidShape(QStringLiteral("^S-1-[0-9]+(-[0-9]+)+$"));
    if (!sid->isEmpty() && !sidShape.match(*sid).hasMatch())
        return refuse(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
            QStringLiteral("\"sid\" must be a Windows security identifier such as S-1-5-21-...")));
    auto name = checkedUserName(*username, *domain);
    if (!name)
        return refuse(problemFor(name.error()));

    if (!m_scim && m_context.endpoints.idp.isValid())
        m_scim = std::make_unique<ScimDirectory>(*m_client, m_context.endpoints.idp, m_context.dataDir);
    if (!m_scim)
        return refuse(problem(HttpStatus::ServiceUnavailable, "idp-unavailable", "No identity provider",
            QStringLiteral("this enterprise server knows no IdP to provision %1 at; run it with the IdP "
                           "('hotdesk-stubs all')")
                .arg(*name)));
    const UserRegistration user {*name, *username, *domain, *sid, *type};
    m_scim->provision(user, [responder, user](Result<QString> sharedId) {
        if (!sharedId) {
            send(responder,
                problemResponse(
                    problem(HttpStatus::BadGateway, "idp-failed", "Provisioning at the IdP failed", sharedId.error().message)));
            return;
        }
        send(responder,
            jsonResponse(
                QJsonObject {{QStringLiteral("username"), user.canonicalName}, {QStringLiteral("shared_id"), *sharedId}}));
    });
}

void EnterpriseService::idpKeys(const QString &kid, std::function<void(Result<jose::JwkSet>)> done)
{
    const qint64 now = m_context.clock->secondsSinceEpoch();
    bool known = kid.isEmpty() && !m_idpKeys.isEmpty();
    for (const jose::Jwk &key : m_idpKeys.keys())
        known = known || key.kid() == kid;
    const bool coolingDown = m_idpKeysTried && now - m_idpKeysTriedAt < kKeysRefetchSeconds;
    if (!m_idpKeys.isEmpty() && (known || coolingDown)) {
        done(m_idpKeys);
        return;
    }
    m_keyWaiters.append(std::move(done));
    if (m_keyWaiters.size() > 1)
        return; // a fetch is under way; its answer serves everyone
    m_idpKeysTried = true;
    m_idpKeysTriedAt = now;
    const QUrl jwks = m_context.endpoints.idp.resolved(QUrl(QStringLiteral("/jwks")));
    m_client->getJson(jwks, {}, [this, jwks](Result<ServiceReply> reply) {
        Result<jose::JwkSet> keys = fail(ErrorCode::Io, QString());
        if (!reply)
            keys = fail(reply.error().code,
                QStringLiteral("the IdP's key set %1 is unreachable: %2").arg(jwks.toString(), reply.error().message));
        else if (reply->status != 200)
            keys = fail(ErrorCode::Io,
                QStringLiteral("the IdP answered HTTP %1 for its key set %2").arg(reply->status).arg(jwks.toString()));
        else
            keys = jose::JwkSet::fromJson(reply->raw);
        if (keys && keys->isEmpty())
            keys = fail(ErrorCode::KeyNotFound, QStringLiteral("the IdP's key set %1 holds no usable key").arg(jwks.toString()));
        if (keys)
            m_idpKeys = *keys;
        else if (!m_idpKeys.isEmpty())
            keys = m_idpKeys; // keep verifying with what we had; tokens of a new key wait for the next fetch
        const auto waiters = std::exchange(m_keyWaiters, {});
        for (const auto &waiter : waiters)
            waiter(keys);
    });
}

QHttpServerResponse EnterpriseService::denied(const QString &what, bool invalidToken) const
{
    const QString site = withoutTrailingSlash(baseUrl().toString(QUrl::FullyEncoded)) + QStringLiteral("/download/");
    const QString body = QStringLiteral("<h1>Sign-in with Hotdesk required</h1>\n"
                                        "<p role=\"alert\">%1</p>\n"
                                        "<p>This resource opens only for people who signed in with Hotdesk, the two-factor "
                                        "sign-in agent of this organisation. If this PC does not have it yet, install it from "
                                        "the <a href=\"%2\">Hotdesk distribution site</a>, then open this address again with "
                                        "<code>hotdesk open</code>.</p>\n"
                                        "<p>If Hotdesk is installed and this keeps happening, tell your administrator.</p>\n")
                             .arg(what.toHtmlEscaped(), site.toHtmlEscaped());
    QHttpServerResponse response = page(QStringLiteral("Sign-in required"), body, HttpStatus::Unauthorized);
    QByteArray challenge = QByteArrayLiteral("Bearer realm=\"") + kGatewayRealm + '"';
    // RFC 6750 §3.1: a token was sent but did not do.
    if (invalidToken)
        challenge += ", error=\"invalid_token\"";
    response.setHeader("WWW-Authenticate", challenge);
    response.setHeader("Link", "<" + site.toUtf8() + ">; rel=\"install\"");
    return response;
}

void EnterpriseService::gateway(const QHttpServerRequest &request, QHttpServerResponder &&responderIn)
{
    auto responder = std::make_shared<LaterResponder>(std::move(responderIn));
    const QByteArray token = authorization(request, "Bearer");
    if (token.isEmpty()) {
        send(responder, denied(QStringLiteral("You are not signed in: the request carried no access token."), false));
        return;
    }
    if (!m_context.endpoints.idp.isValid()) {
        send(responder,
            problemResponse(problem(HttpStatus::ServiceUnavailable, "idp-unavailable", "No identity provider",
                QStringLiteral("this gateway knows no IdP to check access tokens with"))));
        return;
    }
    auto unverified = jose::decodeUnverified(token);
    if (!unverified) {
        send(responder, denied(QStringLiteral("Your access token is damaged and was not accepted."), true));
        return;
    }
    const QString path = request.url().path();
    const bool html = header(request, "Accept").contains("text/html");
    idpKeys(unverified->header.kid, [this, responder, token, path, html](Result<jose::JwkSet> keys) {
        if (!keys) {
            send(responder,
                problemResponse(
                    problem(HttpStatus::BadGateway, "idp-failed", "Cannot check the access token", keys.error().message)));
            return;
        }
        AccessTokenRules rules;
        rules.issuer = issuer();
        auto accessToken = validateAccessToken(token, *keys, rules, *m_context.clock);
        if (!accessToken) {
            send(responder,
                denied(QStringLiteral("Your access token was not accepted (%1). Sign in again with Hotdesk.")
                           .arg(accessToken.error().codeName()),
                    true));
            return;
        }
        if (html) {
            send(responder,
                page(QStringLiteral("Hotdesk resource"),
                    QStringLiteral(
                        "<h1>Access granted</h1>\n<p>You are signed in as <strong>%1</strong>. This is the resource %2.</p>\n")
                        .arg(accessToken->subject.toHtmlEscaped(), path.toHtmlEscaped()),
                    HttpStatus::Ok));
            return;
        }
        send(responder,
            jsonResponse(QJsonObject {{QStringLiteral("resource"), path}, {QStringLiteral("sub"), accessToken->subject},
                {QStringLiteral("client_id"), accessToken->clientId},
                {QStringLiteral("message"), QStringLiteral("access granted by the Hotdesk gateway")}}));
    });
}

QHttpServerResponse EnterpriseService::downloadIndex() const
{
    const QList<DownloadFile> files = listDownloads(downloadDir());
    QString items;
    for (const DownloadFile &file : files) {
        items += QStringLiteral("<li><a href=\"%1\" download>%2</a> (%3)</li>\n")
                     .arg(QString::fromLatin1(QUrl::toPercentEncoding(file.name)).toHtmlEscaped(), file.name.toHtmlEscaped(),
                         sizeText(file.size));
    }
    const QString list
        = files.isEmpty() ? QStringLiteral("<p>No files are published yet.</p>\n") : QStringLiteral("<ul>\n%1</ul>\n").arg(items);
    return page(QStringLiteral("Hotdesk downloads"),
        QStringLiteral("<h1>Hotdesk downloads</h1>\n<p>Install the Hotdesk agent on this PC with the package for its "
                       "system; the administrator's README.txt says more.</p>\n%1")
            .arg(list),
        HttpStatus::Ok);
}

QHttpServerResponse EnterpriseService::download(const QHttpServerRequest &request) const
{
    // The segment as it came on the wire, so that "%2F" or "%2E%2E" are judged after decoding, by findDownload.
    const QString encodedPath = request.url().path(QUrl::FullyEncoded);
    const QString prefix = QStringLiteral("/download/");
    const QString segment = encodedPath.startsWith(prefix) ? encodedPath.mid(prefix.size()) : QString();
    const DownloadLookup lookup = findDownload(downloadDir(), segment);
    if (lookup.outcome == DownloadLookup::Outcome::InvalidName)
        return problemResponse(problem(HttpStatus::BadRequest, "invalid-path", "Invalid file name",
            QStringLiteral("ask for one file of the index at /download/ by its name")));
    if (lookup.outcome == DownloadLookup::Outcome::NotFound)
        return problemResponse(problem(HttpStatus::NotFound, "not-found", "Not found", lookup.reason));
    if (lookup.file.size > kMaxDownloadSize)
        return problemResponse(problem(HttpStatus::PayloadTooLarge, "file-too-large", "File too large",
            QStringLiteral("this stub serves files up to %1 MiB").arg(kMaxDownloadSize / (1024 * 1024))));
    QFile file(lookup.file.path);
    if (!file.open(QIODevice::ReadOnly))
        return problemResponse(problem(HttpStatus::NotFound, "not-found", "Not found", lookup.reason));
    QHttpServerResponse response(downloadContentType(lookup.file.name), file.readAll());
    response.setHeader("Content-Disposition", downloadDisposition(lookup.file.name));
    response.setHeader("Cache-Control", "no-cache");
    return response;
}

} // namespace hotdesk::stubs::enterprise
