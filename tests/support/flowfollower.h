// A browser without JavaScript, for tests: follows an authorization URL through the IdP's pages to the redirect.
#pragma once

#include <QEventLoop>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSslConfiguration>
#include <QThread>
#include <QTimer>
#include <QUrl>

namespace hotdesk::test {

struct FollowResult {
    bool reachedRedirect = false; // a redirect left the IdP for redirectPrefix
    QUrl redirect;                // where it went
    int lastStatus = 0;           // the last HTTP status seen
    QByteArray lastBody;
    QString error;
};

// GETs the URL and follows Location headers and <meta http-equiv="refresh">
// as a browser without JavaScript would, until a Location points at
// redirectPrefix (the agent's loopback listener, or a private-use scheme).
// Unless stopAtRedirect, that last URL is fetched too, as a browser would.
class FlowFollower {
public:
    explicit FlowFollower(const QString &caFile)
    {
        m_ssl = QSslConfiguration::defaultConfiguration();
        m_ssl.addCaCertificates(caFile);
    }

    // The IdP's page refreshes every 2 s; a test need not wait that long between looks.
    void setRefreshDelayMs(int ms) { m_refreshDelayMs = ms; }

    FollowResult follow(QUrl url, const QString &redirectPrefix, bool stopAtRedirect = false, int maxSteps = 200)
    {
        FollowResult result;
        for (int step = 0; step < maxSteps; ++step) {
            if (url.toString().startsWith(redirectPrefix)) {
                result.reachedRedirect = true;
                result.redirect = url;
                if (!stopAtRedirect && url.scheme().startsWith(QLatin1String("http")))
                    get(url, result);
                return result;
            }
            const QByteArray next = get(url, result);
            if (!result.error.isEmpty())
                return result;
            if (!next.isEmpty()) {
                url = url.resolved(QUrl::fromEncoded(next));
                continue;
            }
            static const QRegularExpression refresh(
                QStringLiteral("http-equiv=\"refresh\" content=\"(\\d+);url=([^\"]+)\""));
            const auto match = refresh.match(QString::fromUtf8(result.lastBody));
            if (result.lastStatus == 200 && match.hasMatch()) {
                wait(m_refreshDelayMs);
                url = url.resolved(QUrl(match.captured(2).replace(QLatin1String("&amp;"), QLatin1String("&"))));
                continue;
            }
            result.error = QStringLiteral("stopped at %1 with status %2").arg(url.toString()).arg(result.lastStatus);
            return result;
        }
        result.error = QStringLiteral("too many steps");
        return result;
    }

private:
    // Returns the Location of a redirect, empty otherwise.
    QByteArray get(const QUrl &url, FollowResult &result)
    {
        QNetworkRequest request(url);
        request.setSslConfiguration(m_ssl);
        request.setTransferTimeout(30000);
        request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
        QNetworkReply *reply = m_manager.get(request);
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        reply->deleteLater();
        result.lastStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        result.lastBody = reply->readAll();
        if (result.lastStatus == 0) {
            result.error = QStringLiteral("%1: %2").arg(url.toString(), reply->errorString());
            return {};
        }
        if (result.lastStatus >= 300 && result.lastStatus < 400)
            return reply->rawHeader("Location");
        return {};
    }

    static void wait(int ms)
    {
        QEventLoop loop;
        QTimer::singleShot(ms, &loop, &QEventLoop::quit);
        loop.exec();
    }

    QNetworkAccessManager m_manager;
    QSslConfiguration m_ssl;
    int m_refreshDelayMs = 200;
};

} // namespace hotdesk::test
