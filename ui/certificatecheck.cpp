// Certificate chain verification with OpenSSL's X509 API and a store of our own.
#include "certificatecheck.h"

#include "core/opensslptr.h"

#include <QHostAddress>
#include <QSslConfiguration>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace hotdesk::ui {
namespace {

using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>>;

void freeX509Stack(STACK_OF(X509) * stack)
{
    sk_X509_pop_free(stack, X509_free);
}
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OpenSslDeleter<freeX509Stack>>;

X509Ptr toX509(const QSslCertificate &certificate)
{
    const QByteArray der = certificate.toDer();
    const auto *data = reinterpret_cast<const unsigned char *>(der.constData());
    return X509Ptr(d2i_X509(nullptr, &data, der.size()));
}

tl::unexpected<Error> tlsError(const QString &host, const QString &reason)
{
    return fail(ErrorCode::Tls, QStringLiteral("the certificate of %1 is not trusted: %2").arg(host, reason));
}

} // namespace

Status verifyCertificateChain(
    const QList<QSslCertificate> &chain, const QString &host, const QList<QSslCertificate> &trustAnchors)
{
    if (chain.isEmpty())
        return tlsError(host, QStringLiteral("the server presented no certificate"));
    if (host.isEmpty())
        return tlsError(host, QStringLiteral("no host name to check the certificate against"));

    X509StorePtr store(X509_STORE_new());
    if (!store)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("X509_STORE_new failed"));
    for (const QSslCertificate &anchor : trustAnchors) {
        X509Ptr x509 = toX509(anchor);
        // X509_STORE_add_cert takes its own reference; a duplicate is no error worth stopping for.
        if (x509)
            X509_STORE_add_cert(store.get(), x509.get());
    }

    X509Ptr leaf = toX509(chain.first());
    if (!leaf)
        return tlsError(host, QStringLiteral("the server's certificate cannot be parsed"));
    X509StackPtr untrusted(sk_X509_new_null());
    if (!untrusted)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("sk_X509_new_null failed"));
    for (qsizetype i = 1; i < chain.size(); ++i) {
        X509Ptr intermediate = toX509(chain.at(i));
        if (intermediate && sk_X509_push(untrusted.get(), intermediate.get()) > 0)
            intermediate.release(); // the stack owns it now
    }

    X509StoreCtxPtr context(X509_STORE_CTX_new());
    if (!context || X509_STORE_CTX_init(context.get(), store.get(), leaf.get(), untrusted.get()) != 1)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("X509_STORE_CTX_init failed"));
    X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(context.get());
    const QByteArray hostBytes = host.toUtf8();
    // An IP literal must match an IP address entry of subjectAltName, never a DNS name.
    const bool isAddress = !QHostAddress(host).isNull();
    const int hostSet = isAddress ? X509_VERIFY_PARAM_set1_ip_asc(param, hostBytes.constData())
                                  : X509_VERIFY_PARAM_set1_host(param, hostBytes.constData(), size_t(hostBytes.size()));
    if (hostSet != 1)
        return tlsError(host, QStringLiteral("the host name cannot be checked"));
    if (!isAddress)
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);

    if (X509_verify_cert(context.get()) == 1)
        return {};
    const int code = X509_STORE_CTX_get_error(context.get());
    return tlsError(host, QString::fromUtf8(X509_verify_cert_error_string(code)));
}

QList<QSslCertificate> agentTrustAnchors(const QList<QSslCertificate> &extraCaCertificates)
{
    return QSslConfiguration::systemCaCertificates() + extraCaCertificates;
}

} // namespace hotdesk::ui
