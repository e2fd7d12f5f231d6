// Typed reading of JWT claims shared by the device-token and activation checks.
#pragma once

#include "../result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <cmath>
#include <optional>

namespace hotdesk::das::detail {

// NumericDate (RFC 7519 §2) in whole seconds; a fraction is truncated.
inline Result<std::optional<qint64>> numericDate(const QJsonObject &claims, const char *name, bool required)
{
    const QJsonValue v = claims.value(QLatin1String(name));
    if (v.isUndefined()) {
        if (required)
            return fail(ErrorCode::InvalidClaim, QStringLiteral("the token has no \"%1\" claim").arg(QLatin1String(name)));
        return std::optional<qint64>();
    }
    const double d = v.toDouble(-1);
    if (!v.isDouble() || !std::isfinite(d) || d < 0 || d > 253402300799.0)
        return fail(ErrorCode::InvalidClaim,
            QStringLiteral("the \"%1\" claim is not a time in seconds since 1970").arg(QLatin1String(name)));
    return std::optional<qint64>(qint64(d));
}

// A string claim; absent is an empty string, any other JSON type an error.
inline Result<QString> stringClaim(const QJsonObject &claims, const char *name)
{
    const QJsonValue v = claims.value(QLatin1String(name));
    if (v.isUndefined())
        return QString();
    if (!v.isString())
        return fail(ErrorCode::InvalidClaim, QStringLiteral("the \"%1\" claim is not a string").arg(QLatin1String(name)));
    return v.toString();
}

// "aud" as a string or an array of strings (RFC 7519 §4.1.3) that must name audience.
inline Status requireAudience(const QJsonObject &claims, const QString &audience)
{
    const QJsonValue aud = claims.value(QLatin1String("aud"));
    QStringList audiences;
    if (aud.isString()) {
        audiences << aud.toString();
    } else if (aud.isArray()) {
        for (const QJsonValue &entry : aud.toArray()) {
            if (!entry.isString())
                return fail(ErrorCode::InvalidClaim, QStringLiteral("the \"aud\" claim holds something other than strings"));
            audiences << entry.toString();
        }
    } else if (!aud.isUndefined()) {
        return fail(ErrorCode::InvalidClaim, QStringLiteral("the \"aud\" claim is neither a string nor an array"));
    }
    if (!audiences.contains(audience))
        return fail(ErrorCode::AudienceMismatch,
            QStringLiteral("the token is meant for \"%1\", not for \"%2\"")
                .arg(audiences.isEmpty() ? QStringLiteral("no audience") : audiences.join(QStringLiteral("\", \"")), audience));
    return {};
}

} // namespace hotdesk::das::detail
