// Fuzz target: JWK and JWK set import. The first byte picks the import options
// (bit 0 allows oct keys, bit 1 private keys); the rest is the JSON text.
#include "fuzztarget.h"

#include "core/jose/jwk.h"

#include <QJsonDocument>

using namespace hotdesk;

namespace {

QString describe(const jose::Jwk &key)
{
    return QStringLiteral("kid \"%1\", thumbprint %2").arg(key.kid(), QString::fromLatin1(key.thumbprint()));
}

// What the importer hands out must be importable again as the same key, from
// the JSON text Qt writes for it.
void checkRoundTrip(const jose::Jwk &key, const jose::JwkOptions &options)
{
    const bool refused = key.type() == jose::Jwk::Type::Oct ? !options.allowSymmetric : (key.isPrivate() && !options.allowPrivate);
    if (refused)
        fuzz::invariantBroken("fuzz_jwks", QStringLiteral("a key the options refuse was imported (%1)").arg(describe(key)));

    const QByteArray thumbprint = key.thumbprint();
    // An oct key has no public half: toPublicJson() leaves out "k" on purpose.
    if (key.type() != jose::Jwk::Type::Oct) {
        const QByteArray published = QJsonDocument(key.toPublicJson()).toJson(QJsonDocument::Compact);
        const auto again = jose::Jwk::fromJson(published);
        if (!again)
            fuzz::invariantBroken("fuzz_jwks", QStringLiteral("the public JWK of an imported key is refused (%1): %2; %3")
                                                   .arg(describe(key), again.error().message, QString::fromUtf8(published)));
        if (again->thumbprint() != thumbprint)
            fuzz::invariantBroken("fuzz_jwks", QStringLiteral("the public JWK names another key (%1)").arg(describe(key)));
        if (again->isPrivate())
            fuzz::invariantBroken("fuzz_jwks", QStringLiteral("the public JWK carries private members (%1)").arg(describe(key)));
    }
    if (key.isPrivate()) {
        const QByteArray stored = QJsonDocument(key.toPrivateJson()).toJson(QJsonDocument::Compact);
        const auto again = jose::Jwk::fromJson(stored, options);
        if (!again)
            fuzz::invariantBroken("fuzz_jwks", QStringLiteral("the private JWK of an imported key is refused (%1): %2")
                                                   .arg(describe(key), again.error().message));
        if (again->thumbprint() != thumbprint || !again->isPrivate())
            fuzz::invariantBroken("fuzz_jwks", QStringLiteral("the private JWK names another key (%1)").arg(describe(key)));
    }
}

} // namespace

HOTDESK_FUZZ_TARGET(fuzz_jwks)
{
    if (size == 0)
        return 0;
    jose::JwkOptions options;
    options.allowSymmetric = (data[0] & 1) != 0;
    options.allowPrivate = (data[0] & 2) != 0;
    const QByteArrayView json = fuzz::bytesOf(data + 1, size - 1);

    QList<jose::Jwk> imported;
    const auto set = jose::JwkSet::fromJson(json, options);
    if (set)
        imported = set->keys();
    const auto single = jose::Jwk::fromJson(json, options);
    if (single)
        imported.append(*single);
    fuzz::noteOutcome(imported.isEmpty() ? single.error().codeName() : QStringLiteral("accepted"));

    for (const jose::Jwk &key : std::as_const(imported))
        checkRoundTrip(key, options);
    return 0;
}
