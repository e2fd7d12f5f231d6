// Algorithm names and sets.
#include "algorithm.h"

#include <QStringList>

#include <array>

namespace hotdesk::jose {
namespace {

struct Entry {
    Algorithm alg;
    const char16_t *name;
};

constexpr std::array<Entry, 14> kNames{{
    {Algorithm::RS256, u"RS256"}, {Algorithm::RS384, u"RS384"}, {Algorithm::RS512, u"RS512"},
    {Algorithm::PS256, u"PS256"}, {Algorithm::PS384, u"PS384"}, {Algorithm::PS512, u"PS512"},
    {Algorithm::ES256, u"ES256"}, {Algorithm::ES384, u"ES384"}, {Algorithm::ES512, u"ES512"},
    {Algorithm::EdDSA, u"EdDSA"}, {Algorithm::Ed25519, u"Ed25519"},
    {Algorithm::HS256, u"HS256"}, {Algorithm::HS384, u"HS384"}, {Algorithm::HS512, u"HS512"},
}};

} // namespace

std::optional<Algorithm> algorithmFromName(QStringView name)
{
    for (const Entry &e : kNames) {
        if (name == QStringView(e.name))
            return e.alg;
    }
    return std::nullopt;
}

QString algorithmName(Algorithm alg)
{
    for (const Entry &e : kNames) {
        if (e.alg == alg)
            return QString::fromUtf16(e.name);
    }
    return {};
}

bool isSymmetric(Algorithm alg)
{
    return alg == Algorithm::HS256 || alg == Algorithm::HS384 || alg == Algorithm::HS512;
}

AlgorithmSet AlgorithmSet::asymmetric()
{
    AlgorithmSet set;
    for (const Entry &e : kNames) {
        if (!isSymmetric(e.alg))
            set.insert(e.alg);
    }
    return set;
}

AlgorithmSet AlgorithmSet::all()
{
    return asymmetric().insert(Algorithm::HS256).insert(Algorithm::HS384).insert(Algorithm::HS512);
}

QString AlgorithmSet::toString() const
{
    QStringList names;
    for (const Entry &e : kNames) {
        if (contains(e.alg))
            names << QString::fromUtf16(e.name);
    }
    return names.join(QStringLiteral(", "));
}

} // namespace hotdesk::jose
