// FallbackIdleSource: asks several idle sources in order and remembers the one that answered.
#include "fallbackidlesource.h"

#include <QCoreApplication>
#include <QStringList>

namespace hotdesk::platform {

namespace {
// tr() for a class that is not a QObject.
struct Tr {
    Q_DECLARE_TR_FUNCTIONS(hotdesk::platform::FallbackIdleSource)
};
} // namespace

// One query walks the sources, the remembered one first, then the others in the given order.
struct FallbackIdleSource::Query {
    std::vector<std::size_t> order;
    std::size_t position = 0;
    QStringList failures;
    Callback done;
};

FallbackIdleSource::FallbackIdleSource(std::vector<std::unique_ptr<IdleSource>> sources)
    : m_sources(std::move(sources))
    , m_self(std::make_shared<FallbackIdleSource *>(this))
{
}

FallbackIdleSource::~FallbackIdleSource() = default;

QString FallbackIdleSource::name() const
{
    return m_answered ? m_sources.at(m_preferred)->name() : QString();
}

void FallbackIdleSource::queryIdleTime(Callback done)
{
    auto query = std::make_shared<Query>();
    query->done = std::move(done);
    if (!m_sources.empty()) {
        query->order.push_back(m_preferred);
        for (std::size_t i = 0; i < m_sources.size(); ++i) {
            if (i != m_preferred)
                query->order.push_back(i);
        }
    }
    attempt(query);
}

void FallbackIdleSource::attempt(const std::shared_ptr<Query> &query)
{
    if (query->position >= query->order.size()) {
        m_preferred = 0;
        m_answered = false;
        // Each source's message is whole sentences saying what failed and what to do.
        query->done(fail(ErrorCode::Unsupported,
            query->failures.isEmpty() ? Tr::tr("No source of idle time is available on this system.")
                                      : query->failures.join(QLatin1Char(' '))));
        return;
    }
    const std::size_t index = query->order.at(query->position);
    std::weak_ptr<FallbackIdleSource *> self = m_self;
    m_sources.at(index)->queryIdleTime([self, query, index](Result<std::chrono::milliseconds> idle) {
        const auto alive = self.lock();
        if (!alive)
            return;
        FallbackIdleSource *that = *alive;
        if (idle) {
            that->m_preferred = index;
            that->m_answered = true;
            query->done(*idle);
            return;
        }
        query->failures << idle.error().message;
        ++query->position;
        that->attempt(query);
    });
}

} // namespace hotdesk::platform
