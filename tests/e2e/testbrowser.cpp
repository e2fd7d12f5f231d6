// hotdesk-test-browser URL: the stand-in "system browser" of the tests ($BROWSER), an HTTP client that follows the sign-in to the loopback redirect.
#include "flowfollower.h"

#include <QCoreApplication>

#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const QString ca = qEnvironmentVariable("HOTDESK_TEST_CA");
    if (args.size() != 2 || ca.isEmpty()) {
        std::fputs("usage: HOTDESK_TEST_CA=ca.pem hotdesk-test-browser URL\n", stderr);
        return 2;
    }
    hotdesk::test::FlowFollower follower(ca);
    // A real browser would deliver whatever comes back to http://127.0.0.1 or [::1].
    auto result = follower.follow(QUrl(args.at(1)), QStringLiteral("http://127.0.0.1:"));
    if (!result.reachedRedirect) {
        std::fprintf(stderr, "hotdesk-test-browser: %s\n", qPrintable(result.error));
        return 1;
    }
    return 0;
}
