// Authorization request and response.
#include "authorization.h"

#include <QHash>
#include <QUrlQuery>

namespace hotdesk::oidc {
namespace {

// The IdP's error_description is shown to people: printable and short.
QString sanitizedDescription(const QString &text)
{
    QString out;
    for (const QChar c : text) {
        if (out.size() >= 300) {
            out += QStringLiteral("…");
            break;
        }
        out += c.isPrint() ? c : QLatin1Char(' ');
    }
    return out.simplified();
}

// Query parameters as application/x-www-form-urlencoded says ('+' is a space,
// RFC 6749 Appendix B), each name at most once.
Result<QHash<QString, QString>> redirectParameters(const QUrl &url)
{
    QHash<QString, QString> params;
    const QString query = url.query(QUrl::FullyEncoded);
    if (query.isEmpty())
        return params;
    for (const QString &pair : query.split(QLatin1Char('&'), Qt::SkipEmptyParts)) {
        const qsizetype eq = pair.indexOf(QLatin1Char('='));
        auto decode
            = [](QString s) { return QUrl::fromPercentEncoding(s.replace(QLatin1Char('+'), QLatin1Char(' ')).toLatin1()); };
        const QString name = decode(eq < 0 ? pair : pair.left(eq));
        const QString value = eq < 0 ? QString() : decode(pair.mid(eq + 1));
        if (params.contains(name))
            return fail(ErrorCode::MalformedAnswer,
                QStringLiteral("the identity provider's answer has the parameter \"%1\" twice; sign in again").arg(name));
        params.insert(name, value);
    }
    return params;
}

} // namespace

QUrl authorizationUrl(const QUrl &endpoint, const QString &clientId, const QByteArray &requestObject)
{
    static const QStringList ours {QStringLiteral("client_id"), QStringLiteral("response_type"), QStringLiteral("scope"),
        QStringLiteral("request"), QStringLiteral("request_uri")};
    QUrlQuery query(endpoint);
    for (const QString &name : ours)
        query.removeAllQueryItems(name);
    // Encoded here: QUrlQuery would leave '+' (a space to the server) and '%' as they are.
    query.addQueryItem(QStringLiteral("client_id"), QString::fromUtf8(QUrl::toPercentEncoding(clientId)));
    query.addQueryItem(QStringLiteral("response_type"), QStringLiteral("code"));
    query.addQueryItem(QStringLiteral("scope"), QStringLiteral("openid"));
    query.addQueryItem(QStringLiteral("request"), QString::fromLatin1(requestObject));
    QUrl url = endpoint;
    url.setQuery(query);
    return url;
}

bool matchesRedirectUri(const QUrl &url, const QString &redirectUri)
{
    const QUrl expected(redirectUri, QUrl::StrictMode);
    if (!expected.isValid() || !url.isValid())
        return false;
    return url.scheme() == expected.scheme() && url.host(QUrl::FullyEncoded) == expected.host(QUrl::FullyEncoded)
        && url.port() == expected.port() && url.path(QUrl::FullyEncoded) == expected.path(QUrl::FullyEncoded)
        && url.userInfo().isEmpty() && expected.userInfo().isEmpty();
}

Result<QString> codeFromRedirect(const QUrl &redirect, const RedirectExpectations &expect)
{
    if (!matchesRedirectUri(redirect, expect.redirectUri))
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the sign-in returned to %1 instead of %2; sign in again")
                .arg(redirect.toString(QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::RemoveUserInfo), expect.redirectUri));
    auto parsed = redirectParameters(redirect);
    if (!parsed)
        return tl::unexpected(parsed.error());
    const QHash<QString, QString> &p = *parsed;

    const QString state = p.value(QStringLiteral("state"));
    if (state.isEmpty() || expect.state.isEmpty() || state != expect.state)
        return fail(ErrorCode::StateMismatch,
            state.isEmpty() ? QStringLiteral("the identity provider's answer has no \"state\", so it belongs to no sign-in of "
                                             "Hotdesk; sign in again")
                            : QStringLiteral("the identity provider's answer belongs to another sign-in (its \"state\" differs); "
                                             "sign in again"));

    if (const auto iss = p.constFind(QStringLiteral("iss")); iss != p.cend()) {
        if (*iss != expect.issuer)
            return fail(ErrorCode::IssuerMismatch,
                QStringLiteral("the sign-in answer comes from \"%1\", not from the identity provider \"%2\"; "
                               "sign in again and tell your administrator if this repeats")
                    .arg(*iss, expect.issuer));
    } else if (expect.issRequired) {
        return fail(ErrorCode::IssuerMismatch,
            QStringLiteral("the identity provider did not say who it is (no \"iss\" in its answer, though %1 promises it); "
                           "sign in again and tell your administrator if this repeats")
                .arg(expect.issuer));
    }

    if (const auto error = p.constFind(QStringLiteral("error")); error != p.cend()) {
        const QString description = sanitizedDescription(p.value(QStringLiteral("error_description")));
        const QString said = description.isEmpty() ? QStringLiteral("\"%1\"").arg(*error)
                                                   : QStringLiteral("\"%1\" (%2)").arg(*error, description);
        if (*error == QLatin1String("access_denied"))
            return fail(ErrorCode::AccessDenied,
                QStringLiteral(
                    "the sign-in was refused: the identity provider answered %1; sign in again and approve on your phone")
                    .arg(said));
        // OpenID Connect Core Unmet Authentication Requirements 1.0: none of the
        // acr_values can be met, which is the policy's doing, not the user's.
        if (*error == QLatin1String("unmet_authentication_requirements"))
            return fail(ErrorCode::PolicyInvalid,
                QStringLiteral("the identity provider cannot use any of the sign-in methods the policy asks for after a "
                               "failure (failure.alternate_methods): it answered %1; tell your administrator")
                    .arg(said));
        return fail(ErrorCode::ServerError,
            QStringLiteral("the identity provider ended the sign-in with the error %1; sign in again, and tell your "
                           "administrator if this repeats")
                .arg(said));
    }

    const QString code = p.value(QStringLiteral("code"));
    if (code.isEmpty())
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the identity provider's answer has neither an authorization code nor an error; sign in again"));
    return code;
}

} // namespace hotdesk::oidc
