// Local CA and server certificate generation with OpenSSL's X509 API.
#include "localca.h"

#include "core/opensslptr.h"

#include <QDir>
#include <QFile>
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
X509Ptr makeCertificate(EVP_PKEY *subjectKey, const char *commonName, X509 *issuer, EVP_PKEY *issuerKey, bool isCa, long days)
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
        ok = ok && addExtension(cert.get(), issuerCert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
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

} // namespace

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
