// The companion servers' own certificate authority: made once per data directory.
#pragma once

#include "core/result.h"

#include <QSslCertificate>
#include <QSslKey>
#include <QString>

namespace hotdesk::stubs {

class LocalCa {
public:
    // Loads DIR/ca.pem, DIR/server.pem and their keys, or creates them on first
    // run: an EC P-256 CA valid for ten years, and a server certificate for
    // 127.0.0.1, ::1 and localhost signed by it. Private keys are written 0600.
    static Result<LocalCa> loadOrCreate(const QString &dataDir);
    // The same, with a server certificate that also names hostName (a DNS name
    // or an IP address), for roles other hosts reach (a split deployment). A
    // certificate without that name is replaced, signed by DIR/ca-key.pem.
    static Result<LocalCa> loadOrCreate(const QString &dataDir, const QString &hostName);

    QString caFile() const { return m_caFile; }
    QSslCertificate caCertificate() const { return m_ca; }
    QSslCertificate serverCertificate() const { return m_serverCert; }
    QSslKey serverKey() const { return m_serverKey; }

private:
    QString m_caFile;
    QSslCertificate m_ca;
    QSslCertificate m_serverCert;
    QSslKey m_serverKey;
};

} // namespace hotdesk::stubs
