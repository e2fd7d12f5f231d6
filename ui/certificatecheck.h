// Whether a TLS server's certificate chain is trusted by a given set of CA certificates.
#pragma once

#include "core/result.h"

#include <QList>
#include <QSslCertificate>
#include <QString>

namespace hotdesk::ui {

// Verifies chain (the server's certificate first, then the intermediates it
// presented) for a TLS server named host (a DNS name or an IP address) against
// exactly the trust anchors given: the issuer path must end at one of them,
// every certificate must be within its validity period, usable for a TLS
// server, and the leaf must name host. Error: Tls with OpenSSL's reason.
//
// Why not QSslCertificate::verify(): in Qt 6.4 it always verifies against
// QSslConfiguration::defaultConfiguration()'s CA list, and changing that list
// would change the trust of every connection in the process. OpenSSL's
// X509_verify_cert with a store of our own keeps the check local.
Status verifyCertificateChain(
    const QList<QSslCertificate> &chain, const QString &host, const QList<QSslCertificate> &trustAnchors);

// The anchors the agent trusts: the system store plus the policy's extra CAs.
QList<QSslCertificate> agentTrustAnchors(const QList<QSslCertificate> &extraCaCertificates);

} // namespace hotdesk::ui
