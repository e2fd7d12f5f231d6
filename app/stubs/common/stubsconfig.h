// Settings shared by the companion server roles of one hotdesk-stubs process.
#pragma once

#include "core/clock.h"
#include "keyring.h"
#include "localca.h"
#include "smtpmailer.h"
#include "store.h"

#include <QString>
#include <QStringList>
#include <QUrl>

#include <chrono>
#include <memory>
#include <optional>

namespace hotdesk::stubs {

// Where each role can be reached; filled in as the roles start listening.
struct Endpoints {
    QUrl das;
    QUrl idp;
    QUrl push;
    QUrl enterprise;

    // The entry of a role by its name ("das", "idp", "push", "enterprise"); nullptr for any other name.
    QUrl *forRole(QStringView role)
    {
        return role == u"das" ? &das : role == u"idp" ? &idp : role == u"push" ? &push : role == u"enterprise" ? &enterprise : nullptr;
    }
};

// DIR/endpoints.json, written by a running "hotdesk-stubs all" (or one role),
// tells the administration subcommands, and roles that run in other processes
// on that directory, where the servers listen.
Result<Endpoints> readEndpoints(const QString &dataDir);

struct StubsContext {
    QString dataDir;
    Store *store = nullptr;
    const LocalCa *ca = nullptr;
    const Clock *clock = nullptr;
    Endpoints endpoints;
    QString clientId = QStringLiteral("hotdesk-agent");
    // --fault NAME[=VALUE], repeatable: deliberate misbehaviour for the agent's
    // failure tests (docs/faults.md). Empty in normal operation.
    QStringList faults;
    bool hasFault(const QString &name) const
    {
        for (const QString &f : faults) {
            if (f == name || f.startsWith(name + QLatin1Char('=')))
                return true;
        }
        return false;
    }
    QString faultValue(const QString &name) const
    {
        for (const QString &f : faults) {
            if (f.startsWith(name + QLatin1Char('=')))
                return f.mid(name.size() + 1);
        }
        return {};
    }

    // --public-url: the URL agents reach the DAS at when several DAS processes
    // share one database behind a load balancer; device tokens and SPAKE2 are
    // bound to it. Empty: the DAS's own listening URL.
    QString dasPublicUrl;
    // --smtp: the DAS also mails one-time codes (the outbox file is written either way).
    std::optional<SmtpSettings> smtp;
    // --issuer: the OpenID Provider the DAS writes request objects for; empty: the in-process IdP.
    QString issuer;
    // Lifetime of ID and access tokens; a rotated key stays published this long.
    std::chrono::seconds tokenLifetime{600};
    // --auto-approve[=DELAY]: simulated phones approve every challenge after this delay.
    std::optional<std::chrono::milliseconds> autoApprove;
    // --ciba-interval: the poll interval the IdP gives CIBA clients (docs/ciba.md).
    std::chrono::seconds cibaInterval {5};
};

} // namespace hotdesk::stubs
