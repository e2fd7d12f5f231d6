// JWS algorithms Hotdesk knows, and allowlists of them.
#pragma once

#include <QString>
#include <QStringView>

#include <cstdint>
#include <initializer_list>
#include <optional>

namespace hotdesk::jose {

enum class Algorithm : std::uint8_t {
    RS256, RS384, RS512,
    PS256, PS384, PS512,
    ES256, ES384, ES512,
    EdDSA,   // RFC 8037 (Ed25519 keys only here)
    Ed25519, // the fully specified name of RFC 9864
    HS256, HS384, HS512,
};

// nullopt for "none" and for names Hotdesk does not implement.
std::optional<Algorithm> algorithmFromName(QStringView name);
QString algorithmName(Algorithm alg);

bool isSymmetric(Algorithm alg);

class AlgorithmSet {
public:
    constexpr AlgorithmSet() = default;
    constexpr AlgorithmSet(std::initializer_list<Algorithm> algs)
    {
        for (Algorithm a : algs)
            m_bits |= bit(a);
    }

    // Every public-key algorithm above; the default for ID tokens.
    static AlgorithmSet asymmetric();
    // asymmetric() plus the HMAC algorithms.
    static AlgorithmSet all();

    constexpr bool contains(Algorithm a) const { return (m_bits & bit(a)) != 0; }
    constexpr bool isEmpty() const { return m_bits == 0; }
    AlgorithmSet &insert(Algorithm a)
    {
        m_bits |= bit(a);
        return *this;
    }
    AlgorithmSet &remove(Algorithm a)
    {
        m_bits &= ~bit(a);
        return *this;
    }
    QString toString() const; // "ES256, RS256, ..." for messages

private:
    static constexpr std::uint32_t bit(Algorithm a) { return 1u << static_cast<unsigned>(a); }
    std::uint32_t m_bits = 0;
};

} // namespace hotdesk::jose
