// Token checking commands for administrators.
#include "tokencommands.h"

#include "cli.h"
#include "core/jose/jws.h"
#include "core/oidc/idtokenvalidator.h"

#include <QCommandLineParser>
#include <QJsonDocument>

namespace hotdesk::cli {
namespace {

constexpr qsizetype kMaxJwksBytes = 1024 * 1024;

class FixedClock final : public Clock {
public:
    explicit FixedClock(qint64 secs) : m_now(std::chrono::seconds(secs)) {}
    std::chrono::system_clock::time_point now() const override { return m_now; }

private:
    std::chrono::system_clock::time_point m_now;
};

bool parseNonNegative(const QString &text, qint64 &out)
{
    bool ok = false;
    out = text.toLongLong(&ok);
    return ok && out >= 0;
}

Result<jose::JwkSet> loadKeys(const QString &location, bool allowSymmetric)
{
    auto text = readFileOrUrl(location, kMaxJwksBytes);
    if (!text)
        return tl::unexpected(text.error());
    jose::JwkOptions options;
    options.allowSymmetric = allowSymmetric;
    auto set = jose::JwkSet::fromJson(*text, options);
    if (!set) {
        // A single JWK is accepted too, as a set of one.
        auto single = jose::Jwk::fromJson(*text, options);
        if (!single)
            return fail(ErrorCode::Malformed, QStringLiteral("%1 is neither a JWK set nor a JWK: %2").arg(location, set.error().message));
        return jose::JwkSet({*single});
    }
    for (const QString &skipped : set->skipped())
        printErr(QStringLiteral("hotdesk: note: %1: skipped %2").arg(location, skipped));
    if (set->isEmpty())
        return fail(ErrorCode::KeyNotFound, QStringLiteral("%1 holds no usable key").arg(location));
    return set;
}

} // namespace

int runTokenVerify(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Validates an OpenID Connect ID token as the agent does: signature with a key\n"
        "from the issuer's JWK set, then iss, aud/azp, exp/nbf/iat, nonce and sub."));
    parser.addHelpOption();
    const QCommandLineOption jwks(QStringLiteral("jwks"), QStringLiteral("The issuer's JWK set: a file or an https URL."), QStringLiteral("FILE|URL"));
    const QCommandLineOption issuer(QStringLiteral("issuer"), QStringLiteral("Required issuer (exact match)."), QStringLiteral("I"));
    const QCommandLineOption audience(QStringLiteral("audience"), QStringLiteral("The client_id the token must be for."), QStringLiteral("A"));
    const QCommandLineOption nonce(QStringLiteral("nonce"), QStringLiteral("The nonce sent in the request."), QStringLiteral("N"));
    const QCommandLineOption subject(QStringLiteral("subject"), QStringLiteral("The expected subject."), QStringLiteral("SUB"));
    const QCommandLineOption now(QStringLiteral("now"), QStringLiteral("Check the times as if it were this moment (seconds since 1970)."), QStringLiteral("EPOCH"));
    const QCommandLineOption leeway(QStringLiteral("leeway"), QStringLiteral("Allowed clock skew in seconds (default 60)."), QStringLiteral("S"));
    const QCommandLineOption maxAge(QStringLiteral("max-age"), QStringLiteral("Require auth_time within this many seconds."), QStringLiteral("S"));
    parser.addOptions({jwks, issuer, audience, nonce, subject, now, leeway, maxAge});
    parser.addPositionalArgument(QStringLiteral("TOKEN"), QStringLiteral("The ID token, or - to read it from standard input."));

    const QString command = QStringLiteral("token verify");
    if (!parser.parse(QStringList{QStringLiteral("hotdesk token verify")} + args))
        return usageError(parser.errorText(), command);
    if (parser.isSet(QStringLiteral("help"))) {
        printOut(parser.helpText().replace(QLatin1String("hotdesk token verify"), QLatin1String("hotdesk token verify")).toUtf8());
        return ExitOk;
    }
    if (!parser.isSet(jwks))
        return usageError(QStringLiteral("--jwks is required"), command);
    if (parser.positionalArguments().size() != 1)
        return usageError(QStringLiteral("give exactly one TOKEN (or - for standard input)"), command);

    oidc::IdTokenRequirements req;
    if (parser.isSet(issuer))
        req.issuer = parser.value(issuer);
    if (parser.isSet(audience))
        req.clientId = parser.value(audience);
    if (parser.isSet(nonce))
        req.nonce = parser.value(nonce);
    if (parser.isSet(subject))
        req.subject = parser.value(subject);
    qint64 value = 0;
    if (parser.isSet(leeway)) {
        if (!parseNonNegative(parser.value(leeway), value))
            return usageError(QStringLiteral("--leeway takes a number of seconds"), command);
        req.leeway = std::chrono::seconds(value);
    }
    if (parser.isSet(maxAge)) {
        if (!parseNonNegative(parser.value(maxAge), value))
            return usageError(QStringLiteral("--max-age takes a number of seconds"), command);
        req.maxAuthAge = std::chrono::seconds(value);
    }
    SystemClock systemClock;
    std::optional<FixedClock> fixedClock;
    if (parser.isSet(now)) {
        if (!parseNonNegative(parser.value(now), value))
            return usageError(QStringLiteral("--now takes seconds since 1970"), command);
        fixedClock.emplace(value);
    }
    const Clock &clock = fixedClock ? static_cast<const Clock &>(*fixedClock) : systemClock;

    auto token = readTokenArgument(parser.positionalArguments().constFirst());
    if (!token)
        return reject(token.error());
    auto keys = loadKeys(parser.value(jwks), false);
    if (!keys)
        return reject(keys.error());
    if (!req.issuer)
        printErr(QStringLiteral("hotdesk: note: no --issuer given; the issuer is not checked"));
    if (!req.clientId)
        printErr(QStringLiteral("hotdesk: note: no --audience given; the audience is not checked"));

    auto idToken = oidc::validateIdToken(*token, *keys, req, clock);
    if (!idToken)
        return reject(idToken.error());
    printOut(QJsonDocument(idToken->claims()).toJson(QJsonDocument::Indented));
    return ExitOk;
}

int runJwsVerify(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Checks only the signature of a compact JWS and prints its payload.\n"
        "Every public-key algorithm is allowed, and HS256/384/512 when the set holds an oct key."));
    parser.addHelpOption();
    const QCommandLineOption jwks(QStringLiteral("jwks"), QStringLiteral("JWK set (or a single JWK): a file or an https URL."), QStringLiteral("FILE"));
    parser.addOption(jwks);
    parser.addPositionalArgument(QStringLiteral("TOKEN"), QStringLiteral("The JWS, or - to read it from standard input."));

    const QString command = QStringLiteral("jws verify");
    if (auto done = parseCommandLine(parser, command, args))
        return *done;
    if (!parser.isSet(jwks))
        return usageError(QStringLiteral("--jwks is required"), command);
    if (parser.positionalArguments().size() != 1)
        return usageError(QStringLiteral("give exactly one TOKEN (or - for standard input)"), command);

    auto token = readTokenArgument(parser.positionalArguments().constFirst());
    if (!token)
        return reject(token.error());
    auto keys = loadKeys(parser.value(jwks), true);
    if (!keys)
        return reject(keys.error());
    jose::JwsVerifyOptions options;
    options.allowed = keys->hasSymmetricKey() ? jose::AlgorithmSet::all() : jose::AlgorithmSet::asymmetric();
    auto jws = jose::verifyCompact(*token, *keys, options);
    if (!jws)
        return reject(jws.error());
    printOut(jws->payload);
    return ExitOk;
}

} // namespace hotdesk::cli
