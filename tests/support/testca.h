// A throwaway certificate authority for tests of TLS clients and browsers, made
// with the openssl command so that such tests need none of the servers' code.
#pragma once

#include "core/result.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSslCertificate>
#include <QSslKey>
#include <QString>
#include <QStringList>

namespace hotdesk::test {

class TestCa {
public:
    // Writes into DIR a P-256 CA (ca.pem, ca-key.pem) valid for two days and a
    // server certificate for 127.0.0.1, ::1 and localhost signed by it.
    static Result<TestCa> create(const QString &dir)
    {
        const QDir at(dir);
        const auto path = [&](const char *name) { return at.filePath(QString::fromLatin1(name)); };
        QFile extensions(path("server.ext"));
        if (!extensions.open(QIODevice::WriteOnly))
            return hotdesk::fail(ErrorCode::Io, QStringLiteral("cannot write %1").arg(extensions.fileName()));
        extensions.write("basicConstraints=critical,CA:FALSE\n"
                         "keyUsage=critical,digitalSignature\n"
                         "extendedKeyUsage=serverAuth\n"
                         "subjectKeyIdentifier=hash\n"
                         "authorityKeyIdentifier=keyid\n"
                         "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n");
        extensions.close();
        const QStringList newKey {QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
            QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes")};
        const QList<QStringList> steps {
            QStringList {QStringLiteral("req"), QStringLiteral("-x509")} + newKey
                + QStringList {QStringLiteral("-keyout"), path("ca-key.pem"), QStringLiteral("-out"), path("ca.pem"),
                    QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"), QStringLiteral("/CN=Hotdesk test CA"),
                    QStringLiteral("-addext"), QStringLiteral("basicConstraints=critical,CA:TRUE"), QStringLiteral("-addext"),
                    QStringLiteral("keyUsage=critical,keyCertSign,cRLSign")},
            QStringList {QStringLiteral("req"), QStringLiteral("-new")} + newKey
                + QStringList {QStringLiteral("-keyout"), path("server-key.pem"), QStringLiteral("-out"), path("server.csr"),
                    QStringLiteral("-subj"), QStringLiteral("/CN=localhost")},
            QStringList {QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"), path("server.csr"),
                QStringLiteral("-CA"), path("ca.pem"), QStringLiteral("-CAkey"), path("ca-key.pem"),
                QStringLiteral("-set_serial"), QStringLiteral("2"), QStringLiteral("-days"), QStringLiteral("2"),
                QStringLiteral("-extfile"), path("server.ext"), QStringLiteral("-out"), path("server.pem")},
        };
        for (const QStringList &arguments : steps) {
            QProcess openssl;
            openssl.setProcessChannelMode(QProcess::MergedChannels);
            openssl.start(QStringLiteral("openssl"), arguments);
            if (!openssl.waitForFinished(30000) || openssl.exitStatus() != QProcess::NormalExit || openssl.exitCode() != 0)
                return hotdesk::fail(ErrorCode::Io,
                    QStringLiteral("openssl %1 failed: %2")
                        .arg(
                            arguments.join(QLatin1Char(' ')), QString::fromLocal8Bit(openssl.readAll()) + openssl.errorString()));
        }
        TestCa ca;
        ca.m_caFile = path("ca.pem");
        const auto authority = QSslCertificate::fromPath(ca.m_caFile);
        const auto server = QSslCertificate::fromPath(path("server.pem"));
        QFile key(path("server-key.pem"));
        if (authority.size() != 1 || server.size() != 1 || !key.open(QIODevice::ReadOnly))
            return hotdesk::fail(ErrorCode::Io, QStringLiteral("openssl wrote no readable certificates in %1").arg(dir));
        ca.m_ca = authority.first();
        ca.m_serverCert = server.first();
        ca.m_serverKey = QSslKey(key.readAll(), QSsl::Ec, QSsl::Pem);
        if (ca.m_serverKey.isNull())
            return hotdesk::fail(ErrorCode::Io, QStringLiteral("the server key in %1 is not an EC key").arg(key.fileName()));
        return ca;
    }

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

} // namespace hotdesk::test
