// Loopback-based frontends.
#include "frontend.h"

namespace hotdesk::flow {

LoopbackFrontend::LoopbackFrontend(Opener opener, QObject *parent)
    : AuthorizationFrontend(parent)
    , m_opener(std::move(opener))
{
}

Result<QString> LoopbackFrontend::prepare()
{
    close();
    m_receiver = new oidc::LoopbackReceiver(this);
    if (auto ok = m_receiver->listen(); !ok)
        return tl::unexpected(ok.error());
    connect(m_receiver, &oidc::LoopbackReceiver::received, this, &AuthorizationFrontend::redirected);
    return m_receiver->redirectUri();
}

void LoopbackFrontend::open(const QUrl &authorizationUrl)
{
    if (auto ok = m_opener(authorizationUrl); !ok)
        Q_EMIT failed(ok.error());
}

void LoopbackFrontend::close()
{
    if (m_receiver) {
        m_receiver->disconnect(this);
        m_receiver->close();
        m_receiver->deleteLater();
        m_receiver = nullptr;
    }
}

} // namespace hotdesk::flow
