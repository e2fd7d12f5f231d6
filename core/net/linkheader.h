// Reading an HTTP Link header (RFC 8288), for the gateway's rel="install" link that "hotdesk open" follows.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>
#include <utility>

namespace hotdesk::net {

struct HttpResponse;

// One link-value: "<target>; rel="a b"; title=…".
struct WebLink {
    QUrl target; // resolved against the URL of the answer that carried it (RFC 8288 §3.1)
    QStringList rels; // the relation types of the first rel parameter, in lower case
    QList<std::pair<QString, QString>> params; // names in lower case, values unquoted; a repeated name keeps the first

    bool hasRel(QStringView rel) const;
    std::optional<QString> param(QStringView name) const;
};

// Every well-formed link-value of one Link field value (several are separated
// by commas). Quoted strings may hold commas, semicolons and escaped quotes;
// a malformed link-value is skipped up to the next comma outside quotes and
// angle brackets, so that one bad link does not hide the others. base
// resolves relative targets.
QList<WebLink> parseLinkHeader(QByteArrayView value, const QUrl &base = {});

// The links of every Link field of an answer, in order.
QList<WebLink> linksOf(const HttpResponse &response);

} // namespace hotdesk::net
