// Local CA and server certificate generation with OpenSSL's X509 API.
#include "localca.h"

#include "core/opensslptr.h"

#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QSaveFile>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace hotdesk::stubs {
namespace {

using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;

tl::unexpected<Error> cryptoError(const QString &what)
{
    return fail(ErrorCode::CryptoFailure, QStringLiteral("could not create the local CA: %1").arg(what));
}

QByteArray bioBytes(BIO *bio)
{
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return QByteArray(data, int(len));
}

QByteArray pemOfKey(EVP_PKEY *key)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    return bioBytes(bio.get());
}

QByteArray pemOfCert(X509 *cert)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert);
    return bioBytes(bio.get());
}

bool addExtension(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext)
        return false;
    const bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

// A certificate for subjectKey, signed by issuerKey (self-signed when issuer is null).
X509Ptr makeCertificate(EVP_PKEY *subjectKey, const char *commonName, X509 *issuer, EVP_PKEY *issuerKey, bool isCa, long days,
    const QByteArray &altNames = "DNS:localhost,IP:127.0.0.1,IP:::1")
{
    X509Ptr cert(X509_new());
    if (!cert)
        return nullptr;
    X509_set_version(cert.get(), X509_VERSION_3);
    BignumPtr serial(BN_new());
    BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600);
    X509_set_pubkey(cert.get(), subjectKey);
    X509_NAME *name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("Hotdesk companion servers"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>(commonName), -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509 *issuerCert = issuer ? issuer : cert.get();
    bool ok = addExtension(cert.get(), issuerCert, NID_subject_key_identifier, "hash");
    ok = ok && addExtension(cert.get(), issuerCert, NID_authority_key_identifier, "keyid:always");
    if (isCa) {
        ok = ok && addExtension(cert.get(), issuerCert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        ok = ok && addExtension(cert.get(), issuerCert, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        ok = ok && addExtension(cert.get(), issuerCert, NID_basic_constraints, "critical,CA:FALSE");
        ok = ok && addExtension(cert.get(), issuerCert, NID_key_usage, "critical,digitalSignature");
        ok = ok && addExtension(cert.get(), issuerCert, NID_ext_key_usage, "serverAuth");
        ok = ok && addExtension(cert.get(), issuerCert, NID_subject_alt_name, altNames.constData());
    }
    if (!ok || X509_sign(cert.get(), issuerKey ? issuerKey : subjectKey, EVP_sha256()) <= 0)
        return nullptr;
    return cert;
}

Status writePrivate(const QString &path, const QByteArray &bytes, bool secret)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    if (secret)
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(bytes);
    if (!file.commit())
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

Result<QByteArray> readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return fail(ErrorCode::Io, QStringLiteral("cannot read %1: %2").arg(path, f.errorString()));
    return f.readAll();
}

// The server certificate's subjectAltName: loopback always, plus hostName (a DNS name or an IP address).
QByteArray altNamesFor(const QString &hostName)
{
    QByteArray names = "DNS:localhost,IP:127.0.0.1,IP:::1";
    if (hostName.isEmpty() || hostName == QLatin1String("localhost") || hostName == QLatin1String("127.0.0.1")
        || hostName == QLatin1String("::1"))
        return names;
    const bool ip = !QHostAddress(hostName).isNull();
    return names + (ip ? ",IP:" : ",DNS:") + hostName.toLatin1();
}

bool certificateNames(const QSslCertificate &cert, const QString &hostName)
{
    if (hostName.isEmpty())
        return true;
    const QHostAddress ip(hostName);
    for (const QString &name : cert.subjectAlternativeNames().values(ip.isNull() ? QSsl::DnsEntry : QSsl::IpAddressEntry)) {
        if (ip.isNull() ? name.compare(hostName, Qt::CaseInsensitive) == 0 : QHostAddress(name) == ip)
            return true;
    }
    return false;
}

EvpPkeyPtr readKey(const QByteArray &pem)
{
    BioPtr bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    return EvpPkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

X509Ptr readCert(const QByteArray &pem)
{
    BioPtr bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

} // namespace

Result<LocalCa> LocalCa::loadOrCreate(const QString &dataDir, const QString &hostName)
{
    auto ca = loadOrCreate(dataDir);
    if (!ca || certificateNames(ca->m_serverCert, hostName))
        return ca;
    // Another host's name: a new server certificate for the same key, signed by
    // this directory's CA (copied with the directory from the first host).
    const QDir dir(dataDir);
    auto caPem = readAll(dir.filePath(QStringLiteral("ca.pem")));
    auto caKeyPem = readAll(dir.filePath(QStringLiteral("ca-key.pem")));
    auto keyPem = readAll(dir.filePath(QStringLiteral("server-key.pem")));
    for (const auto *r : {&caPem, &caKeyPem, &keyPem}) {
        if (!*r)
            return fail(ErrorCode::Io, QStringLiteral("%1; the CA key is needed to add %2 to the server certificate").arg(r->error().message, hostName));
    }
    X509Ptr caCert = readCert(*caPem);
    EvpPkeyPtr caKey = readKey(*caKeyPem);
    EvpPkeyPtr serverKey = readKey(*keyPem);
    if (!caCert || !caKey || !serverKey)
        return cryptoError(QStringLiteral("the CA or server key in %1 cannot be read").arg(dataDir));
    X509Ptr server = makeCertificate(serverKey.get(), "localhost", caCert.get(), caKey.get(), false, 825, altNamesFor(hostName));
    if (!server)
        return cryptoError(QStringLiteral("the server certificate for %1 could not be signed").arg(hostName));
    if (auto ok = writePrivate(dir.filePath(QStringLiteral("server.pem")), pemOfCert(server.get()), false); !ok)
        return tl::unexpected(ok.error());
    return loadOrCreate(dataDir);
}

Result<LocalCa> LocalCa::loadOrCreate(const QString &dataDir)
{
    const QDir dir(dataDir);
    const QString caFile = dir.filePath(QStringLiteral("ca.pem"));
    const QString caKeyFile = dir.filePath(QStringLiteral("ca-key.pem"));
    const QString certFile = dir.filePath(QStringLiteral("server.pem"));
    const QString keyFile = dir.filePath(QStringLiteral("server-key.pem"));

    if (!QFile::exists(certFile) || !QFile::exists(keyFile) || !QFile::exists(caFile)) {
        EvpPkeyPtr caKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        EvpPkeyPtr serverKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        if (!caKey || !serverKey)
            return cryptoError(QStringLiteral("key generation failed"));
        X509Ptr ca = makeCertificate(caKey.get(), "Hotdesk local CA", nullptr, nullptr, true, 3650);
        if (!ca)
            return cryptoError(QStringLiteral("the CA certificate could not be signed"));
        X509Ptr server = makeCertificate(serverKey.get(), "localhost", ca.get(), caKey.get(), false, 825);
        if (!server)
            return cryptoError(QStringLiteral("the server certificate could not be signed"));
        // Keys first, then certificates: a crash in between leaves no certificate without its key.
        for (auto [path, bytes, secret] : {std::tuple{caKeyFile, pemOfKey(caKey.get()), true},
                                           std::tuple{keyFile, pemOfKey(serverKey.get()), true},
                                           std::tuple{caFile, pemOfCert(ca.get()), false},
                                           std::tuple{certFile, pemOfCert(server.get()), false}}) {
            if (auto ok = writePrivate(path, bytes, secret); !ok)
                return tl::unexpected(ok.error());
        }
    }

    LocalCa out;
    out.m_caFile = caFile;
    auto caPem = readAll(caFile);
    auto certPem = readAll(certFile);
    auto keyPem = readAll(keyFile);
    for (const auto *r : {&caPem, &certPem, &keyPem}) {
        if (!*r)
            return tl::unexpected(r->error());
    }
    out.m_ca = QSslCertificate(*caPem, QSsl::Pem);
    out.m_serverCert = QSslCertificate(*certPem, QSsl::Pem);
    out.m_serverKey = QSslKey(*keyPem, QSsl::Ec, QSsl::Pem, QSsl::PrivateKey);
    if (out.m_ca.isNull() || out.m_serverCert.isNull() || out.m_serverKey.isNull())
        return fail(ErrorCode::Malformed, QStringLiteral("the certificates in %1 cannot be read; delete ca.pem, server.pem and their keys to make new ones").arg(dataDir));
    return out;
}

} // namespace hotdesk::stubs
