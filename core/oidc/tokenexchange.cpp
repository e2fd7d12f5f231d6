// Token endpoint client.
#include "tokenexchange.h"

#include "../jose/strictjson.h"

namespace hotdesk::oidc {
namespace {

QString where(const net::HttpResponse &response)
{
    return response.url.toString(QUrl::RemoveQuery | QUrl::RemoveUserInfo);
}

// The IdP's error_description is shown to people: printable and short.
QString printable(const QString &text)
{
    QString out;
    for (const QChar c : text.left(300))
        out += c.isPrint() ? c : QLatin1Char(' ');
    return out.simplified();
}

Result<QString> requiredString(const QJsonObject &doc, const char *name, const net::HttpResponse &response)
{
    const QJsonValue value = doc.value(QLatin1String(name));
    if (!value.isString() || value.toString().isEmpty())
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral(
                "the token answer of %1 has no \"%2\" string; sign in again, and tell your administrator if this repeats")
                .arg(where(response), QLatin1String(name)));
    return value.toString();
}

} // namespace

Result<TokenResponse> parseTokenResponse(const net::HttpResponse &response)
{
    if (!response.isSuccess()) {
        // RFC 6749 §5.2: 400 (or 401 for invalid_client) with {"error", "error_description"}.
        if (response.status >= 400 && response.status < 500) {
            const auto doc = jose::parseStrictJsonObject(response.body);
            if (doc && doc->value(QLatin1String("error")).isString()) {
                const QString error = printable(doc->value(QLatin1String("error")).toString());
                const QString description = printable(doc->value(QLatin1String("error_description")).toString());
                return fail(ErrorCode::ServerError,
                    QStringLiteral("the identity provider refused the authorization code at %1: %2%3; sign in again")
                        .arg(where(response), error,
                            description.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(description)));
            }
        }
        return fail(ErrorCode::ServerError,
            QStringLiteral("the token endpoint failed: %1; sign in again later, and tell your administrator if this repeats")
                .arg(net::describeAnswer(response)));
    }
    auto doc = net::jsonObjectOf(response, QStringLiteral("the token answer"));
    if (!doc)
        return tl::unexpected(doc.error());

    TokenResponse tokens;
    tokens.document = *doc;
    auto idToken = requiredString(*doc, "id_token", response);
    if (!idToken)
        return tl::unexpected(idToken.error());
    auto accessToken = requiredString(*doc, "access_token", response);
    if (!accessToken)
        return tl::unexpected(accessToken.error());
    auto tokenType = requiredString(*doc, "token_type", response);
    if (!tokenType)
        return tl::unexpected(tokenType.error());
    // RFC 6749 §5.1: the type is case-insensitive.
    if (tokenType->compare(QLatin1String("Bearer"), Qt::CaseInsensitive) != 0)
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the token answer of %1 has the token_type \"%2\"; Hotdesk uses Bearer tokens only")
                .arg(where(response), printable(*tokenType)));
    tokens.idToken = idToken->toUtf8();
    tokens.accessToken = accessToken->toUtf8();
    tokens.tokenType = *tokenType;
    // Informational only, so a value some IdPs send as a string, or not at all, is no reason to fail.
    const QJsonValue expiresIn = doc->value(QLatin1String("expires_in"));
    if (expiresIn.isDouble() && expiresIn.toDouble() > 0 && expiresIn.toDouble() < 1e12)
        tokens.expiresIn = qint64(expiresIn.toDouble());
    else if (expiresIn.isString())
        tokens.expiresIn = qMax<qint64>(0, expiresIn.toString().toLongLong());
    return tokens;
}

void exchangeCode(net::HttpClient &http, const QUrl &tokenEndpoint, const CodeExchange &exchange,
    std::function<void(Result<TokenResponse>)> done)
{
    if (exchange.code.isEmpty() || exchange.codeVerifier.isEmpty() || exchange.redirectUri.isEmpty()
        || exchange.clientId.isEmpty()) {
        done(fail(ErrorCode::Malformed,
            QStringLiteral("the code exchange needs a code, a PKCE verifier, the redirect URI and the client id")));
        return;
    }
    const net::HttpRequest request = net::HttpRequest::postForm(tokenEndpoint,
        {{QStringLiteral("grant_type"), QStringLiteral("authorization_code")}, {QStringLiteral("code"), exchange.code},
            {QStringLiteral("code_verifier"), exchange.codeVerifier}, {QStringLiteral("redirect_uri"), exchange.redirectUri},
            {QStringLiteral("client_id"), exchange.clientId}});
    http.send(request, [done = std::move(done)](Result<net::HttpResponse> response) {
        if (!response) {
            done(tl::unexpected(response.error()));
            return;
        }
        done(parseTokenResponse(*response));
    });
}

} // namespace hotdesk::oidc
