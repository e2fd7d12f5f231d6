// Builds signed test tokens, including deliberately broken ones.
#pragma once

#include "core/jose/base64url.h"
#include "core/jose/jws.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace hotdesk::test {

// Signs exactly the given header text and payload text (no re-serialisation),
// so a test can produce duplicate members, odd whitespace or forbidden headers.
inline QByteArray signRaw(const QByteArray &headerJson, const QByteArray &payload, const jose::Jwk &key, jose::Algorithm alg)
{
    const QByteArray input = jose::base64UrlEncode(headerJson) + '.' + jose::base64UrlEncode(payload);
    auto sig = jose::createSignature(key, alg, input);
    if (!sig)
        qFatal("test signing failed: %s", qPrintable(sig.error().message));
    return input + '.' + jose::base64UrlEncode(*sig);
}

inline QByteArray compactJson(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

inline jose::Jwk generatedKey(jose::Algorithm alg, const QString &kid)
{
    auto key = jose::Jwk::generate(alg, kid);
    if (!key)
        qFatal("key generation failed: %s", qPrintable(key.error().message));
    return *key;
}

// The public half only, as a verifier would hold it.
inline jose::Jwk publicHalf(const jose::Jwk &key)
{
    auto pub = jose::Jwk::fromJson(key.toPublicJson());
    if (!pub)
        qFatal("public key import failed: %s", qPrintable(pub.error().message));
    return *pub;
}

} // namespace hotdesk::test
