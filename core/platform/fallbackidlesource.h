// FallbackIdleSource: several IdleSources asked in order, so one desktop's missing service is covered by the next source.
#pragma once

#include "platform.h"

#include <memory>
#include <vector>

namespace hotdesk::platform {

// Asks its sources in the order given until one answers, and from then on asks
// that one first: on a given desktop the same source keeps answering, so a
// query costs one call. When the remembered source fails, the others are asked
// from the top (the failed one is not asked twice in the same query). When all
// fail, the answer is ErrorCode::Unsupported with every source's message.
//
// Queries may overlap; each walks the sources on its own. Answers arriving
// after the FallbackIdleSource is gone are dropped (its sources are gone too).
class FallbackIdleSource final : public IdleSource {
public:
    explicit FallbackIdleSource(std::vector<std::unique_ptr<IdleSource>> sources);
    ~FallbackIdleSource() override;

    void queryIdleTime(Callback done) override;
    // The name of the source that answered last; empty before the first
    // answer and after every source failed.
    QString name() const override;

    // The source asked first: the one that answered last, else the first one.
    // For tests and diagnostics.
    std::size_t preferred() const { return m_preferred; }

private:
    struct Query;
    void attempt(const std::shared_ptr<Query> &query);

    std::vector<std::unique_ptr<IdleSource>> m_sources;
    std::size_t m_preferred = 0;
    bool m_answered = false;
    // Callbacks hold a weak reference: a source that answers after this object
    // was destroyed must not touch it.
    std::shared_ptr<FallbackIdleSource *> m_self;
};

} // namespace hotdesk::platform
