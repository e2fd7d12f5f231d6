// Signed push responses and the simulated phones' key files.
#include "pushprotocol.h"

#include "core/jose/base64url.h"
#include "core/jose/jws.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>
#include <QUrl>

namespace hotdesk::stubs::push {

QByteArray pushSigningInput(const QString &id, const QString &nonce, const QString &decision, std::optional<int> number)
{
    QByteArray input("hotdesk-push-v1\n");
    input += id.toUtf8() + '\n' + nonce.toUtf8() + '\n' + decision.toUtf8() + '\n';
    if (number)
        input += QByteArray::number(*number);
    return input;
}

Result<QByteArray> signPushResponse(const jose::Jwk &phoneKey, const QString &id, const QString &nonce, const QString &decision,
                                    std::optional<int> number)
{
    auto signature = jose::createSignature(phoneKey, jose::Algorithm::ES256, pushSigningInput(id, nonce, decision, number));
    if (!signature)
        return tl::unexpected(signature.error());
    return jose::base64UrlEncode(*signature);
}

Status checkPushUser(const QString &user)
{
    if (user.isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("the user name is empty"));
    if (user.size() > kPushMaxUserLength)
        return fail(ErrorCode::Malformed, QStringLiteral("the user name is longer than %1 characters").arg(kPushMaxUserLength));
    for (const QChar c : user) {
        if (c.category() == QChar::Other_Control)
            return fail(ErrorCode::Malformed, QStringLiteral("the user name contains a control character"));
        // The phone endpoints carry the name as one path segment.
        if (c == QLatin1Char('/'))
            return fail(ErrorCode::Malformed,
                        QStringLiteral("the user name contains \"/\", which the push provider does not accept"));
    }
    return {};
}

QString phoneKeyPath(const QString &dataDir, const QString &user)
{
    const QByteArray name = QUrl::toPercentEncoding(user, "@+");
    return QDir(dataDir).filePath(QStringLiteral("phones/") + QString::fromLatin1(name) + QStringLiteral(".json"));
}

Result<jose::Jwk> loadPhoneKey(const QString &dataDir, const QString &user)
{
    const QString path = phoneKeyPath(dataDir, user);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorCode::Io,
                    QStringLiteral("%1 has no simulated phone (%2: %3); run 'hotdesk-stubs phone enroll %1' first")
                        .arg(user, path, file.errorString()));
    jose::JwkOptions options;
    options.allowPrivate = true;
    auto key = jose::Jwk::fromJson(file.readAll(), options);
    if (!key)
        return fail(key.error().code,
                    QStringLiteral("%1: %2; delete it and enroll the phone again").arg(path, key.error().message));
    if (!key->isPrivate() || !key->fits(jose::Algorithm::ES256))
        return fail(ErrorCode::KeyRejected,
                    QStringLiteral("%1 is not a private EC P-256 key; delete it and enroll the phone again").arg(path));
    return key;
}

Result<jose::Jwk> loadOrCreatePhoneKey(const QString &dataDir, const QString &user)
{
    const QString path = phoneKeyPath(dataDir, user);
    if (QFile::exists(path))
        return loadPhoneKey(dataDir, user);
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return fail(ErrorCode::Io, QStringLiteral("cannot create the directory %1").arg(QFileInfo(path).absolutePath()));
    auto key = jose::Jwk::generate(jose::Algorithm::ES256);
    if (!key)
        return tl::unexpected(key.error());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    // Restrict the file before the private key is written into it.
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(QJsonDocument(key->toPrivateJson()).toJson());
    if (!file.commit())
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return key;
}

} // namespace hotdesk::stubs::push
